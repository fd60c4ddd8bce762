"""The ONNX Runtime backend of ``Inferer`` (mlcore.runtime): real onnxruntime sessions on the
CPU, networks with seeded random weights (parity does not depend on what they learnt).

Sizes: odd and even sides and non-square pictures, because the exported graph bakes sizes the
Python code computes (TF 'SAME' pads by parity, Pix2Pix's pad to 256, U-GAT-IT's to 4)."""

from __future__ import annotations

import logging
import sys

import pytest
import torch

from mlcore import runtime
from mlcore.inference import Inferer
from mlcore.registry import get_family
from mlcore.runtime import backend as backend_module
from mlcore.runtime.onnx_session import make_session

NETWORKS = {
    "johnson": ("fast_style", {}),
    "ml5": ("fast_style", {"variant": "engstrom"}),
    "pix2pix": ("pix2pix", {}),
    "ugatit-light": ("ugatit", {"light": True}),
    # a full generator resizes to its training size; small here to keep the test quick
    "ugatit-full": ("ugatit", {"light": False, "img_size": 64, "ngf": 16}),
}
SHAPES = [(1, 3, 257, 383), (1, 3, 256, 256), (1, 3, 300, 200)]


def _build(name: str):
    family_name, fields = NETWORKS[name]
    family = get_family(family_name)
    config = family.config_class(**fields)
    torch.manual_seed(0)
    return family, config, family.build(config)


def _picture(shape, seed: int = 1) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module", params=list(NETWORKS))
def pair(request):
    """(network name, Inferer on ONNX Runtime, Inferer on eager torch) sharing one network."""
    family, config, net = _build(request.param)
    return (request.param, Inferer(net, family=family, config=config, backend="onnxruntime"),
            Inferer(net, family=family, config=config, backend="torch"))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[2]}x{s[3]}")
def test_onnx_runtime_matches_eager_torch_within_one_grey_level(pair, shape):
    name, onnx, eager = pair
    x = _picture(shape)
    got, want = onnx.translate_tensor(x), eager.translate_tensor(x)
    assert onnx.backend == "onnxruntime" and eager.backend == "torch"
    assert got.dtype == torch.float32 and got.shape == x.shape
    assert 0.0 <= got.min() and got.max() <= 1.0
    assert (got - want).abs().mean().item() <= 1 / 255, name
    assert x.equal(_picture(shape)), "the caller's tensor is untouched"


def test_a_batch_of_two_runs_as_one_session_and_matches(pair):
    name, onnx, eager = pair
    x = _picture((2, 3, 130, 131))
    assert (onnx.translate_tensor(x) - eager.translate_tensor(x)).abs().mean().item() <= 1 / 255, name


def test_auto_is_onnx_runtime_for_photos_and_eager_for_thumbnails():
    family, config, net = _build("johnson")
    inferer = Inferer(net, family=family, config=config)
    assert inferer.backend == "onnxruntime"
    inferer.translate_tensor(_picture((1, 3, 256, 256)))
    assert inferer.backend_for(256, 256) == "onnxruntime"
    assert inferer.backend_for(64, 64) == "torch"


def test_auto_exports_only_for_work_that_comes_again():
    """An export costs seconds: a one-off picture (a preview, the first photo of its shape) runs
    eager, and the graph is made when the work repeats."""
    family, config, net = _build("johnson")  # one graph for pictures of every size
    inferer = Inferer(net, family=family, config=config)
    inferer.translate_tensor(_picture((1, 3, 256, 256)))
    assert inferer.last_backend == "torch" and inferer._onnx is None, "nothing was exported for the first picture"
    inferer.translate_tensor(_picture((1, 3, 200, 300)))
    assert inferer.last_backend == "onnxruntime", "the second picture, of another size, runs on the graph"
    assert inferer._onnx.dynamic

    family, config, net = _build("ml5")  # a graph per picture shape
    inferer = Inferer(net, family=family, config=config)
    for shape, expected in [((1, 3, 140, 141), "torch"), ((1, 3, 140, 141), "onnxruntime"),
                            ((1, 3, 150, 141), "torch"), ((1, 3, 140, 141), "onnxruntime")]:
        x = _picture(shape)
        got = inferer.translate_tensor(x)
        with torch.inference_mode():
            want = family.translate(net, x)
        assert inferer.last_backend == expected, shape
        assert (got - want).abs().mean().item() <= 1 / 255, shape
    assert (1, 3, 150, 141) not in inferer._onnx.shapes, "the one-off shape got no graph"


