"""What the pipeline passes to its trainer and transform modules, as one typed value.

TFX hands modules a `custom_config` dict; parsing it here gives the modules a checked
object instead of string lookups.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from retrain.spec.model import Spec


class ModuleSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Literal["binary_classification", "regression"]
    label: str
    numeric: list[str]
    categorical: list[str]
    transform: bool
    hyperparameters: dict[str, float | int | str | bool]

    @classmethod
    def from_spec(cls, spec: Spec) -> ModuleSettings:
        return cls(
            task=spec.task,
            label=spec.label,
            numeric=[f.name for f in spec.features if f.type == "numeric"],
            categorical=[f.name for f in spec.features if f.type == "categorical"],
            transform=spec.transform,
            hyperparameters=dict(spec.trainer.hyperparameters),
        )

    @classmethod
    def from_custom_config(cls, custom_config: dict[str, Any] | None) -> ModuleSettings:
        if not custom_config or "retrain" not in custom_config:
            raise ValueError("custom_config lacks the 'retrain' settings the pipeline passes")
        return cls.model_validate(custom_config["retrain"])

    def hyperparameter(self, name: str, default: float) -> float:
        value = self.hyperparameters.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"hyperparameter {name!r} must be a number, got {value!r}")
        return float(value)
