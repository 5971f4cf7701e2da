"""A small Keras network for tabular data: binary, multiclass or regression.

TFX calls `run_fn`. Without Transform the model carries its own preprocessing (imputation,
normalisation and string lookups learnt from a sample of the training data); with Transform
it reads the transformed features and the serving signature applies the Transform graph.
Either way the exported `serving_default` signature takes serialized tf.Examples, which is
what TFMA and Vertex batch prediction send. A multiclass model answers `scores` and
`classes` (the spec's classes), from which TFMA maps string labels to class ids.
"""

from __future__ import annotations

import logging
from typing import Any

import tensorflow as tf
import tf_keras as keras
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from pipelines.missing import as_text, can_be_missing, densify, indicator
from pipelines.settings import MISSING_SUFFIX, MISSING_TOKEN, ModuleSettings

# Read by `retrain validate` from this source (no import): names, types, ranges, defaults.
HYPERPARAMETERS = {
    "learning_rate": {"type": "float", "min": 1e-6, "max": 1.0, "default": 0.01},
    "hidden_units": {"type": "int", "min": 2, "max": 4096, "default": 32},
    "batch_size": {"type": "int", "min": 1, "max": 65536, "default": 64},
    "dropout": {"type": "float", "min": 0.0, "max": 0.9, "default": 0.0},
    "l2": {"type": "float", "min": 0.0, "max": 1.0, "default": 0.0},
}

_SAMPLE_BATCHES = 20


def _hp(settings: ModuleSettings, name: str) -> Any:
    return settings.hyperparameter(name, HYPERPARAMETERS)


class _Features:
    """What the model reads, decided once from the feature spec the trainer parses with."""

    def __init__(self, settings: ModuleSettings, feature_spec: dict[str, Any], transformed: bool):
        self.settings = settings
        self.transformed = transformed
        if transformed:
            self.indicators = [n for n in settings.numeric if n + MISSING_SUFFIX in feature_spec]
        else:
            self.indicators = [
                n for n in settings.numeric if isinstance(feature_spec.get(n), tf.io.VarLenFeature)
            ]
        self.fills: dict[str, float] = {}

    @property
    def numeric(self) -> list[str]:
        return self.settings.numeric + [n + MISSING_SUFFIX for n in self.indicators]

    def learn_fills(self, raw_sample: Any) -> None:
        """Imputation values from the training sample: its mean, or zero when the spec says."""
        for name in self.indicators:
            if self.settings.missing.get(name, "mean") != "mean":
                self.fills[name] = 0.0
                continue
            total, count = 0.0, 0.0
            for features, _label in raw_sample:
                values, present = densify(features[name], 0)
                kept = tf.boolean_mask(tf.cast(values, tf.float32), present)
                total += float(tf.reduce_sum(kept))
                count += float(tf.size(kept))
            self.fills[name] = total / count if count else 0.0

    def prepare(self, features: dict[str, Any]) -> dict[str, Any]:
        """Dense [batch, 1] tensors: numbers as float32 (imputed), categories as ids or text."""
        prepared = {}
        for name in self.settings.numeric:
            if self.transformed:
                values = tf.reshape(features[name], [-1])
                if name in self.indicators:
                    prepared[name + MISSING_SUFFIX] = tf.reshape(
                        features[name + MISSING_SUFFIX], [-1, 1]
                    )
            else:
                values, present = densify(features[name], 0)
                values = tf.cast(values, tf.float32)
                if can_be_missing(features[name]):
                    values = tf.where(present, values, self.fills.get(name, 0.0))
                if name in self.indicators:
                    prepared[name + MISSING_SUFFIX] = tf.reshape(indicator(present), [-1, 1])
            prepared[name] = tf.reshape(tf.cast(values, tf.float32), [-1, 1])
        for name in self.settings.categorical:
            if self.transformed:
                prepared[name] = tf.reshape(features[name], [-1, 1])
            else:
                tensor = features[name]
                values, _ = densify(tensor, MISSING_TOKEN if tensor.dtype == tf.string else -1)
                prepared[name] = tf.reshape(as_text(values), [-1, 1])
        return prepared


