"""The hand-built schema classes match TF Serving's wire format and live alongside TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.descriptor import FieldDescriptor

from serving_config import (
    BatchingParameters,
    ConfigParseError,
    ModelServerConfig,
    MonitoringConfig,
    SSLConfig,
    parse_text,
)
from serving_config.schema import PrometheusConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
_INT64 = ".google.protobuf.Int64Value"

# (message class, field, number, protobuf type or wrapper name, repeated) from TF Serving's protos.
FIELDS = [
    (PrometheusConfig, "enable", 1, FieldDescriptor.TYPE_BOOL, False),
    (PrometheusConfig, "path", 2, FieldDescriptor.TYPE_STRING, False),
    (MonitoringConfig, "prometheus_config", 1, "tensorflow.serving.PrometheusConfig", False),
    (BatchingParameters, "max_batch_size", 1, _INT64, False),
    (BatchingParameters, "batch_timeout_micros", 2, _INT64, False),
    (BatchingParameters, "max_enqueued_batches", 3, _INT64, False),
    (BatchingParameters, "num_batch_threads", 4, _INT64, False),
    (BatchingParameters, "thread_pool_name", 5, ".google.protobuf.StringValue", False),
    (BatchingParameters, "allowed_batch_sizes", 6, FieldDescriptor.TYPE_INT64, True),
    (BatchingParameters, "pad_variable_length_inputs", 7, FieldDescriptor.TYPE_BOOL, False),
    (BatchingParameters, "enable_large_batch_splitting", 8, ".google.protobuf.BoolValue", False),
    (BatchingParameters, "max_execution_batch_size", 9, _INT64, False),
    (SSLConfig, "server_key", 1, FieldDescriptor.TYPE_STRING, False),
    (SSLConfig, "server_cert", 2, FieldDescriptor.TYPE_STRING, False),
    (SSLConfig, "custom_ca", 3, FieldDescriptor.TYPE_STRING, False),
    (SSLConfig, "client_verify", 4, FieldDescriptor.TYPE_BOOL, False),
]


@pytest.mark.parametrize(
    ("cls", "name", "number", "kind", "repeated"),
    [pytest.param(*row, id=f"{row[0].DESCRIPTOR.name}.{row[1]}") for row in FIELDS],
)
def test_field_matches_tf_serving(cls, name: str, number: int, kind, repeated: bool) -> None:
    field = cls.DESCRIPTOR.fields_by_name[name]
    assert field.number == number
    if isinstance(kind, str):
        assert field.message_type.full_name == kind.lstrip(".")
    else:
        assert field.type == kind
    assert field.is_repeated == repeated


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(c, id=c.DESCRIPTOR.name)
        for c in (BatchingParameters, MonitoringConfig, SSLConfig)
    ],
)
def test_messages_have_exactly_the_listed_fields(cls) -> None:
    listed = {row[1] for row in FIELDS if row[0] is cls}
    assert set(cls.DESCRIPTOR.fields_by_name) == listed
    assert cls.DESCRIPTOR.full_name == f"tensorflow.serving.{cls.DESCRIPTOR.name}"


@pytest.mark.parametrize(
    ("kind", "text", "wire"),
    [
        pytest.param("batching", "max_batch_size { value: 32 }", b"\x0a\x02\x08\x20", id="wrapper"),
        pytest.param("batching", "allowed_batch_sizes: [4, 8]", b"\x32\x02\x04\x08", id="packed"),
        pytest.param("batching", "pad_variable_length_inputs: true", b"\x38\x01", id="bool"),
        pytest.param(
            "monitoring",
            'prometheus_config { enable: true path: "/m" }',
            b"\x0a\x06\x08\x01\x12\x02/m",
            id="monitoring",
        ),
        pytest.param("ssl", 'server_key: "k" client_verify: true', b"\x0a\x01k\x20\x01", id="ssl"),
    ],
)
def test_wire_format_is_tf_servings(kind: str, text: str, wire: bytes) -> None:
    message = parse_text(kind, text)
    assert message.SerializeToString() == wire
    assert type(message).FromString(wire) == message


def test_wrapper_fields_distinguish_unset_from_zero() -> None:
    params = parse_text(BatchingParameters, "batch_timeout_micros { value: 0 }")
    assert params.HasField("batch_timeout_micros")
    assert not params.HasField("max_batch_size")


def test_parse_text_accepts_a_kind_or_a_class() -> None:
    text = 'model_config_list { config { name: "a" } }'
    assert parse_text("models", text) == parse_text(ModelServerConfig, text)
    with pytest.raises(KeyError, match="unknown config kind"):
        parse_text("yaml", text)


def test_parse_error_carries_the_position() -> None:
    with pytest.raises(ConfigParseError) as caught:
        parse_text("ssl", 'server_key: "k"\n  client_verify: maybe\n')
    assert (caught.value.line, caught.value.column) == (2, 18)
    assert caught.value.message == 'Expected "true" or "false".'


def _run(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# Someone else registering TF Serving's real session_bundle_config.proto (or a different
# BatchingParameters) in the default pool must not break the schema, and vice versa.
_CLASH = """
from google.protobuf import descriptor_pb2, descriptor_pool
proto = descriptor_pb2.FileDescriptorProto(name="other/session_bundle_config.proto",
                                           package="tensorflow.serving", syntax="proto3")
message = proto.message_type.add(name="BatchingParameters")
message.field.add(name="something_else", number=1, type=9, label=1)
descriptor_pool.Default().Add(proto)
from serving_config.schema import BatchingParameters
params = BatchingParameters()
params.max_batch_size.value = 4
assert BatchingParameters.FromString(params.SerializeToString()).max_batch_size.value == 4
print("ok")
"""


def test_schema_survives_a_clashing_name_in_the_default_pool() -> None:
    out, err = _run(_CLASH).communicate(timeout=60)
    assert out.strip() == "ok", err


# One process covers both import orders, as importing TensorFlow takes seconds: the schema
# is built once before TensorFlow and TF Serving's protos are imported, and once after.
_WITH_TENSORFLOW = """
import importlib.util
import serving_config.schema as before
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2
spec = importlib.util.spec_from_file_location("schema_after_tensorflow", before.__file__)
after = importlib.util.module_from_spec(spec)
spec.loader.exec_module(after)
assert after.BatchingParameters is not before.BatchingParameters
for schema in (before, after):
    params = schema.parse_text("batching", "max_batch_size { value: 8 } allowed_batch_sizes: 8")
    assert schema.BatchingParameters.FromString(params.SerializeToString()) == params
    monitoring = schema.parse_text("monitoring", "prometheus_config { enable: true }")
    assert monitoring.prometheus_config.enable
    assert schema.SSLConfig(client_verify=True).SerializeToString() == b"\\x20\\x01"
request = predict_pb2.PredictRequest()
request.inputs["x"].CopyFrom(tf.make_tensor_proto([1.0, 2.0]))
assert predict_pb2.PredictRequest.FromString(request.SerializeToString()) == request
print("ok")
"""


@pytest.mark.slow
def test_schema_coexists_with_tensorflow_in_either_import_order() -> None:
    out, err = _run(_WITH_TENSORFLOW).communicate(timeout=300)
    assert out.strip().endswith("ok"), err[-2000:]
