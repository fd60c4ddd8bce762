"""The shared config base: JSON round trip, clear refusals, presets and field descriptions."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, ClassVar

import pytest

from mlcore.config import Config, parse_assignments, setting


@dataclass(frozen=True)
class Inner(Config):
    width: int = setting(8, "channels of the first layer", min=1)
    norm: str = setting("instance", "normalisation", choices=("instance", "batch"))


@dataclass(frozen=True)
class Outer(Config):
    inner: Inner = setting(Inner(), "the network")
    lr: float = setting(1e-3, "learning rate", min=0.0)
    steps: int = setting(100, "iterations", min=1, max=1_000_000)
    layers: tuple[str, ...] = setting(("relu1_2", "relu2_2"), "style layers",
                                      choices=("relu1_2", "relu2_2", "relu3_3"))
    size: int | None = setting(None, "longest side, or null to keep the size", min=16)
    flip: bool = setting(False, "random horizontal flips")

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"steps": 3, "inner": {"width": 2}},
        "paper": {"lr": 0.01, "layers": ["relu3_3"]},
    }

    def validate(self) -> None:
        if self.flip and self.size is None:
            raise ValueError("flip needs a size")


def match(message: str) -> str:
    return message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")


def test_round_trip_through_json_keeps_types():
    config = Outer(inner=Inner(width=4, norm="batch"), lr=0.5, layers=("relu3_3",), size=64, flip=True)
    data = json.loads(config.to_json())
    assert data == {"inner": {"width": 4, "norm": "batch"}, "lr": 0.5, "steps": 100,
                    "layers": ["relu3_3"], "size": 64, "flip": True}
    again = Outer.from_json(config.to_json())
    assert again == config
    assert isinstance(again.layers, tuple) and isinstance(again.inner, Inner)


def test_json_lists_become_tuples_and_ints_become_floats():
    config = Outer.from_dict({"layers": ["relu1_2"], "lr": 1})
    assert config.layers == ("relu1_2",)
    assert config.lr == 1.0 and isinstance(config.lr, float)


def test_configs_are_frozen():
    with pytest.raises(FrozenInstanceError):
        Outer().lr = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"depth": 3}, "unknown Outer field(s): depth (known: flip, inner, layers, lr, size, steps)"),
        ({"inner": {"height": 1}}, "inner: unknown Inner field(s): height"),
        ({"inner": {"width": 0}}, "inner: width must be a positive integer; got 0"),
        ({"inner": "big"}, "inner must be an Inner object; got 'big'"),
        ({"lr": "fast"}, "lr must be a non-negative number; got 'fast'"),
        ({"lr": -1.0}, "lr must be a non-negative number; got -1.0"),
        ({"lr": float("nan")}, "lr must be a non-negative number"),
        ({"steps": 2.0}, "steps must be an integer from 1 to 1000000; got 2.0"),
        ({"steps": True}, "steps must be an integer from 1 to 1000000; got True"),
        ({"layers": ["relu9_9"]}, "layers must be a list of values from relu1_2, relu2_2, relu3_3"),
        ({"layers": "relu1_2"}, "layers must be a list of values from"),
        ({"size": 8}, "size must be an integer >= 16 or null; got 8"),
        ({"flip": "yes"}, "flip must be true or false; got 'yes'"),
        ({"flip": True}, "flip needs a size"),
    ],
)
def test_bad_data_is_refused_with_a_message_naming_the_field(data, message):
    with pytest.raises(ValueError, match=match(message)):
        Outer.from_dict(data)


def test_text_that_is_not_a_json_object_is_refused():
    with pytest.raises(ValueError, match="not valid JSON"):
        Outer.from_json("lr=1")
    with pytest.raises(ValueError, match="must be a JSON object; got list"):
        Outer.from_json("[1, 2]")


def test_presets_apply_overrides_on_the_defaults():
    tiny = Outer.preset("tiny")
    assert tiny.steps == 3 and tiny.inner == Inner(width=2) and tiny.lr == Outer().lr
    assert Outer.preset("tiny", lr=0.1, steps=5) == Outer(inner=Inner(width=2), lr=0.1, steps=5)
    assert Outer.preset("paper").layers == ("relu3_3",)
    assert Outer.preset_names() == ["paper", "tiny"]
    with pytest.raises(ValueError, match=match("unknown Outer preset 'huge' (known: paper, tiny)")):
        Outer.preset("huge")


def test_override_takes_dotted_paths_into_nested_configs():
    config = Outer().override({"inner.norm": "batch", "steps": 7})
    assert config.inner == Inner(width=8, norm="batch") and config.steps == 7
    with pytest.raises(ValueError, match="inner: unknown Inner field"):
        Outer().override({"inner.colour": 1})


def test_describe_fields_gives_what_a_form_needs():
    fields = {f.name: f for f in Outer.describe_fields()}
    assert list(fields) == ["inner", "lr", "steps", "layers", "size", "flip"]
    steps = fields["steps"]
    assert (steps.type, steps.default, steps.help, steps.min, steps.max) == (
        "int", 100, "iterations", 1, 1_000_000)
    assert fields["layers"].type == "tuple[str, ...]"
    assert fields["layers"].default == ["relu1_2", "relu2_2"]
    assert fields["layers"].choices == ("relu1_2", "relu2_2", "relu3_3")
    assert fields["size"].type == "int | None" and fields["size"].default is None
    assert fields["inner"].type == "Inner" and fields["inner"].default == {"width": 8, "norm": "instance"}
    assert [f.name for f in fields["inner"].fields] == ["width", "norm"]
    assert fields["inner"].fields[1].choices == ("instance", "batch")
    json.dumps([f.to_dict() for f in Outer.describe_fields()])  # JSON-ready for an API


def test_unsupported_field_types_are_refused():
    @dataclass(frozen=True)
    class Bad(Config):
        names: frozenset[str] = setting(frozenset(), "not supported")

    with pytest.raises(TypeError, match="unsupported config field type"):
        Bad()


def test_parse_assignments_reads_json_values_and_bare_strings():
    assert parse_assignments(["lr=0.01", "inner.width=4", "layers=[\"relu1_2\"]",
                              "flip=true", "size=null", "name=relu2_2"]) == {
        "lr": 0.01, "inner.width": 4, "layers": ["relu1_2"], "flip": True, "size": None,
        "name": "relu2_2",
    }
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_assignments(["lr"])