def _class_ids(settings: ModuleSettings) -> Any:
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(settings.classes), tf.range(len(settings.classes), dtype=tf.int64)
        ),
        default_value=-1,
    )

    def ids(label: Any) -> Any:
        values, present = densify(label, "" if label.dtype == tf.string else -1)
        found = table.lookup(as_text(values))
        return tf.where(present, found, -1)

    return ids


def _raw_dataset(
    fn_args: Any, files: list[str], schema: Any, settings: ModuleSettings, passes: int | None
) -> Any:
    """Batches of the split's rows: `passes` times over them, or endlessly when None."""
    batch_size = int(_hp(settings, "batch_size"))
    return fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, label_key=settings.label, num_epochs=passes
        ),
        schema,
    )


def _training_dataset(raw: Any, features: _Features) -> Any:
    """Prepared features and labels; a row whose label is not one of the classes is skipped."""
    settings = features.settings
    if settings.task != "multiclass_classification":

        def plain(x: Any, y: Any) -> Any:
            values, _ = densify(y, 0)
            return features.prepare(x), tf.reshape(tf.cast(values, tf.float32), [-1, 1])

        return raw.map(plain)
    ids = _class_ids(settings)

    def multiclass(x: Any, y: Any) -> Any:
        label = ids(y)
        keep = label >= 0
        prepared = {k: tf.boolean_mask(v, keep) for k, v in features.prepare(x).items()}
        return prepared, tf.boolean_mask(label, keep)

    return raw.map(multiclass)


def _encoded_inputs(
    features: _Features, sample: Any, tft_output: Any
) -> tuple[dict[str, Any], list[Any]]:
    """Keras inputs and their encodings; learns normalisation and vocabularies when needed."""
    inputs: dict[str, Any] = {}
    encoded: list[Any] = []
    for name in features.numeric:
        inputs[name] = keras.Input(shape=(1,), name=name, dtype=tf.float32)
        if tft_output is None and not name.endswith(MISSING_SUFFIX):
            norm = keras.layers.Normalization(axis=None)
            norm.adapt(sample.map(lambda x, _y, n=name: x[n]))
            encoded.append(norm(inputs[name]))
        else:
            encoded.append(inputs[name])
    for name in features.settings.categorical:
        if tft_output is None:
            inputs[name] = keras.Input(shape=(1,), name=name, dtype=tf.string)
            lookup = keras.layers.StringLookup(num_oov_indices=1, output_mode="one_hot")
            lookup.adapt(sample.map(lambda x, _y, n=name: x[n]))
            encoded.append(keras.layers.Reshape((lookup.vocabulary_size(),))(lookup(inputs[name])))
        else:
            inputs[name] = keras.Input(shape=(1,), name=name, dtype=tf.int64)
            size = tft_output.vocabulary_size_by_name(name) + 1
            one_hot = keras.layers.CategoryEncoding(num_tokens=size, output_mode="one_hot")
            encoded.append(one_hot(inputs[name]))
    return inputs, encoded


def _label_moments(sample: Any) -> tuple[float, float]:
    labels = tf.concat([tf.cast(tf.reshape(y, [-1]), tf.float32) for _x, y in sample], axis=0)
    mean = float(tf.reduce_mean(labels))
    std = float(tf.math.reduce_std(labels))
    return mean, max(std, 1e-6)


