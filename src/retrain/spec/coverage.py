"""How much of its training split a fixed-step trainer sees.

`train_steps` counts batches, so the rows a model learns from stay fixed while the table
grows: 300 steps of 64 are 19,200 examples, 2% of a million rows, seen once. Below
LOW_COVERAGE the spec is told so, and told that `trainer.epochs` trains over every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrain.spec.hyperparams import DeclarationError, declared_for
from retrain.spec.model import SPLIT_BUCKETS, Spec

LOW_COVERAGE = 0.1


@dataclass(frozen=True)
class TrainingCoverage:
    """Examples a run trains on against the rows of its training split."""

    train_steps: int
    batch_size: int
    train_rows: int

    @property
    def examples_seen(self) -> int:
        return self.train_steps * self.batch_size

    @property
    def fraction(self) -> float:
        return self.examples_seen / self.train_rows if self.train_rows else 1.0

    def warning(self) -> str | None:
        """The plain-words warning when training sees under LOW_COVERAGE of its rows."""
        if self.fraction >= LOW_COVERAGE:
            return None
        return (
            f"training sees {self.fraction:.1%} of its rows: train_steps {self.train_steps:,} x "
            f"batch_size {self.batch_size:,} = {self.examples_seen:,} examples of about "
            f"{self.train_rows:,} training rows; set trainer.epochs: 1 instead of train_steps "
            "to train over every row (or raise train_steps)"
        )


def batch_size_of(spec: Spec) -> int | None:
    """The spec's batch_size, else its trainer module's declared default; None when unknown."""
    given = spec.trainer.hyperparameters.get("batch_size")
    if isinstance(given, int) and not isinstance(given, bool):
        return given
    try:
        declared = declared_for(spec.trainer.module) or {}
    except DeclarationError:
        return None
    default = declared.get("batch_size", {}).get("default")
    return default if isinstance(default, int) and not isinstance(default, bool) else None


def split_coverage(spec: Spec, train_rows: int) -> TrainingCoverage | None:
    """Coverage of a fixed-step spec over a train split of `train_rows`; None when the spec
    trains by epochs (every row) or its batch size is unknown."""
    steps, batch_size = spec.trainer.train_steps, batch_size_of(spec)
    if steps is None or batch_size is None:
        return None
    return TrainingCoverage(steps, batch_size, train_rows)


def training_coverage(spec: Spec, usable_rows: int) -> TrainingCoverage | None:
    """Coverage over a table of `usable_rows`, of which the train split takes its share."""
    train_buckets, _ = spec.evaluation.split_buckets
    return split_coverage(spec, usable_rows * train_buckets // SPLIT_BUCKETS)
