"""TFX's Evaluator, judging against production's model when there is one.

The baseline comes from an Importer whose URI is a per-run value (a RuntimeParameter on
Vertex), so the pipeline's shape cannot depend on whether production exists. When the run has
no baseline (NO_BASELINE_URI) or production's model is gone, the baseline input is dropped
before TFX's executor sees it: TFX then evaluates the candidate alone and ignores the change
thresholds (`rubber_stamp`, tfx/components/evaluator/executor.py), as on a first run.
"""

from typing import Any

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


class Executor(evaluator_executor.Executor):  # type: ignore[misc]
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        key = standard_component_specs.BASELINE_MODEL_KEY
        usable = [m for m in input_dict.get(key, []) if not baseline_problem(m.uri)]
        super().Do({**input_dict, key: usable}, output_dict, exec_properties)


class ProductionEvaluator(Evaluator):  # type: ignore[misc]
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