def test_a_run_again_asks_for_the_backend_its_original_ran_on_and_gets_the_same_pixels():
    from mlcore import images

    family, config, net = _build("ml5")
    photo = images.tensor_to_pil(_picture((1, 3, 140, 150), seed=3))
    worker = Inferer(net, family=family, config=config)
    first = worker.translate(photo)
    assert worker.last_backend == "torch", "a shape's first picture runs eager"
    again = worker.translate(photo, backend="torch")  # its run again, on a worker that has seen the shape
    assert worker.last_backend == "torch" and again.tobytes() == first.tobytes()

    on_onnx = worker.translate(photo)  # the shape's second picture: ONNX Runtime
    assert worker.last_backend == "onnxruntime" and on_onnx.tobytes() != first.tobytes()
    fresh = Inferer(net, family=family, config=config)  # another worker, which has not seen the shape
    repeated = fresh.translate(photo, backend="onnxruntime")
    assert fresh.last_backend == "onnxruntime" and repeated.tobytes() == on_onnx.tobytes()
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        fresh.translate(photo, backend="cuda")


def test_cuda_and_reduced_precision_stay_on_torch():
    family, config, net = _build("johnson")
    assert Inferer(net, family=family, config=config, dtype="bf16").backend == "torch"
    with pytest.raises(runtime.BackendUnavailable, match="fp32 only"):
        Inferer(net, family=family, config=config, dtype="bf16", backend="onnxruntime")


def test_an_unknown_backend_is_refused_in_words():
    family, config, net = _build("johnson")
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        Inferer(net, family=family, config=config, backend="tensorrt")


def test_without_onnxruntime_auto_runs_eager_and_forcing_it_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    family, config, net = _build("johnson")
    inferer = Inferer(net, family=family, config=config)
    assert inferer.backend == "torch"
    x = _picture((1, 3, 160, 170))
    with torch.inference_mode():
        want = family.translate(net, x)
    assert inferer.translate_tensor(x).equal(want)
    with pytest.raises(runtime.BackendUnavailable, match="onnxruntime is not installed"):
        Inferer(net, family=family, config=config, backend="onnxruntime")


def _broken_session(monkeypatch):
    """A session that answers with a wrong picture (what a runtime bug would look like)."""
    real = backend_module.run_session
    monkeypatch.setattr(backend_module, "run_session", lambda session, x: (real(session, x) + 0.5).clamp(0, 1))


def test_a_parity_failure_falls_back_to_eager_with_a_warning(monkeypatch, caplog):
    _broken_session(monkeypatch)
    family, config, net = _build("ml5")
    inferer = Inferer(net, family=family, config=config)
    with caplog.at_level(logging.WARNING, logger="mlcore.inference"):
        assert inferer.backend == "torch"
    assert "falls back to eager torch" in caplog.text and "MAE" in caplog.text
    x = _picture((1, 3, 150, 150))
    with torch.inference_mode():
        assert inferer.translate_tensor(x).equal(family.translate(net, x))


def test_a_parity_failure_with_onnxruntime_forced_is_refused(monkeypatch):
    _broken_session(monkeypatch)
    family, config, net = _build("ml5")
    with pytest.raises(runtime.BackendUnavailable, match=r"differs from eager torch by MAE \d+\.\d+/255"):
        Inferer(net, family=family, config=config, backend="onnxruntime")


