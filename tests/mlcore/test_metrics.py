"""FID, KID and LPIPS: the math, the loaders' offline behaviour, and the labelled fallback.

No published metric weights exist on this machine (and it cannot download them), so every
network here runs with RANDOM weights saved in the published layouts: the FID Inception from
torchvision's Inception v3 layout with 1008 classes and no aux head (the layout of
``pt_inception-2015-12-05-6726825d.pth``), LPIPS from a random VGG16 and random lin weights
with the lpips project's keys. These tests prove the loading, shapes, plumbing and formulas;
they say nothing about the published networks' numbers.
"""

from __future__ import annotations

import itertools
import urllib.error

import numpy as np
import pytest
import torch

from mlcore.metrics import (
    FALLBACK_LABEL,
    FallbackDistance,
    MetricUnavailable,
    compute_fid_kid,
    frechet_distance,
    kernel_inception_distance,
    load_inception,
    load_lpips,
    projection_distance,
)
from mlcore.metrics.lpips import LPIPS, LPIPS_LAYERS
from mlcore.vgg import VGGFeatures, load_vgg

WEIGHT_VARIABLES = ("RESTYLE_INCEPTION_WEIGHTS", "RESTYLE_LPIPS_WEIGHTS", "RESTYLE_VGG16_WEIGHTS", "RESTYLE_OFFLINE")


@pytest.fixture(autouse=True)
def fresh_offline_machine(tmp_path, monkeypatch):
    """An empty torch hub cache, no weights variables, and no network: torch hub's download
    (outside the project) fails as it does offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    for name in WEIGHT_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def offline(url, destination, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)


# --- Frechet distance -------------------------------------------------------------------------

def random_covariance(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_distance_is_zero_for_identical_statistics():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(32), random_covariance(rng, 32)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    var1, var2 = rng.uniform(0.1, 3, 10), rng.uniform(0.1, 3, 10)
    closed_form = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(closed_form, rel=1e-10)


def test_frechet_distance_trace_term_matches_the_product_eigenvalues_for_full_covariances():
    # tr((S1 S2)^(1/2)) is the sum of the square roots of S1 S2's (real, positive) eigenvalues
    rng = np.random.default_rng(2)
    s1, s2 = random_covariance(rng, 8), random_covariance(rng, 8)
    mu = np.zeros(8)
    trace_sqrt = np.sqrt(np.linalg.eigvals(s1 @ s2).real).sum()
    expected = np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(mu, s1, mu, s2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu, s1, mu, s2) == pytest.approx(frechet_distance(mu, s2, mu, s1), rel=1e-9)
    # a singular covariance (3 samples in 8 dimensions) takes the other factorisation: same formula
    samples = rng.standard_normal((3, 8))
    singular = np.cov(samples, rowvar=False)
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvals(singular @ s2).real, 0, None)).sum()
    expected = np.trace(singular) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(mu, singular, mu, s2) == pytest.approx(expected, rel=1e-7)  # sqrt of ~0 eigenvalues


def test_frechet_distance_refuses_mismatched_statistics():
    with pytest.raises(ValueError, match="mismatched"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# --- KID --------------------------------------------------------------------------------------

def slow_unbiased_mmd2(x, y):
    """The KID paper's unbiased MMD^2 estimate with k(a, b) = (a.b / d + 1)^3, as plain loops."""
    m, d = len(x), x.shape[1]
    k = lambda a, b: (a @ b / d + 1.0) ** 3
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_of_one_subset_holding_everything_is_the_unbiased_mmd_estimate():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.3
    # one subset of all 12 rows is a permutation of each set, and the estimate ignores order
    assert kernel_inception_distance(x, y, num_subsets=1, max_subset_size=12) == pytest.approx(
        slow_unbiased_mmd2(x, y), rel=1e-10)


