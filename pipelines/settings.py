"""What the pipeline passes to its trainer and transform modules, as one typed value.

TFX hands modules a `custom_config` dict; parsing it here gives the modules a checked
object instead of string lookups.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from retrain.metrics import Task
from retrain.spec.model import MissingPolicy, Spec

# Names the transform adds beside the features; a spec identifier cannot make them collide
# because they end in a double underscore suffix no user feature is expected to use.
MISSING_SUFFIX = "__missing"
MISSING_TOKEN = "__missing__"


class ModuleSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Task
    label: str
    numeric: list[str]
    categorical: list[str]
    missing: dict[str, MissingPolicy] = {}
    classes: list[str] = []
    transform: bool
    hyperparameters: dict[str, float | int | str | bool]
    epochs: int | None = None  # passes over the training rows; None: the TrainArgs' steps

    @classmethod
    def from_spec(cls, spec: Spec) -> ModuleSettings:
        return cls(
            task=spec.task,
            label=spec.label,
            numeric=[f.name for f in spec.features if f.type == "numeric"],
            categorical=[f.name for f in spec.features if f.type == "categorical"],
            missing={f.name: f.missing_policy for f in spec.features},
            classes=list(spec.classes or []),
            transform=spec.transform,
            hyperparameters=dict(spec.trainer.hyperparameters),
            epochs=spec.trainer.epochs,
        )

    def for_transform(self) -> ModuleSettings:
        """What the Transform reads: nothing of the trainer's (its cache outlives their changes)."""
        return self.model_copy(update={"hyperparameters": {}, "epochs": None})

    @classmethod
    def from_custom_config(cls, custom_config: dict[str, Any] | None) -> ModuleSettings:
        if not custom_config or "retrain" not in custom_config:
            raise ValueError("custom_config lacks the 'retrain' settings the pipeline passes")
        return cls.model_validate(custom_config["retrain"])

    def hyperparameter(self, name: str, declared: dict[str, dict[str, Any]]) -> Any:
        """The spec's value for a declared hyperparameter, else its declared default.

        `retrain validate` has checked names and types; a spec that skipped validation still
        fails here, before any training, rather than training on a silent default.
        """
        from retrain.spec.hyperparams import value_problem

        rule = declared[name]
        value = self.hyperparameters.get(name, rule["default"])
        problem = value_problem(name, value, rule)
        if problem:
            raise ValueError(f"trainer.hyperparameters: {problem}")
        unknown = sorted(set(self.hyperparameters) - set(declared))
        if unknown:
            raise ValueError(f"trainer.hyperparameters: unknown {', '.join(unknown)}")
        return value
