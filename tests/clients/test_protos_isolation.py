"""wire.protos works without TensorFlow, and beside it whichever of the two is imported first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.no_tensorflow import BLOCK_TENSORFLOW

REPO_ROOT = Path(__file__).resolve().parents[2]


USE_WITHOUT_TENSORFLOW = """
import sys

from google.protobuf import descriptor_pool, json_format
from google.protobuf.message import Message
from wire import protos

request = protos.PredictRequest(output_filter=["y"])
request.model_spec.name = "m"
request.model_spec.version.value = 2
request.inputs["x"].dtype = protos.DataType.DT_FLOAT
request.inputs["x"].tensor_shape.dim.add(size=2)
request.inputs["x"].float_val.extend([1.5, -2.0])
assert protos.PredictRequest.FromString(request.SerializeToString()) == request

signatures = protos.SignatureDefMap()
signatures.signature_def["serving_default"].inputs["x"].name = "x:0"
metadata = protos.GetModelMetadataResponse()
metadata.metadata["signature_def"].Pack(signatures)
unpacked = protos.SignatureDefMap()
assert metadata.metadata["signature_def"].Unpack(unpacked) and unpacked == signatures
text = json_format.MessageToJson(metadata, descriptor_pool=protos.POOL)
assert "tensorflow.serving.SignatureDefMap" in text, text

for name in protos.__all__:
    value = getattr(protos, name)
    if isinstance(value, type) and issubclass(value, Message):
        value.FromString(value().SerializeToString())
for method in protos.METHODS.values():
    method.request.FromString(method.request().SerializeToString())

try:
    descriptor_pool.Default().FindMessageTypeByName("tensorflow.serving.PredictRequest")
except KeyError:
    pass
else:
    raise SystemExit("our messages leaked into the default descriptor pool")
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in {"tensorflow", "tensorflow_serving"})
assert not loaded, loaded
"""

IMPORT_OURS_THEN_TF_SERVING = """
from wire import protos
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2
"""

# A fresh import of our package once TensorFlow's messages are in the default pool: the
# TensorFlow-first order, without paying for a second TensorFlow import in another process.
IMPORT_OURS_AGAIN = """
import sys

first_classes = protos.PredictRequest
for name in [name for name in sys.modules if name.partition(".")[0] == "wire"]:
    del sys.modules[name]
from wire import protos
assert protos.PredictRequest is not first_classes
"""

USE_BOTH = """
ours = protos.PredictRequest()
ours.inputs["x"].dtype = protos.DataType.DT_STRING
ours.inputs["x"].string_val.append(b"a")
official = predict_pb2.PredictRequest.FromString(ours.SerializeToString())
assert official.inputs["x"].string_val == [b"a"], official
assert protos.PredictRequest.FromString(official.SerializeToString()) == ours

signatures = protos.SignatureDefMap()
signatures.signature_def["serving_default"].method_name = "tensorflow/serving/predict"
response = protos.GetModelMetadataResponse()
response.metadata["signature_def"].Pack(signatures)
parsed = get_model_metadata_pb2.GetModelMetadataResponse.FromString(response.SerializeToString())
unpacked = get_model_metadata_pb2.SignatureDefMap()
assert parsed.metadata["signature_def"].Unpack(unpacked), parsed
assert unpacked.signature_def["serving_default"].method_name == "tensorflow/serving/predict"
assert predict_pb2.PredictRequest is not protos.PredictRequest
"""


def _run(*parts: str) -> None:
    """Run the script parts in a fresh interpreter; it must print only "ok" at the end."""
    script = "\n".join(textwrap.dedent(part) for part in (*parts, 'print("ok")'))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr[-3000:]


def test_client_messages_work_with_tensorflow_unimportable() -> None:
    _run(BLOCK_TENSORFLOW, USE_WITHOUT_TENSORFLOW)


def test_both_pools_coexist_in_either_import_order() -> None:
    _run(IMPORT_OURS_THEN_TF_SERVING, USE_BOTH, IMPORT_OURS_AGAIN, USE_BOTH)