def test_kid_is_about_zero_for_one_distribution_and_grows_with_the_shift():
    rng = np.random.default_rng(4)
    real = rng.standard_normal((600, 64))
    same = rng.standard_normal((600, 64))
    near, far = same + 0.25, same + 1.0
    kid_same = kernel_inception_distance(real, same, num_subsets=20, max_subset_size=300)
    kid_near = kernel_inception_distance(real, near, num_subsets=20, max_subset_size=300)
    kid_far = kernel_inception_distance(real, far, num_subsets=20, max_subset_size=300)
    # unbiased, so about 0 (either sign) for one distribution; the shifted ones are far above
    assert abs(kid_same) < 0.01
    assert kid_near > 0.05 and kid_far > 10 * kid_near


def test_kid_is_reproducible_and_leaves_the_global_rng_alone():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((50, 8)), rng.standard_normal((50, 8))
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    first = kernel_inception_distance(x, y, num_subsets=5, max_subset_size=20, seed=7)
    assert np.random.random() == before
    assert kernel_inception_distance(x, y, num_subsets=5, max_subset_size=20, seed=7) == first


# --- compute_fid_kid: streaming ---------------------------------------------------------------

def pooled_colours(images):
    """A cheap stand-in feature network (outside the FID network's question): 4 x 4 mean colours."""
    return torch.nn.functional.adaptive_avg_pool2d(images, 4).flatten(1)


def image_batches(generator, count, batch, brightness=0.0):
    for start in range(0, count, batch):
        n = min(batch, count - start)
        yield (torch.rand(n, 3, 16, 16, generator=generator) * 0.8 + brightness).clamp(0, 1)


def test_streamed_fid_and_kid_equal_the_numbers_from_all_features_at_once():
    real_gen, fake_gen = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    reals = torch.cat(list(image_batches(real_gen, 70, 70)))
    fakes = torch.cat(list(image_batches(fake_gen, 70, 70, brightness=0.1)))
    result = compute_fid_kid(lambda first, n: fakes[first:first + n], iter(reals.split(16)), 70,
                             pooled_colours, batch_size=9, kid_subsets=10, kid_subset_size=50)
    f_real, f_fake = pooled_colours(reals).double().numpy(), pooled_colours(fakes).double().numpy()
    expected_fid = frechet_distance(f_real.mean(0), np.cov(f_real, rowvar=False),
                                    f_fake.mean(0), np.cov(f_fake, rowvar=False))
    expected_kid = kernel_inception_distance(f_real, f_fake, num_subsets=10, max_subset_size=50)
    assert result.num_real == result.num_fake == 70
    assert result.fid == pytest.approx(expected_fid, rel=1e-6)
    assert result.kid == pytest.approx(expected_kid, rel=1e-5)
    assert result.network == "function"  # a plain function has no label; the Inception has one


def test_fid_and_kid_rise_when_the_generator_drifts_from_the_reals():
    def run(brightness):
        real_gen, fake_gen = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
        fakes = next(image_batches(fake_gen, 200, 200, brightness))
        return compute_fid_kid(lambda first, n: fakes[first:first + n], image_batches(real_gen, 200, 32), 200,
                               pooled_colours, kid_subsets=20, kid_subset_size=100)

    same, drifted = run(0.0), run(0.2)
    assert same.fid < 0.05 < drifted.fid
    assert abs(same.kid) < 0.2 * drifted.kid


def test_kid_keeps_a_bounded_reservoir_and_reads_no_more_reals_than_needed():
    real_gen, fake_gen = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    batches_read = []

    def reals():
        for batch in image_batches(real_gen, 1000, 10):
            batches_read.append(len(batch))
            yield batch

    result = compute_fid_kid(lambda first, n: next(image_batches(fake_gen, n, n)), reals(), 45, pooled_colours,
                             kid_max_features=20, kid_subsets=3)
    assert result.num_real == 45 and sum(batches_read) == 50  # the 5th batch, cut to 5 images, is the last
    assert np.isfinite(result.kid) and np.isfinite(result.fid)


