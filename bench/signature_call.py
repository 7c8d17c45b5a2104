"""The floor's compute part: the serving signature run in-process, with no transport.

`SessionCall` is what the server does for a request (runtime.SessionBundle: Session run by
tensor names), so it is the floor. `ObjectSignatureCall` is TensorFlow's TF2 object loader
calling the same signature, measured beside it for comparison only.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from bench.workload import Workload
from runtime import DEFAULT_SIGNATURE, RunTimeout, load_bundle

# The server runs every benchmarked request with a RunOptions timeout: REST's default
# --rest_api_timeout_in_ms (30 s), or what the bench clients' 60 s gRPC deadline leaves. Any
# positive timeout takes the same path in TensorFlow, so the floor runs with one too.
RUN_TIMEOUT = RunTimeout(30_000)


class SessionCall:
    """`SessionBundle.run` on arrays prebuilt from the request (TF Serving's session path),
    with a run timeout as the server's runs have."""

    def __init__(self, workload: Workload) -> None:
        self._bundle = load_bundle(workload.version_dir, ["serve"])
        self._name = workload.request.model_spec.signature_name or DEFAULT_SIGNATURE
        self._arrays = {
            alias: tf.make_ndarray(proto) for alias, proto in workload.request.inputs.items()
        }

    def __call__(self) -> dict[str, np.ndarray]:
        return self._bundle.run(self._name, self._arrays, timeout=RUN_TIMEOUT)


class ObjectSignatureCall:
    """`tf.saved_model.load(...).signatures[name](**tensors)` on prebuilt tensors."""

    def __init__(self, workload: Workload) -> None:
        # The loaded object owns the variables: keep it as long as its signature is called.
        self._loaded = tf.saved_model.load(str(workload.version_dir))
        name = workload.request.model_spec.signature_name or DEFAULT_SIGNATURE
        self._function = self._loaded.signatures[name]
        self._tensors = {
            alias: tf.constant(tf.make_ndarray(proto))
            for alias, proto in workload.request.inputs.items()
        }

    def __call__(self) -> dict[str, tf.Tensor]:
        outputs: dict[str, tf.Tensor] = self._function(**self._tensors)  # the signature's
        return outputs
