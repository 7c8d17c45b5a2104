"""TF Serving's wire formats without TensorFlow: its messages and gRPC methods (`wire.protos`),
TensorProto <-> numpy (`wire.tensors`) and TFRecord framing (`wire.tfrecord`).

The client, the server, the request logs and the tools all read and write the wire through
this one package; it imports none of them.
"""

from __future__ import annotations

# The signature a request names when it names none (TF Serving's kDefaultServingSignatureDefKey).
DEFAULT_SIGNATURE = "serving_default"

__all__ = ["DEFAULT_SIGNATURE"]