def test_without_the_inception_weights_there_is_no_number():
    def must_not_generate(first, n):
        raise AssertionError("generated images although there is no network to measure them")

    with pytest.raises(MetricUnavailable, match="RESTYLE_INCEPTION_WEIGHTS"):
        compute_fid_kid(must_not_generate, iter([]), 10)


# --- the FID Inception loader -----------------------------------------------------------------

@pytest.fixture(scope="module")
def random_inception(random_inception_file):
    return load_inception(random_inception_file)


def test_the_inception_loads_the_published_layout_and_gives_2048_features_for_any_size(random_inception):
    assert "weights-inception-2015-12-05-6726825d.pth" in random_inception.label
    g = torch.Generator().manual_seed(0)
    for shape in ((2, 3, 64, 48), (1, 3, 301, 256)):
        features = random_inception(torch.rand(*shape, generator=g))
        assert features.shape == (shape[0], 2048) and features.dtype == torch.float32
        assert torch.isfinite(features).all() and features.abs().sum() > 0


def test_the_inception_sees_8_bit_images_rounded_as_the_reference_feeds_them(random_inception):
    # NVlabs feed uint8(clamp(x * 127.5 + 128)) of a -1..1 image: round(255 x) of a 0..1 one
    levels = torch.randint(0, 255, (1, 3, 40, 40), generator=torch.Generator().manual_seed(1)) / 255
    below_half, above_half, next_level = levels + 0.4 / 255, levels + 0.6 / 255, levels + 1 / 255
    f = random_inception(torch.cat([levels, below_half, above_half, next_level]))  # one pass: eval mode
    assert torch.equal(f[0], f[1]) and torch.equal(f[2], f[3])
    assert not torch.equal(f[0], f[3])


def test_the_inception_file_can_be_named_by_the_environment_variable(random_inception_file, monkeypatch):
    monkeypatch.setenv("RESTYLE_INCEPTION_WEIGHTS", str(random_inception_file))
    net = load_inception()
    assert net(torch.rand(1, 3, 32, 32)).shape == (1, 2048)


def test_offline_without_the_file_the_message_says_what_to_fetch_and_which_variable_to_set(tmp_path):
    with pytest.raises(MetricUnavailable) as info:
        load_inception()
    message = str(info.value)
    assert "weights-inception-2015-12-05-6726825d.pth" in message
    assert "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" in message
    assert "pt_inception-2015-12-05-6726825d.pth" in message  # pytorch-fid's copy is named too
    assert "RESTYLE_INCEPTION_WEIGHTS" in message
    assert "Name or service not known" in message  # why the download failed
    assert str(tmp_path / "torch-home" / "hub" / "checkpoints") in message
    assert "\n" not in message


def test_offline_mode_does_not_try_to_download(monkeypatch):
    monkeypatch.setenv("RESTYLE_OFFLINE", "1")

    def must_not_download(url, destination):
        raise AssertionError("downloaded although RESTYLE_OFFLINE=1")

    with pytest.raises(MetricUnavailable, match="RESTYLE_OFFLINE.*RESTYLE_INCEPTION_WEIGHTS"):
        load_inception(downloader=must_not_download)


def test_a_downloaded_file_that_is_not_the_published_one_is_refused_and_not_cached(tmp_path):
    def wrong_file(url, destination):
        with open(destination, "wb") as f:
            f.write(b"an error page, not weights")

    with pytest.raises(MetricUnavailable, match="not the published one"):
        load_inception(downloader=wrong_file)
    assert not any((tmp_path / "torch-home" / "hub" / "checkpoints").iterdir())


def test_pytorch_fids_name_for_the_same_file_is_found_in_the_hub_cache(random_inception_file, tmp_path):
    cache = tmp_path / "torch-home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    (cache / "pt_inception-2015-12-05-6726825d.pth").symlink_to(random_inception_file)
    assert "pt_inception-2015-12-05-6726825d.pth" in load_inception().label


