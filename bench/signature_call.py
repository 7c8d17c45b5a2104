"""The floor's compute part: the serving signature called in-process, with no transport."""

from __future__ import annotations

import tensorflow as tf

from bench.workload import Workload

SIGNATURE = "serving_default"


class SignatureCall:
    """`signatures["serving_default"](**tensors)` on tensors prebuilt from the request."""

    def __init__(self, workload: Workload) -> None:
        # The loaded object owns the variables: keep it as long as its signature is called.
        self._loaded = tf.saved_model.load(str(workload.version_dir))
        name = workload.request.model_spec.signature_name or SIGNATURE
        self._function = self._loaded.signatures[name]
        self._tensors = {
            alias: tf.constant(tf.make_ndarray(proto))
            for alias, proto in workload.request.inputs.items()
        }

    def __call__(self) -> dict[str, tf.Tensor]:
        return self._function(**self._tensors)
