"""The shared config base: JSON round trip (today's files too), refusals that name the field,
presets, dotted overrides and the schema a form is built from."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal, Self

import pytest
from pydantic import ValidationError, model_validator

from mlcore.config import Config, ConfigError, parse_assignments, setting
from mlcore.fast_style.config import FastStyleConfig
from mlcore.ugatit.config import UGATITConfig, UGATITTrainConfig


class Inner(Config):
    width: int = setting(8, "channels of the first layer", ge=1)
    norm: Literal["instance", "batch"] = setting("instance", "normalisation")


class Outer(Config):
    inner: Inner = setting(Inner(width=4), "the network")  # not Inner's own default, on purpose
    lr: float = setting(1e-3, "learning rate", ge=0.0)
    steps: int = setting(100, "iterations", ge=1, le=1_000_000)
    layers: tuple[Literal["relu1_2", "relu2_2", "relu3_3"], ...] = setting(
        ("relu1_2", "relu2_2"), "style layers", min_length=1)
    size: int | None = setting(None, "longest side, or null to keep the size", ge=16)
    flip: bool = setting(False, "random horizontal flips")

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"steps": 3, "inner": {"width": 2}},
        "paper": {"lr": 0.01, "layers": ["relu3_3"]},
    }

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.flip and self.size is None:
            raise ValueError("flip needs a size")
        return self


def test_round_trip_through_json_keeps_types():
    config = Outer(inner=Inner(width=4, norm="batch"), lr=0.5, layers=("relu3_3",), size=64, flip=True)
    data = json.loads(config.to_json())
    assert data == {"inner": {"width": 4, "norm": "batch"}, "lr": 0.5, "steps": 100,
                    "layers": ["relu3_3"], "size": 64, "flip": True}
    again = Outer.from_json(config.to_json())
    assert again == config
    assert isinstance(again.layers, tuple) and isinstance(again.inner, Inner)


# Written by the dataclass configs before the move to pydantic (a model checkpoint's arch and a
# training run's config): they must load, and to_json must give the same text back, since a
# resumed run compares its checkpoint's config text with its own.
TODAYS_FILES = [
    (FastStyleConfig, '{"channels": [16, 32, 64], "num_residual_blocks": 3, "variant": "engstrom"}',
     FastStyleConfig(variant="engstrom", channels=(16, 32, 64), num_residual_blocks=3)),
    (UGATITTrainConfig,
     '{"adv_weight": 1.0, "arch": {"img_size": 32, "in_channels": 3, "light": true, "n_res": 1, "ngf": 8, '
     '"out_channels": 3}, "batch_size": 1, "betas": [0.5, 0.999], "cam_weight": 1000.0, "cycle_weight": 10.0, '
     '"decay": true, "export_direction": "A2B", "global_layers": 5, "hflip": true, "identity_weight": 10.0, '
     '"jitter": 4, "local_layers": 4, "lr": 0.0001, "ndf": 8, "num_probes": 2, "steps": 20, '
     '"weight_decay": 0.0001}',
     UGATITTrainConfig.preset("tiny")),
]


@pytest.mark.parametrize(("config_class", "text", "expected"), TODAYS_FILES)
def test_config_json_written_before_the_port_loads_and_is_written_the_same(config_class, text, expected):
    config = config_class.from_json(text)
    assert config == expected
    assert config.to_json() == text


def test_json_lists_become_tuples_and_ints_become_floats():
    config = Outer.from_dict({"layers": ["relu1_2"], "lr": 1})
    assert config.layers == ("relu1_2",)
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert json.loads(config.to_json())["lr"] == 1.0


def test_configs_are_frozen_and_hashable():
    with pytest.raises(ValidationError, match="frozen"):
        Outer().lr = 1.0  # type: ignore[misc]
    assert len({Outer(), Outer.from_json(Outer().to_json()), Outer(steps=5)}) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"depth": 3}, "depth: unknown field"),
        ({"inner": {"height": 1}}, "inner.height: unknown field"),
        ({"inner": {"width": 0}}, "inner.width: Input should be greater than or equal to 1; got 0"),
        ({"inner": "big"}, "inner: Input should be an object; got 'big'"),
        ({"lr": "fast"}, "lr: Input should be a valid number; got 'fast'"),
        ({"lr": -1.0}, "lr: Input should be greater than or equal to 0; got -1.0"),
        ({"lr": float("nan")}, "lr: Input should be a finite number; got nan"),
        ({"steps": 2.0}, "steps: Input should be a valid integer; got 2.0"),
        ({"steps": True}, "steps: Input should be a valid integer; got True"),
        ({"steps": 10**7}, "steps: Input should be less than or equal to 1000000; got 10000000"),
        ({"layers": ["relu9_9"]}, "layers.0: Input should be 'relu1_2', 'relu2_2' or 'relu3_3'; got 'relu9_9'"),
        ({"layers": []}, "layers: Tuple should have at least 1 item after validation, not 0; got []"),
        ({"layers": "relu1_2"}, "layers: Input should be a valid array; got 'relu1_2'"),
        ({"size": 8}, "size: Input should be greater than or equal to 16; got 8"),
        ({"flip": "yes"}, "flip: Input should be a valid boolean; got 'yes'"),
        ({"flip": True}, "flip needs a size"),
    ],
)
def test_bad_data_is_refused_with_a_message_naming_the_field(data, message):
    with pytest.raises(ConfigError) as refused:
        Outer.from_dict(data)
    assert str(refused.value) == message
    assert isinstance(refused.value, ValueError)


def test_every_refusal_is_reported_with_the_path_of_its_field():
    with pytest.raises(ConfigError) as refused:
        Outer.from_dict({"inner": {"width": 0}, "layers": ["relu1_2", "relu9_9"], "steps": 0})
    assert [path for path, _ in refused.value.problems] == [("inner", "width"), ("steps",), ("layers", 1)]
    with pytest.raises(ConfigError) as refused:  # a nested config's own cross-field check
        UGATITTrainConfig.from_dict({"arch": {"img_size": 30}})
    assert refused.value.problems == [(("arch", "img_size"), "Input should be a multiple of 4; got 30")]


def test_text_that_is_not_a_json_object_is_refused():
    with pytest.raises(ConfigError, match="not valid JSON"):
        Outer.from_json("lr=1")
    with pytest.raises(ConfigError, match="must be a JSON object; got list"):
        Outer.from_json("[1, 2]")


def test_presets_apply_overrides_on_the_defaults():
    tiny = Outer.preset("tiny")
    assert tiny.steps == 3 and tiny.inner == Inner(width=2) and tiny.lr == Outer().lr
    assert Outer.preset("tiny", lr=0.1, steps=5) == Outer(inner=Inner(width=2), lr=0.1, steps=5)
    assert Outer.preset("paper").layers == ("relu3_3",)
    assert Outer.preset_names() == ["paper", "tiny"]
    with pytest.raises(ConfigError, match=r"unknown Outer preset 'huge' \(known: paper, tiny\)"):
        Outer.preset("huge")


def test_override_takes_dotted_paths_into_nested_configs():
    config = Outer().override({"inner.norm": "batch", "steps": 7})
    assert config.inner == Inner(width=4, norm="batch") and config.steps == 7
    assert Outer().replace(inner=Inner(width=9)).inner.width == 9  # a config object is taken too
    with pytest.raises(ConfigError, match="inner.colour: unknown field"):
        Outer().override({"inner.colour": 1})


def test_describe_fields_gives_the_json_schema_a_form_is_built_from():
    fields = {f.name: f for f in Outer.describe_fields()}
    assert list(fields) == ["inner.width", "inner.norm", "lr", "steps", "layers", "size", "flip"]
    steps = fields["steps"]
    assert (steps.schema["type"], steps.schema["minimum"], steps.schema["maximum"]) == ("integer", 1, 1_000_000)
    assert (steps.default, steps.help) == (100, "iterations")
    assert fields["layers"].schema["items"]["enum"] == ["relu1_2", "relu2_2", "relu3_3"]
    assert fields["layers"].default == ["relu1_2", "relu2_2"]
    assert fields["size"].schema["anyOf"] == [{"minimum": 16, "type": "integer"}, {"type": "null"}]
    assert fields["inner.norm"].schema["enum"] == ["instance", "batch"]
    assert fields["inner.width"].default == 4  # the outer field's default, not Inner's own 8
    assert fields["inner.width"].help == "channels of the first layer"
    assert fields["flip"].schema["type"] == "boolean"
    assert [f.name for f in UGATITConfig.describe_fields()][:2] == ["light", "ngf"]


def test_a_field_without_a_one_line_help_is_refused_when_the_class_is_made():
    with pytest.raises(TypeError, match="Bad.size needs a one-line help"):
        class Bad(Config):
            size: int = 3


def test_parse_assignments_reads_json_values_and_bare_strings():
    assert parse_assignments(["lr=0.01", "inner.width=4", "layers=[\"relu1_2\"]",
                              "flip=true", "size=null", "name=relu2_2"]) == {
        "lr": 0.01, "inner.width": 4, "layers": ["relu1_2"], "flip": True, "size": None,
        "name": "relu2_2",
    }
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_assignments(["lr"])
