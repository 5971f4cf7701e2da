"""TFX pipelines built from specs. Runs in the pipeline environment (Python 3.10, TFX 1.16).

Importing this package must stay cheap: TFX is imported inside the modules that need it.
"""

from typing import Any

# The summary's artefact type. TFX's Vertex compiler writes a custom type's name as its schema
# title and accepts only `namespace.TypeName` (kubeflow/v2/compiler_utils.py, _SCHEMA_TITLE_RE);
# on Vertex, TFX's container entry point imports that title as a class path to rebuild the
# artefact (kubeflow_v2_entrypoint_utils._retrieve_class_path). So the type is named
# `pipelines.EvaluationSummary` and this package answers that name, importing TFX only then.
ARTIFACT_TYPES = {"EvaluationSummary": ("pipelines.components.summary", "EvaluationSummaryFile")}


def __getattr__(name: str) -> Any:
    if name not in ARTIFACT_TYPES:
        raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
    import importlib

    module, attribute = ARTIFACT_TYPES[name]
    return getattr(importlib.import_module(module), attribute)