def test_a_file_that_is_not_the_inception_weights_is_named(tmp_path):
    other = tmp_path / "vgg16.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, other)
    with pytest.raises(MetricUnavailable, match="vgg16.pth: not the FID Inception weights"):
        load_inception(other)
    missing = tmp_path / "nowhere.pth"
    with pytest.raises(MetricUnavailable, match="the given path names .*nowhere.pth, which is not a file"):
        load_inception(missing)


class NotATensor:
    pass


def test_a_weights_file_holding_python_objects_is_refused_unread(tmp_path):
    # torch-fidelity itself unpickles freely; mlcore reads the file weights-only first
    pickled = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    torch.save({"fc.weight": NotATensor()}, pickled)
    with pytest.raises(MetricUnavailable, match="cannot read it as weights"):
        load_inception(pickled)


# --- LPIPS ------------------------------------------------------------------------------------

def random_lin_weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    return {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1, generator=g)
            for k, c in enumerate((64, 128, 256, 512, 512))}


@pytest.fixture(scope="module")
def random_lpips():
    return LPIPS(load_vgg("vgg16", weights="random"), random_lin_weights(), lin_source="random")


def test_lpips_is_zero_for_identical_images_symmetric_and_positive_for_different_ones(random_lpips):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 3, 48, 40, generator=g), torch.rand(3, 3, 48, 40, generator=g)
    d_xy, d_yx = random_lpips(x, y), random_lpips(y, x)
    assert d_xy.shape == (3,)
    assert torch.equal(random_lpips(x, x), torch.zeros(3))
    assert torch.allclose(d_xy, d_yx, rtol=1e-5, atol=0)
    assert (d_xy > 0).all()
    assert "random VGG16" in random_lpips.label


def test_lpips_passes_gradients_to_the_image_being_projected(random_lpips):
    target = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    image = torch.full((1, 3, 32, 32), 0.5, requires_grad=True)
    random_lpips(image, target).sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_lpips_scaling_layer_on_minus_one_to_one_is_imagenet_normalisation_on_zero_to_one():
    shift, scale = torch.tensor([-0.030, -0.088, -0.188]), torch.tensor([0.458, 0.448, 0.450])
    assert torch.allclose((1 + shift) / 2, torch.tensor([0.485, 0.456, 0.406]), atol=1e-7)
    assert torch.allclose(scale / 2, torch.tensor([0.229, 0.224, 0.225]), atol=1e-7)