def test_an_export_that_fails_at_one_shape_runs_that_shape_eager(monkeypatch, caplog):
    family, config, net = _build("ml5")  # exported per picture shape
    inferer = Inferer(net, family=family, config=config)
    assert inferer.backend == "onnxruntime"
    calls = []

    def refuse(*args):
        calls.append(args)
        raise RuntimeError("exporter cannot do this shape")

    monkeypatch.setattr(backend_module, "onnx_bytes", refuse)
    x = _picture((1, 3, 140, 141))
    with caplog.at_level(logging.WARNING, logger="mlcore.inference"):
        inferer.translate_tensor(x)  # the shape's first picture runs eager, unexported
        got = inferer.translate_tensor(x)
        inferer.translate_tensor(x)
    with torch.inference_mode():
        assert got.equal(family.translate(net, x))
    assert "running eager torch" in caplog.text and "exporter cannot do this shape" in caplog.text
    assert len(calls) == 1, "a shape that failed is not exported again"


def test_transformer_net_runs_every_size_on_one_graph_with_symbolic_sides():
    family, _, net = _build("johnson")
    translator = runtime.OnnxTranslator(family, net.eval())
    translator.check_parity()
    assert translator.dynamic and translator.dynamic_refusal is None
    for shape in [(1, 3, 257, 383), (1, 3, 300, 200), (1, 3, 64, 97)]:
        x = _picture(shape)
        with torch.inference_mode():
            want = family.translate(net, x)
        assert (translator.translate(x) - want).abs().mean().item() <= 1 / 255, shape
    assert translator.shapes == [], "no per-shape export was needed"
    small = _picture((1, 3, 40, 70))  # under DYNAMIC_MIN_SIDE: a graph of its own shape
    translator.translate(small)
    assert translator.shapes == [(1, 3, 40, 70)]


@pytest.mark.parametrize("name", ["ml5", "pix2pix"])
def test_networks_whose_graphs_depend_on_the_size_are_exported_per_picture_shape(name):
    family, _, net = _build(name)
    translator = runtime.OnnxTranslator(family, net.eval())
    translator.check_parity()
    assert not translator.dynamic and "exported per picture shape" in translator.dynamic_refusal
    assert translator.shapes == [runtime.PROBE_SHAPE]


def test_a_graph_with_symbolic_sides_that_is_wrong_at_the_probe_sizes_is_not_used(monkeypatch):
    real = backend_module.run_session
    # Right at the example size only, as a graph with a size baked in would be.
    monkeypatch.setattr(backend_module, "run_session",
                        lambda session, x: real(session, x) if x.shape[-1] != 190 else (real(session, x) + 0.5).clamp(0, 1))
    family, _, net = _build("johnson")
    translator = runtime.OnnxTranslator(family, net.eval())
    translator.check_parity()
    assert not translator.dynamic and "differs from eager torch" in translator.dynamic_refusal
    assert translator.shapes == [runtime.PROBE_SHAPE], "the static probe took over"

    family, _, net = _build("johnson")
    translator = runtime.OnnxTranslator(family, net.eval(), max_sessions=2)
    for shape in [(1, 3, 40, 40), (1, 3, 41, 40), (1, 3, 40, 40), (1, 3, 42, 40)]:
        translator.translate(_picture(shape))
    assert translator.shapes == [(1, 3, 40, 40), (1, 3, 42, 40)]


def test_sessions_use_torch_s_thread_count_one_inter_op_thread_and_do_not_spin():
    import onnxruntime as ort

    family, _, net = _build("johnson")
    from mlcore.runtime.graph import onnx_bytes

    session = make_session(onnx_bytes(family, net.eval(), torch.zeros(1, 3, 16, 16)))
    options = session.get_session_options()
    assert options.intra_op_num_threads == torch.get_num_threads()
    assert options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert isinstance(session, ort.InferenceSession)
