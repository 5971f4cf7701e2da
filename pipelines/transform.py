"""TFX Transform's preprocessing_fn: z-scores for numbers, vocabularies for categories.

Used when a spec sets `transform: true`; the trainer then reads the transformed examples
and the serving signature applies the same graph, so training and serving cannot skew.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from pipelines.settings import ModuleSettings


def _dense(tensor: Any, default: Any) -> Any:
    if isinstance(tensor, tf.sparse.SparseTensor):
        return tf.sparse.to_dense(tensor, default_value=default)
    return tensor


def preprocessing_fn(inputs: dict[str, Any], custom_config: dict[str, Any]) -> dict[str, Any]:
    settings = ModuleSettings.from_custom_config(custom_config)
    outputs: dict[str, Any] = {}
    for name in settings.numeric:
        outputs[name] = tft.scale_to_z_score(tf.cast(_dense(inputs[name], 0), tf.float32))
    for name in settings.categorical:
        outputs[name] = tft.compute_and_apply_vocabulary(
            _dense(inputs[name], ""), num_oov_buckets=1, vocab_filename=name
        )
    outputs[settings.label] = _dense(inputs[settings.label], 0)
    return outputs
