"""TFX Transform's preprocessing_fn: z-scores for numbers, vocabularies for categories.

Used when a spec sets `transform: true`; the trainer then reads the transformed examples
and the serving signature applies the same graph, so training and serving cannot skew.
A numeric feature that can be missing is imputed (the training mean computed here, or
zero) and gets a `<name>__missing` indicator; a missing category becomes its own token.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from pipelines.missing import as_text, can_be_missing, densify, indicator
from pipelines.settings import MISSING_SUFFIX, MISSING_TOKEN, ModuleSettings


def preprocessing_fn(inputs: dict[str, Any], custom_config: dict[str, Any]) -> dict[str, Any]:
    settings = ModuleSettings.from_custom_config(custom_config)
    outputs: dict[str, Any] = {}
    for name in settings.numeric:
        values, present = densify(inputs[name], 0)
        values = tf.cast(values, tf.float32)
        if not can_be_missing(inputs[name]):
            outputs[name] = tft.scale_to_z_score(values)
            continue
        # Moments of the values present, then impute in z-score units: the mean becomes 0.
        # One analysis phase: imputing before scale_to_z_score would need a second, and
        # TFT's phase-two deep copy fails on this Beam version.
        known = tf.boolean_mask(values, present)
        mean, std = tft.mean(known), tf.sqrt(tft.var(known))
        std = tf.where(std > 0, std, 1.0)
        fill = 0.0 if settings.missing.get(name, "mean") == "mean" else -mean / std
        outputs[name] = tf.where(present, (values - mean) / std, fill)
        outputs[name + MISSING_SUFFIX] = indicator(present)
    for name in settings.categorical:
        values, _ = densify(inputs[name], MISSING_TOKEN if _is_text(inputs[name]) else -1)
        outputs[name] = tft.compute_and_apply_vocabulary(
            as_text(values), num_oov_buckets=1, vocab_filename=name
        )
    label = inputs[settings.label]
    outputs[settings.label], _ = densify(label, "" if _is_text(label) else 0)
    return outputs


def _is_text(tensor: Any) -> bool:
    return bool(tensor.dtype == tf.string)
