"""Predict, classify and regress on one servable, with TF Serving's checks and messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import input_pb2

from server.errors import Code, ServingError, failed_precondition, invalid_argument
from server.servable import DEFAULT_SIGNATURE
from server.tensors import dtype_name, tf_dtype

# run(signature, inputs, output aliases to fetch (all when empty)) -> outputs by alias
Run = Callable[..., dict[str, np.ndarray]]
ClassifyResult = list[list[tuple[bytes, float]]]

CLASSIFY_INPUTS = "inputs"
CLASSIFY_CLASSES = "classes"
CLASSIFY_SCORES = "scores"
REGRESS_OUTPUTS = "outputs"


def check_predict_inputs(
    signature: meta_graph_pb2.SignatureDef,
    inputs: dict[str, np.ndarray],
    numpy_dtypes: Mapping[str, np.dtype] | None = None,
) -> None:
    """TF Serving's input checks: the alias set must match, dtypes must equal the signature's.

    numpy_dtypes, the signature's input dtypes as numpy dtypes (Servable.input_dtypes), lets
    the common case (every alias, every dtype exact) pass without naming anything.

    Raises:
        ServingError: INVALID_ARGUMENT naming the extra, missing or mistyped inputs.
    """
    if (
        numpy_dtypes is not None
        and len(inputs) == len(numpy_dtypes)
        and all(
            (want := numpy_dtypes.get(alias)) is not None and array.dtype == want
            for alias, array in inputs.items()
        )
    ):
        return
    expected, sent = set(signature.inputs), set(inputs)
    if expected != sent:
        extra = ",".join(sorted(sent - expected))
        missing = ",".join(sorted(expected - sent))
        raise invalid_argument(
            f"input size does not match signature: {len(sent)}!={len(expected)} for inputs "
            f"{','.join(sorted(expected))}. Sent extra: {{{extra}}}. Missing but required: {{{missing}}}."
        )
    for index, alias in enumerate(sorted(expected)):
        want = signature.inputs[alias].dtype
        got = tf_dtype(inputs[alias].dtype)
        if want != got:
            raise invalid_argument(
                f"Expects arg[{index}] to be {dtype_name(want)} but {dtype_name(got)} is provided"
            )


def check_output_filter(
    signature: meta_graph_pb2.SignatureDef, output_filter: Sequence[str]
) -> None:
    seen: set[str] = set()
    for alias in output_filter:
        if alias not in signature.outputs:
            known = ",".join(sorted(signature.outputs))
            raise invalid_argument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be in the set {{{known}}}."
            )
        if alias in seen:
            raise invalid_argument(f"duplicate output tensor alias: {alias}")
        seen.add(alias)


def predict(
    signatures: dict[str, meta_graph_pb2.SignatureDef],
    run: Run,
    signature_name: str,
    inputs: dict[str, np.ndarray],
    output_filter: Sequence[str] = (),
    input_dtypes: Mapping[str, Mapping[str, np.dtype] | None] | None = None,
) -> dict[str, np.ndarray]:
    """Run a predict signature; outputs restricted to `output_filter` when it is not empty.

    Raises:
        ServingError: FAILED_PRECONDITION for an unknown signature, INVALID_ARGUMENT for bad
            inputs or filters, or the code TensorFlow failed with.
    """
    name = signature_name or DEFAULT_SIGNATURE
    signature = signatures.get(name)
    if signature is None:
        raise failed_precondition(f'Serving signature key "{name}" not found.')
    check_predict_inputs(signature, inputs, (input_dtypes or {}).get(name))
    if output_filter:
        check_output_filter(signature, output_filter)
    # Only the filtered outputs are fetched, so the graph computes no more than they need.
    return run(name, inputs, tuple(output_filter))


def serialized_examples(input_proto: input_pb2.Input) -> list[bytes]:
    """The request's examples as serialized tf.Example, context merged in as TF Serving does.

    Raises:
        ServingError: INVALID_ARGUMENT `Input is empty.` when there are no examples.
    """
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        examples = [e.SerializeToString() for e in input_proto.example_list.examples]
    elif kind == "example_list_with_context":
        with_context = input_proto.example_list_with_context
        context = with_context.context.SerializeToString()
        # Concatenated serializations merge like protobuf MergeFrom: the example's entry wins.
        examples = [context + e.SerializeToString() for e in with_context.examples]
    else:
        examples = []
    if not examples:
        raise invalid_argument("Input is empty.")
    return examples


def _example_signature(
    signatures: dict[str, meta_graph_pb2.SignatureDef], signature_name: str
) -> tuple[str, meta_graph_pb2.SignatureDef]:
    name = signature_name or DEFAULT_SIGNATURE
    signature = signatures.get(name)
    if signature is None:
        raise invalid_argument(f"No signature was found with the name: {name}")
    if list(signature.inputs) != [CLASSIFY_INPUTS]:
        raise invalid_argument(
            f"Expected one input Tensor named '{CLASSIFY_INPUTS}' in signature {name}, "
            f"found: {','.join(sorted(signature.inputs))}"
        )
    if signature.inputs[CLASSIFY_INPUTS].dtype != tf.string.as_datatype_enum:
        raise invalid_argument(
            f"Input tensor '{CLASSIFY_INPUTS}' of signature {name} must be DT_STRING"
        )
    return name, signature


def _batch_rows(name: str, output: np.ndarray, batch: int, rank: int) -> np.ndarray:
    if output.ndim != rank or output.shape[0] != batch:
        raise invalid_argument(
            f"Expected output tensor '{name}' of shape [batch_size{', num_classes' if rank == 2 else ''}] "
            f"with batch_size {batch}, got shape {list(output.shape)}"
        )
    return output


def classify(
    signatures: dict[str, meta_graph_pb2.SignatureDef],
    run: Run,
    signature_name: str,
    examples: list[bytes],
) -> ClassifyResult:
    """Classify serialized examples: per example a list of (label, score).

    Raises:
        ServingError: INVALID_ARGUMENT for an unknown or unfit signature or bad outputs.
    """
    name, signature = _example_signature(signatures, signature_name)
    outputs_wanted = set(signature.outputs) & {CLASSIFY_CLASSES, CLASSIFY_SCORES}
    if not outputs_wanted or set(signature.outputs) - {CLASSIFY_CLASSES, CLASSIFY_SCORES}:
        raise invalid_argument(
            f"Expected classification signature outputs to be '{CLASSIFY_CLASSES}' and/or "
            f"'{CLASSIFY_SCORES}', found: {','.join(sorted(signature.outputs))}"
        )
    outputs = run(name, {CLASSIFY_INPUTS: np.array(examples, dtype=object)})
    batch = len(examples)
    classes = outputs.get(CLASSIFY_CLASSES)
    scores = outputs.get(CLASSIFY_SCORES)
    if classes is not None:
        classes = _batch_rows(CLASSIFY_CLASSES, classes, batch, 2)
    if scores is not None:
        scores = _batch_rows(CLASSIFY_SCORES, scores, batch, 2)
    if classes is not None and scores is not None and classes.shape != scores.shape:
        raise invalid_argument(
            f"Tensors class and score should match in shape: {list(classes.shape)} vs {list(scores.shape)}"
        )
    present = classes if classes is not None else scores
    assert present is not None  # the signature has classes or scores, and run returns all outputs
    width = present.shape[1]
    result = []
    for row in range(batch):
        labels = classes[row] if classes is not None else [b""] * width
        values = scores[row] if scores is not None else [0.0] * width
        result.append(
            [(bytes(label), float(score)) for label, score in zip(labels, values, strict=True)]
        )
    return result


def regress(
    signatures: dict[str, meta_graph_pb2.SignatureDef],
    run: Run,
    signature_name: str,
    examples: list[bytes],
) -> list[float]:
    """Regress serialized examples: one float per example.

    Raises:
        ServingError: INVALID_ARGUMENT for an unknown or unfit signature or bad outputs.
    """
    name, signature = _example_signature(signatures, signature_name)
    if list(signature.outputs) != [REGRESS_OUTPUTS]:
        raise invalid_argument(
            f"Expected one output Tensor named '{REGRESS_OUTPUTS}' in signature {name}, "
            f"found: {','.join(sorted(signature.outputs))}"
        )
    values = run(name, {CLASSIFY_INPUTS: np.array(examples, dtype=object)})[REGRESS_OUTPUTS]
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or values.shape[0] != len(examples):
        raise invalid_argument(
            f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] with "
            f"batch_size {len(examples)}, got {list(values.shape)}"
        )
    if values.dtype != np.float32:
        raise ServingError(
            Code.INVALID_ARGUMENT, f"Expected output Tensor of DT_FLOAT, got {values.dtype}"
        )
    return [float(v) for v in values]
