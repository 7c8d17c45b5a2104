"""Bytes from our classes parse to equal tensorflow-serving-api messages, and back."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2
from tensorflow_serving.config import logging_config_pb2, model_server_config_pb2

from tests.clients.protos_support import OUR_CLASSES, official_class, random_messages
from wire import protos

PROPERTY = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# protobuf's own wrappers.proto and any.proto are copied, not written by us.
WRITTEN_BY_US = [name for name in OUR_CLASSES if not name.startswith("google.protobuf.")]
# Responses a client decodes, and the config it sends, with every field set.
COMPLETE = [
    protos.GetModelMetadataResponse,
    protos.GetModelStatusResponse,
    protos.ClassificationResponse,
    protos.RegressionResponse,
    protos.MultiInferenceResponse,
    protos.PredictResponse,
    protos.ReloadConfigRequest,
    protos.ReloadConfigResponse,
]


# The project's own LogMetadata fields (request id, latency, ...), unknown to TF Serving's schema.
PROJECT_JSON_NAMES = {"requestId", "timestampMicros", "latencyMicros", "transport"}


def _without_project_fields(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: _without_project_fields(v) for k, v in value.items() if k not in PROJECT_JSON_NAMES
        }
    if isinstance(value, list):
        return [_without_project_fields(v) for v in value]
    return value


def assert_wire_compatible(ours: Message) -> None:
    """The official class parses our bytes to the same content, and its bytes parse back to ours
    (the project's own LogMetadata fields ride through it as unknown fields)."""
    official = official_class(ours.DESCRIPTOR.full_name).FromString(ours.SerializeToString())
    # Unknown fields and mismatched JSON names would both make the dicts differ.
    assert json_format.MessageToDict(official) == _without_project_fields(
        json_format.MessageToDict(ours, descriptor_pool=protos.POOL)
    )
    assert type(ours).FromString(official.SerializeToString()) == ours


@pytest.mark.parametrize("full_name", [pytest.param(name, id=name) for name in WRITTEN_BY_US])
@PROPERTY
@given(data=st.data())
def test_every_message_round_trips(full_name: str, data: st.DataObject) -> None:
    assert_wire_compatible(data.draw(random_messages(OUR_CLASSES[full_name])))


@pytest.mark.parametrize("cls", [pytest.param(cls, id=cls.DESCRIPTOR.name) for cls in COMPLETE])
@PROPERTY
@given(data=st.data())
def test_complete_message_round_trips(cls: type[Message], data: st.DataObject) -> None:
    assert_wire_compatible(data.draw(random_messages(cls, complete=True)))


_INT32 = st.integers(-(2**31), 2**31 - 1)
_FLOAT32 = st.floats(width=32, allow_nan=False)
_DOUBLE = st.floats(allow_nan=False)
_SMALL_INTS = ("INT16", "INT8", "UINT8", "UINT16", "QINT8", "QUINT8", "QINT16", "QUINT16", "QINT32")
_FLOAT8 = (
    "FLOAT8_E5M2",
    "FLOAT8_E4M3FN",
    "FLOAT8_E4M3FNUZ",
    "FLOAT8_E4M3B11FNUZ",
    "FLOAT8_E5M2FNUZ",
)
# The value field TensorFlow fills for each dtype (tensor_util.make_tensor_proto, AsProtoField).
TYPED_FIELDS: dict[str, tuple[str, st.SearchStrategy]] = {
    "DT_FLOAT": ("float_val", _FLOAT32),
    "DT_DOUBLE": ("double_val", _DOUBLE),
    "DT_INT32": ("int_val", _INT32),
    **{f"DT_{name}": ("int_val", _INT32) for name in _SMALL_INTS},
    **{
        f"DT_{name}": ("int_val", st.integers(-2, 15))
        for name in ("INT4", "UINT4", "INT2", "UINT2")
    },
    "DT_STRING": ("string_val", st.binary(max_size=8)),
    "DT_COMPLEX64": ("scomplex_val", _FLOAT32),
    "DT_INT64": ("int64_val", st.integers(-(2**63), 2**63 - 1)),
    "DT_BOOL": ("bool_val", st.booleans()),
    "DT_BFLOAT16": ("half_val", st.integers(0, 2**16 - 1)),
    "DT_HALF": ("half_val", st.integers(0, 2**16 - 1)),
    "DT_COMPLEX128": ("dcomplex_val", _DOUBLE),
    "DT_UINT32": ("uint32_val", st.integers(0, 2**32 - 1)),
    "DT_UINT64": ("uint64_val", st.integers(0, 2**64 - 1)),
    **{f"DT_{name}": ("float8_val", st.binary(min_size=1)) for name in (*_FLOAT8, "FLOAT4_E2M1FN")},
}
# DT_INVALID has no values; resources and variants travel in the fields we omit (see below).
UNTYPED = {"DT_INVALID", "DT_RESOURCE", "DT_VARIANT"}
DTYPES = [value.name for value in protos.DataType.DESCRIPTOR.values if value.number < 100]


def test_typed_fields_cover_every_dtype() -> None:
    assert set(TYPED_FIELDS) | UNTYPED == set(DTYPES)


@pytest.mark.parametrize("dtype", [pytest.param(name, id=name) for name in DTYPES])
@PROPERTY
@given(data=st.data())
def test_tensor_of_every_dtype_round_trips(dtype: str, data: st.DataObject) -> None:
    dims = data.draw(st.lists(st.integers(-1, 2**40), max_size=3))
    tensor = protos.TensorProto(dtype=protos.DataType.Value(dtype))
    tensor.tensor_shape.dim.extend(protos.TensorShapeProto.Dim(size=size) for size in dims)
    if dtype in TYPED_FIELDS and data.draw(st.booleans(), label="typed"):
        name, values = TYPED_FIELDS[dtype]
        if name == "float8_val":
            tensor.float8_val = data.draw(values)
        else:
            getattr(tensor, name).extend(data.draw(st.lists(values, min_size=1, max_size=6)))
    else:
        tensor.tensor_content = data.draw(st.binary(min_size=1, max_size=32))
    assert_wire_compatible(tensor)


@PROPERTY
@given(signatures=random_messages(protos.SignatureDefMap, complete=True))
def test_metadata_any_unpacks_on_both_sides(signatures: Message) -> None:
    ours = protos.GetModelMetadataResponse()
    ours.model_spec.name = "m"
    ours.metadata["signature_def"].Pack(signatures)
    assert ours.metadata["signature_def"].type_url == (
        "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    )
    official = get_model_metadata_pb2.GetModelMetadataResponse.FromString(ours.SerializeToString())
    unpacked = get_model_metadata_pb2.SignatureDefMap()
    assert official.metadata["signature_def"].Unpack(unpacked)
    assert unpacked.SerializeToString(deterministic=True) == signatures.SerializeToString(
        deterministic=True
    )
    back = protos.GetModelMetadataResponse.FromString(official.SerializeToString())
    ours_unpacked = protos.SignatureDefMap()
    assert back.metadata["signature_def"].Unpack(ours_unpacked)
    assert ours_unpacked == signatures


def _tensor_with_omitted_fields() -> tensor_pb2.TensorProto:
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_RESOURCE)
    tensor.resource_handle_val.add(device="/cpu:0", name="table", hash_code=7)
    tensor.variant_val.add(type_name="list", metadata=b"\x01")
    return tensor


def _predict_with_omitted_fields() -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest(client_id=b"me", output_filter=["y"])
    request.inputs["x"].CopyFrom(_tensor_with_omitted_fields())
    request.request_options.max_cache_length = 9
    return request


def _model_config_with_omitted_fields() -> model_server_config_pb2.ModelServerConfig:
    config = model_server_config_pb2.ModelServerConfig()
    model = config.model_config_list.config.add(name="m", base_path="/m", model_type=1)
    model.logging_config.CopyFrom(logging_config_pb2.LoggingConfig())
    model.logging_config.sampling_config.sampling_rate = 0.5
    return config


OMITTED_FIELD_CARRIERS = [
    pytest.param(_tensor_with_omitted_fields, id="TensorProto"),
    pytest.param(_predict_with_omitted_fields, id="PredictRequest"),
    pytest.param(_model_config_with_omitted_fields, id="ModelServerConfig"),
    pytest.param(
        lambda: meta_graph_pb2.TensorInfo(
            coo_sparse=meta_graph_pb2.TensorInfo.CooSparse(values_tensor_name="v"),
            tensor_shape=tensor_shape_pb2.TensorShapeProto(unknown_rank=True),
        ),
        id="TensorInfo",
    ),
]


@pytest.mark.parametrize("make_official", OMITTED_FIELD_CARRIERS)
def test_fields_we_omit_pass_through_unchanged(make_official) -> None:
    official = make_official()
    ours = OUR_CLASSES[official.DESCRIPTOR.full_name].FromString(official.SerializeToString())
    assert type(official).FromString(ours.SerializeToString()) == official
