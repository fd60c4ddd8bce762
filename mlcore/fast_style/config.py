"""Configuration of the fast style transfer family (Johnson et al. 2016)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

VARIANTS = ("johnson", "engstrom")


@dataclass(frozen=True)
class FastStyleConfig:
    """Architecture of a fast style transfer network; round-trips through JSON."""

    # "johnson": pytorch/examples TransformerNet (reflection padding, upsample + conv, output as is);
    # "engstrom": the TensorFlow net of the ml5.js checkpoints (SAME padding, transposed convs, tanh).
    variant: str = "johnson"
    # Widths after the 9x9 input conv and after each of the two stride-2 downsampling convs.
    channels: tuple[int, int, int] = (32, 64, 128)
    # Residual blocks at the lowest resolution (1/4 of the input).
    num_residual_blocks: int = 5

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {self.variant!r}")
        channels = self.channels
        if isinstance(channels, list):
            channels = tuple(channels)
            object.__setattr__(self, "channels", channels)
        if (
            not isinstance(channels, tuple)
            or len(channels) != 3
            or not all(_is_int(c) and c > 0 for c in channels)
        ):
            raise ValueError(f"channels must be three positive integers; got {self.channels!r}")
        if not _is_int(self.num_residual_blocks) or self.num_residual_blocks < 0:
            raise ValueError(
                "num_residual_blocks must be a non-negative integer; "
                f"got {self.num_residual_blocks!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["channels"] = list(self.channels)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FastStyleConfig:
        if not isinstance(data, dict):
            raise ValueError(f"a {cls.__name__} must be a JSON object; got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} field(s): {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> FastStyleConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{cls.__name__} is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