def test_lpips_matches_the_papers_formula_on_torchvisions_vgg16_slices(random_lpips):
    """Reference from the lpips project's recipe: -1..1 input, ScalingLayer, torchvision's VGG16
    features cut after relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (indices 3, 8, 15, 22, 29)."""
    torchvision = pytest.importorskip("torchvision")
    vgg = torchvision.models.vgg16(weights=None).features.eval()
    vgg.load_state_dict(random_lpips.vgg.features.state_dict())
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    lins = random_lin_weights()
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(2, 3, 36, 36, generator=g), torch.rand(2, 3, 36, 36, generator=g)

    def taps(images01):
        h, out = ((2 * images01 - 1) - shift) / scale, []
        for i, layer in enumerate(vgg):
            h = layer(h)
            if i in (3, 8, 15, 22, 29):
                out.append(h)
        return out

    expected = torch.zeros(2)
    with torch.no_grad():
        for k, (a, b) in enumerate(zip(taps(x), taps(y))):
            a = a / (a.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            b = b / (b.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            weight = lins[f"lin{k}.model.1.weight"].view(1, -1, 1, 1)
            expected += ((a - b) ** 2 * weight).sum(1).mean(dim=(1, 2))
        assert torch.allclose(random_lpips(x, y), expected, rtol=1e-4)
    assert LPIPS_LAYERS == ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")


@pytest.fixture(scope="module")
def lpips_files(tmp_path_factory):
    """A random VGG16 in torchvision's file layout and random lin weights in the lpips layout."""
    folder = tmp_path_factory.mktemp("lpips")
    vgg = VGGFeatures("vgg16")
    torch.save({f"features.{k}": v for k, v in vgg.features.state_dict().items()}, folder / "vgg16-397923af.pth")
    torch.save(random_lin_weights(), folder / "vgg.pth")
    return folder / "vgg16-397923af.pth", folder / "vgg.pth"


def test_lpips_loads_from_local_files_by_argument_or_variable(lpips_files, monkeypatch):
    vgg_file, lin_file = lpips_files
    by_argument = load_lpips(vgg_file, lin_file)
    assert by_argument.label.startswith("LPIPS-VGG16 v0.1 (lin vgg.pth, VGG16 ImageNet weights (vgg16-397923af.pth))")
    monkeypatch.setenv("RESTYLE_VGG16_WEIGHTS", str(vgg_file))
    monkeypatch.setenv("RESTYLE_LPIPS_WEIGHTS", str(lin_file))
    by_variable = load_lpips()
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    assert torch.equal(by_argument(x, y), by_variable(x, y))


def test_lpips_offline_names_both_missing_files_and_their_variables():
    with pytest.raises(MetricUnavailable) as info:
        load_lpips()
    message = str(info.value)
    assert message.startswith("LPIPS-VGG16 is unavailable")
    assert "vgg16-397923af.pth" in message and "RESTYLE_VGG16_WEIGHTS" in message
    assert "lpips-v0.1-vgg.pth" in message and "RESTYLE_LPIPS_WEIGHTS" in message
    assert "pip download lpips==0.1.4" in message


def test_lin_weights_of_the_wrong_shape_are_refused():
    lins = random_lin_weights()
    lins["lin2.model.1.weight"] = torch.rand(1, 128, 1, 1)
    with pytest.raises(ValueError, match="lin2.model.1.weight must be 1 x 256 x 1 x 1"):
        LPIPS(load_vgg("vgg16", weights="random"), lins)


# --- the fallback and the choice between them -------------------------------------------------

def test_fallback_distance_is_zero_for_identical_images_and_falls_as_an_image_nears_its_target():
    g = torch.Generator().manual_seed(3)
    start, target = torch.rand(1, 3, 300, 200, generator=g), torch.rand(1, 3, 300, 200, generator=g)
    distance = FallbackDistance()
    assert distance(target, target).item() == 0.0
    steps = [distance(target + (1 - t) * (start - target), target).item() for t in (0.0, 0.25, 0.5, 0.75, 0.95)]
    assert all(a > b > 0 for a, b in itertools.pairwise(steps))
    assert distance.label == FALLBACK_LABEL == "fallback: multi-scale pixel distance (LPIPS-VGG16 weights unavailable)"


def test_fallback_distance_passes_gradients():
    target = torch.rand(2, 3, 20, 20, generator=torch.Generator().manual_seed(4))
    image = torch.zeros(2, 3, 20, 20, requires_grad=True)
    FallbackDistance()(image, target).sum().backward()
    assert image.grad.abs().sum() > 0


def test_projection_uses_the_labelled_fallback_when_lpips_is_unavailable(caplog):
    distance, label = projection_distance()
    assert isinstance(distance, FallbackDistance) and label == FALLBACK_LABEL
    assert "RESTYLE_LPIPS_WEIGHTS" in caplog.text  # the log says why


def test_projection_uses_lpips_when_its_weights_are_here(lpips_files):
    distance, label = projection_distance(vgg16_weights=lpips_files[0], lin_weights=lpips_files[1])
    assert isinstance(distance, LPIPS) and label.startswith("LPIPS-VGG16 v0.1")
    fallback, fallback_label = projection_distance("fallback", vgg16_weights=lpips_files[0],
                                                   lin_weights=lpips_files[1])
    assert isinstance(fallback, FallbackDistance) and fallback_label == FALLBACK_LABEL