def build_model(features: _Features, sample: Any, tft_output: Any) -> Any:
    settings = features.settings
    inputs, encoded = _encoded_inputs(features, sample, tft_output)
    hidden = int(_hp(settings, "hidden_units"))
    regularizer = keras.regularizers.l2(float(_hp(settings, "l2")))
    dropout = float(_hp(settings, "dropout"))
    x = keras.layers.Concatenate()(encoded)
    for units in (hidden, max(hidden // 2, 2)):
        x = keras.layers.Dense(units, activation="relu", kernel_regularizer=regularizer)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    optimizer = keras.optimizers.Adam(float(_hp(settings, "learning_rate")))
    if settings.task == "binary_classification":
        output = keras.layers.Dense(1, activation="sigmoid")(x)
        model = keras.Model(inputs, output)
        model.compile(optimizer, loss="binary_crossentropy", metrics=[keras.metrics.AUC()])
    elif settings.task == "multiclass_classification":
        output = keras.layers.Dense(len(settings.classes), activation="softmax")(x)
        model = keras.Model(inputs, output)
        model.compile(optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        mean, std = _label_moments(sample)
        output = keras.layers.Rescaling(scale=std, offset=mean)(keras.layers.Dense(1)(x))
        model = keras.Model(inputs, output)
        model.compile(optimizer, loss="mse", metrics=[keras.metrics.RootMeanSquaredError()])
    return model


def _serving_signature(
    model: Any, features: _Features, raw_spec: dict[str, Any], tft_output: Any
) -> Any:
    settings = features.settings
    raw_spec = {k: v for k, v in raw_spec.items() if k != settings.label}
    if tft_output is not None:
        model.tft_layer = tft_output.transform_features_layer()
    classes = tf.constant(settings.classes or [""])

    @tf.function(  # type: ignore[untyped-decorator]
        input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")]
    )
    def serve(serialized: Any) -> dict[str, Any]:
        parsed = tf.io.parse_example(serialized, raw_spec)
        if tft_output is not None:
            parsed = model.tft_layer(parsed)
        outputs = model(features.prepare(parsed))
        if settings.task != "multiclass_classification":
            return {"outputs": outputs}
        rows = tf.shape(outputs)[0]
        return {"scores": outputs, "classes": tf.tile(classes[tf.newaxis, :], [rows, 1])}

    return serve


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """TFX Trainer entry point."""
    settings = ModuleSettings.from_custom_config(fn_args.custom_config)
    tft_output = None
    if fn_args.transform_output:
        import tensorflow_transform as tft

        tft_output = tft.TFTransformOutput(fn_args.transform_output)
        schema = tft_output.transformed_metadata.schema
        raw_spec = tft_output.raw_feature_spec()
        feature_spec = tft_output.transformed_feature_spec()
    else:
        from tensorflow_metadata.proto.v0 import schema_pb2
        from tensorflow_transform.tf_metadata import schema_utils
        from tfx.utils import io_utils

        schema = io_utils.parse_pbtxt_file(fn_args.schema_path, schema_pb2.Schema())
        raw_spec = schema_utils.schema_as_feature_spec(schema).feature_spec
        feature_spec = raw_spec

    features = _Features(settings, feature_spec, transformed=tft_output is not None)
    # With `epochs` the training split is read once per epoch, so every row is seen; with
    # train_steps it repeats endlessly and training stops after that many batches.
    once = 1 if settings.epochs else None
    raw_train = _raw_dataset(fn_args, fn_args.train_files, schema, settings, passes=once)
    features.learn_fills(raw_train.take(_SAMPLE_BATCHES))
    train = _training_dataset(raw_train, features)
    evaluation = _training_dataset(
        _raw_dataset(fn_args, fn_args.eval_files, schema, settings, passes=None), features
    )
    model = build_model(features, train.take(_SAMPLE_BATCHES), tft_output)
    history = model.fit(
        train,
        steps_per_epoch=None if settings.epochs else fn_args.train_steps,
        epochs=settings.epochs or 1,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
        verbose=2,
    )
    logging.info(
        "retrain trainer: %d epochs, %d steps",
        len(history.epoch),
        int(model.optimizer.iterations.numpy()),
    )
    signature = _serving_signature(model, features, raw_spec, tft_output)
    model.save(
        fn_args.serving_model_dir, save_format="tf", signatures={"serving_default": signature}
    )
