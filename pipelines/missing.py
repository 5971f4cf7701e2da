"""Missing values in one place for the Transform function and the trainer.

A feature the schema marks optional (SchemaGen saw it absent in some rows) arrives as a
SparseTensor: Transform sees a VarLenFeature, the trainer's dataset and the serving
signature parse one. `densify` turns either shape into values plus a presence mask, so both
paths impute the same way: numbers from a fill value plus a missing indicator, categories
into their own bucket.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf


def can_be_missing(tensor: Any) -> bool:
    return isinstance(tensor, tf.sparse.SparseTensor)


def densify(tensor: Any, default: Any) -> tuple[Any, Any]:
    """(values [batch], present [batch] bool): one value per row, `default` where absent."""
    if not can_be_missing(tensor):
        values = tf.reshape(tensor, [-1])
        return values, tf.ones_like(values, dtype=tf.bool)
    # A CSV cell holds one value, so each row has at most one entry at column 0; the dense
    # shape can be [batch, 0] when a whole batch lacks the feature.
    shape = tf.stack([tensor.dense_shape[0], tf.constant(1, tf.int64)])
    values = tf.sparse.to_dense(
        tf.sparse.SparseTensor(tensor.indices, tensor.values, shape), default_value=default
    )
    present = tf.sparse.to_dense(
        tf.sparse.SparseTensor(tensor.indices, tf.ones_like(tensor.values, dtype=tf.bool), shape),
        default_value=False,
    )
    return tf.reshape(values, [-1]), tf.reshape(present, [-1])


def as_text(values: Any) -> Any:
    """Categories as strings: an integer-coded category is still a category."""
    return values if values.dtype == tf.string else tf.strings.as_string(values)


def indicator(present: Any) -> Any:
    return 1.0 - tf.cast(present, tf.float32)
