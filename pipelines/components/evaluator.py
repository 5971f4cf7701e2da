"""TFX's Evaluator, judging against production's model when there is one.

The baseline comes from an Importer whose URI is a per-run value (a RuntimeParameter on
Vertex), so the pipeline's shape cannot depend on whether production exists. When the run has
no baseline (NO_BASELINE_URI) or production's model is gone, the baseline input is dropped
before TFX's executor sees it: TFX then evaluates the candidate alone and ignores the change
thresholds (`rubber_stamp`, tfx/components/evaluator/executor.py), as on a first run.

The confidence intervals come from TFMA's Poisson bootstrap, which draws from a fresh random
state unless given a seed (`poisson_bootstrap._BootstrapCombineFn`), and TFX's executor gives
none. Here the seed is fixed by the eval config (so by the spec), and passed to TFMA's
`ExtractEvaluateAndWriteResults` (`random_seed_for_testing`, the one way in), and recorded in
the summary. TFMA seeds each combiner instance, not each row, so how Beam bundles the rows
still moves the draws: measured, two runs on the same rows agreed to about 0.002 on the bounds
of production's auc interval, not exactly (docs/evaluation-summary.md).
"""

import hashlib
from typing import Any

import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import metrics_plots_and_validations_evaluator
from tfx import types
from tfx.components import Evaluator
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.types import standard_component_specs
from tfx.utils import path_utils

from retrain.runs import NO_BASELINE_URI


def baseline_problem(uri: str) -> str:
    """Why the model at `uri` cannot be a baseline; empty when it can."""
    if not uri or uri == NO_BASELINE_URI:
        return "no baseline model was given"
    serving = path_utils.serving_model_path(uri)
    if not fileio.exists(serving):
        return f"production's model is missing ({serving} does not exist)"
    return ""


# TFMA draws this many resamples; its EvalConfig has no field to change it.
BOOTSTRAP_SAMPLES: int = metrics_plots_and_validations_evaluator._DEFAULT_NUM_BOOTSTRAP_SAMPLES
SEED_PROPERTY = "bootstrap_seed"
SAMPLES_PROPERTY = "bootstrap_samples"


def bootstrap_seed(eval_config_json: str) -> int:
    """The bootstrap's seed: from the eval config, so every run of a spec version draws alike."""
    return int(hashlib.sha256(eval_config_json.encode()).hexdigest()[:8], 16)


class _SeededTfma:
    """TFMA as TFX's evaluator executor calls it, with the bootstrap's seed given."""

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def __getattr__(self, name: str) -> Any:
        return getattr(tfma, name)

    def ExtractEvaluateAndWriteResults(self, *args: Any, **kwargs: Any) -> Any:
        return tfma.ExtractEvaluateAndWriteResults(
            *args, random_seed_for_testing=self._seed, **kwargs
        )


class Executor(evaluator_executor.Executor):  # type: ignore[misc]
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        key = standard_component_specs.BASELINE_MODEL_KEY
        usable = [m for m in input_dict.get(key, []) if not baseline_problem(m.uri)]
        seed = bootstrap_seed(exec_properties.get(standard_component_specs.EVAL_CONFIG_KEY, ""))
        original = evaluator_executor.tfma
        evaluator_executor.tfma = _SeededTfma(seed)
        try:
            super().Do({**input_dict, key: usable}, output_dict, exec_properties)
        finally:
            evaluator_executor.tfma = original
        for evaluation in output_dict[standard_component_specs.EVALUATION_KEY]:
            evaluation.set_int_custom_property(SEED_PROPERTY, seed)
            evaluation.set_int_custom_property(SAMPLES_PROPERTY, BOOTSTRAP_SAMPLES)


class ProductionEvaluator(Evaluator):  # type: ignore[misc]
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
