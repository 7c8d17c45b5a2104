"""Build the SavedModel's signatures (predict, classify, regress) around a Keras model."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from export.spec import CLASSIFY, REGRESS, SERVING_DEFAULT, InputSpec, ServingSpec

METHOD_NAMES = {
    SERVING_DEFAULT: "tensorflow/serving/predict",
    CLASSIFY: "tensorflow/serving/classify",
    REGRESS: "tensorflow/serving/regress",
}


def tf_dtype(spec: InputSpec) -> tf.DType:
    return tf.string if spec.dtype == "string" else tf.as_dtype(spec.dtype)


def _feature_config(spec: InputSpec) -> tf.io.FixedLenFeature:
    dtype = tf_dtype(spec)
    parse_dtype = (
        dtype
        if dtype in (tf.string, tf.int64, tf.float32)
        else (tf.int64 if dtype.is_integer else tf.float32)
    )
    return tf.io.FixedLenFeature(list(spec.shape), parse_dtype)


class ServingModule(tf.Module):  # type: ignore[misc]  # TensorFlow has no type information
    """The object that is saved: the serving functions and exactly the state they use.

    The Keras model itself is not an attribute: TF's saver would then write whatever the
    model tracks (its optimizer's slots among it), while the variables its layers hold are
    not reachable the way the TF1 loader restores them, so TF Serving's session fails with
    `Could not find variable ...`. `track_state` lists the variables and lookup tables the
    traced functions capture instead, as Keras's own ExportArchive does.
    """

    def __init__(self, spec: ServingSpec) -> None:
        super().__init__(name=None)
        self._spec = spec  # a plain dataclass: not followed by the saver
        self.tracked = dict(spec.tracked)
        if spec.class_names is not None:
            self.class_names = tf.constant(spec.class_names)

    def track_state(self, concrete: list[Any]) -> None:
        """Track every variable the traced functions capture and the model's lookup tables."""
        seen: dict[int, tf.Variable] = {}
        for function in concrete:
            for variable in function.variables:
                seen.setdefault(id(variable), variable)
        self.model_variables = list(seen.values())
        self.model_resources = _lookup_tables(self._spec.model)

    def model_outputs(self, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Serving inputs -> named outputs, exactly as serving_default returns them."""
        spec = self._spec
        model_in = (
            spec.preprocess(features) if spec.preprocess else _model_arguments(spec, features)
        )
        raw = spec.model(model_in, training=False)
        if spec.task == "classifier":
            probabilities = tf.cast(raw, tf.float32)
            class_ids = tf.argmax(probabilities, axis=-1)
            return {
                "class_ids": class_ids,
                "class_names": tf.gather(self.class_names, class_ids),
                "probabilities": probabilities,
            }
        if spec.task == "regressor":
            # serving_default answers in the model's own shape ((N,1) stays (N,1)); only the
            # regress signature, whose contract is one value per example, flattens it.
            name = spec.output_names[0] if spec.output_names else "prediction"
            return {name: tf.cast(raw, tf.float32)}
        return _name_outputs(spec, raw)

    def parse_examples(self, serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        config = {s.name: _feature_config(s) for s in self._spec.inputs}
        parsed = tf.io.parse_example(serialized, config)
        return {s.name: tf.cast(parsed[s.name], tf_dtype(s)) for s in self._spec.inputs}


def _lookup_tables(model: Any) -> list[Any]:
    """The TF resources (lookup tables of StringLookup, TextVectorization, ...) under `model`."""
    from tensorflow.saved_model.experimental import TrackableResource

    try:
        found = tf.train.TrackableView(model).descendants()
    except TypeError:  # a layer whose tracking children cannot be listed holds no tables
        return []
    return [item for item in found if isinstance(item, TrackableResource)]


def _model_arguments(spec: ServingSpec, features: dict[str, tf.Tensor]) -> Any:
    if len(spec.inputs) == 1:
        return features[spec.inputs[0].name]
    return features


def _as_vector(raw: tf.Tensor) -> tf.Tensor:
    return tf.reshape(tf.cast(raw, tf.float32), [-1])


def _output_layer_names(model: Any, count: int) -> list[str]:
    """Default names for a list or single-tensor output: the model's output layers' names
    (a Sequential's last layer), else output_0, output_1, ..."""
    names = list(getattr(model, "output_names", None) or [])
    if not names and isinstance(model, keras.Sequential) and model.layers:
        names = [model.layers[-1].name]
    return names if len(names) == count else [f"output_{i}" for i in range(count)]


def _name_outputs(spec: ServingSpec, raw: Any) -> dict[str, tf.Tensor]:
    """Outputs keyed by name: a model that returns a dict names them itself (its keys, never
    matched by position); a list or a single tensor takes `spec.output_names` in order.

    Raises:
        ValueError: the names given do not fit the model's outputs.
    """
    if isinstance(raw, dict):
        if spec.output_names and set(spec.output_names) != set(raw):
            raise ValueError(
                f"the model names its outputs {', '.join(sorted(raw))}; output names"
                f" {', '.join(spec.output_names)} do not match them (leave them out)"
            )
        return dict(raw)
    tensors = list(raw) if isinstance(raw, list | tuple) else [raw]
    names = spec.output_names or _output_layer_names(spec.model, len(tensors))
    if len(names) != len(tensors):
        raise ValueError(f"{len(names)} output names given for {len(tensors)} model outputs")
    return dict(zip(names, tensors, strict=True))


def build_signatures(
    module: ServingModule, spec: ServingSpec
) -> dict[str, tf.types.experimental.PolymorphicFunction]:
    """The serving functions, keyed by signature name (save their concrete functions)."""
    input_signature = [
        {s.name: tf.TensorSpec([None, *s.shape], tf_dtype(s), name=s.name) for s in spec.inputs}
    ]

    @tf.function(input_signature=input_signature)  # type: ignore[untyped-decorator]  # TF: no types
    def predict(features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return module.model_outputs(features)

    examples_spec = [tf.TensorSpec([None], tf.string, name="inputs")]

    @tf.function(input_signature=examples_spec)  # type: ignore[untyped-decorator]  # TF: no types
    def classify(inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        outputs = module.model_outputs(module.parse_examples(inputs))
        scores = outputs["probabilities"]
        batch = tf.shape(scores)[0]
        classes = tf.tile(tf.expand_dims(module.class_names, 0), [batch, 1])
        return {"classes": classes, "scores": scores}

    @tf.function(input_signature=examples_spec)  # type: ignore[untyped-decorator]  # TF: no types
    def regress(inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        outputs = module.model_outputs(module.parse_examples(inputs))
        return {"outputs": _as_vector(next(iter(outputs.values())))}

    functions = {SERVING_DEFAULT: predict, CLASSIFY: classify, REGRESS: regress}
    return {name: functions[name] for name in spec.signature_names()}


def eager_reference(functions: dict[str, Any]) -> Any:
    """Run a signature's Python body eagerly on the live Keras model (validation's reference)."""

    def reference(signature: str, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        body = functions[signature].python_function
        outputs: dict[str, tf.Tensor] = (
            body(inputs) if signature == SERVING_DEFAULT else body(inputs["inputs"])
        )
        return outputs

    return reference
