"""Model specs: the pydantic model, the YAML loader with line numbers, and the checks."""

from retrain.spec.load import load_spec, load_specs, spec_files, spec_paths
from retrain.spec.model import Spec, json_schema

__all__ = ["Spec", "json_schema", "load_spec", "load_specs", "spec_files", "spec_paths"]
