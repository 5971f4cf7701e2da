"""A small Keras network for tabular data: binary classification or regression.

TFX calls `run_fn`. Without Transform the model carries its own preprocessing (normalisation
and string lookups learnt from a sample of the training data); with Transform it reads the
transformed features and the serving signature applies the Transform graph. Either way the
exported `serving_default` signature takes serialized tf.Examples, which is what TFMA and
Vertex batch prediction send.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tf_keras as keras
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from pipelines.settings import ModuleSettings

_SAMPLE_BATCHES = 20


def _dataset(fn_args: Any, files: list[str], schema: Any, settings: ModuleSettings) -> Any:
    batch_size = int(settings.hyperparameter("batch_size", 64))
    dataset = fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=settings.label),
        schema,
    )
    return dataset.map(lambda features, label: (_prepare(features, settings), label))


def _prepare(features: dict[str, Any], settings: ModuleSettings) -> dict[str, Any]:
    """Dense tensors of shape [batch, 1]; numbers as float32."""
    prepared = {}
    for name in settings.numeric + settings.categorical:
        tensor = features[name]
        if isinstance(tensor, tf.sparse.SparseTensor):
            default = 0 if tensor.dtype != tf.string else ""
            tensor = tf.sparse.to_dense(tensor, default_value=default)
        tensor = tf.reshape(tensor, [-1, 1])
        prepared[name] = tf.cast(tensor, tf.float32) if name in settings.numeric else tensor
    return prepared


def _encoded_inputs(
    settings: ModuleSettings, sample: Any, tft_output: Any
) -> tuple[dict[str, Any], list[Any]]:
    """Keras inputs and their encodings; learns normalisation and vocabularies when needed."""
    inputs: dict[str, Any] = {}
    encoded: list[Any] = []
    for name in settings.numeric:
        inputs[name] = keras.Input(shape=(1,), name=name, dtype=tf.float32)
        if tft_output is None:
            norm = keras.layers.Normalization(axis=None)
            norm.adapt(sample.map(lambda x, _y, n=name: x[n]))
            encoded.append(norm(inputs[name]))
        else:
            encoded.append(inputs[name])
    for name in settings.categorical:
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


def build_model(settings: ModuleSettings, sample: Any, tft_output: Any) -> Any:
    inputs, encoded = _encoded_inputs(settings, sample, tft_output)
    hidden = int(settings.hyperparameter("hidden_units", 16))
    x = keras.layers.Concatenate()(encoded)
    x = keras.layers.Dense(hidden, activation="relu")(x)
    x = keras.layers.Dense(max(hidden // 2, 2), activation="relu")(x)
    optimizer = keras.optimizers.Adam(settings.hyperparameter("learning_rate", 0.01))
    if settings.task == "binary_classification":
        output = keras.layers.Dense(1, activation="sigmoid")(x)
        model = keras.Model(inputs, output)
        model.compile(optimizer, loss="binary_crossentropy", metrics=[keras.metrics.AUC()])
    else:
        mean, std = _label_moments(sample)
        output = keras.layers.Rescaling(scale=std, offset=mean)(keras.layers.Dense(1)(x))
        model = keras.Model(inputs, output)
        model.compile(optimizer, loss="mse", metrics=[keras.metrics.RootMeanSquaredError()])
    return model


def _serving_signature(
    model: Any, settings: ModuleSettings, raw_spec: dict[str, Any], tft_output: Any
) -> Any:
    raw_spec = {k: v for k, v in raw_spec.items() if k != settings.label}
    if tft_output is not None:
        model.tft_layer = tft_output.transform_features_layer()

    @tf.function(  # type: ignore[untyped-decorator]
        input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")]
    )
    def serve(serialized: Any) -> dict[str, Any]:
        features = tf.io.parse_example(serialized, raw_spec)
        if tft_output is not None:
            features = model.tft_layer(features)
        return {"outputs": model(_prepare(features, settings))}

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
    else:
        from tensorflow_metadata.proto.v0 import schema_pb2
        from tensorflow_transform.tf_metadata import schema_utils
        from tfx.utils import io_utils

        schema = io_utils.parse_pbtxt_file(fn_args.schema_path, schema_pb2.Schema())
        raw_spec = schema_utils.schema_as_feature_spec(schema).feature_spec

    train = _dataset(fn_args, fn_args.train_files, schema, settings)
    evaluation = _dataset(fn_args, fn_args.eval_files, schema, settings)
    model = build_model(settings, train.take(_SAMPLE_BATCHES), tft_output)
    model.fit(
        train.repeat(),
        steps_per_epoch=fn_args.train_steps,
        validation_data=evaluation.repeat(),
        validation_steps=fn_args.eval_steps,
        epochs=1,
        verbose=2,
    )
    signature = _serving_signature(model, settings, raw_spec, tft_output)
    model.save(
        fn_args.serving_model_dir, save_format="tf", signatures={"serving_default": signature}
    )
