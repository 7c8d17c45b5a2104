"""TensorFlow's own wire messages the serving APIs use: tensors, Examples, signatures, codes."""

from __future__ import annotations

from wire.protos.builder import (
    BOOL,
    BYTES,
    DOUBLE,
    ENUM,
    FLOAT,
    INT32,
    INT64,
    MESSAGE,
    STRING,
    UINT32,
    UINT64,
    enum,
    field,
    map_field,
    message,
    proto_file,
)

__all__ = ["ERROR_CODES_FILE", "TENSORFLOW_FILE"]

# Numbers from tensorflow/core/framework/types.proto; each dtype but DT_INVALID also has a
# reference variant numbered 100 higher, which servers never send but TensorFlow defines.
_DTYPES = [
    "DT_INVALID",
    "DT_FLOAT",
    "DT_DOUBLE",
    "DT_INT32",
    "DT_UINT8",
    "DT_INT16",
    "DT_INT8",
    "DT_STRING",
    "DT_COMPLEX64",
    "DT_INT64",
    "DT_BOOL",
    "DT_QINT8",
    "DT_QUINT8",
    "DT_QINT32",
    "DT_BFLOAT16",
    "DT_QINT16",
    "DT_QUINT16",
    "DT_UINT16",
    "DT_COMPLEX128",
    "DT_HALF",
    "DT_RESOURCE",
    "DT_VARIANT",
    "DT_UINT32",
    "DT_UINT64",
    "DT_FLOAT8_E5M2",
    "DT_FLOAT8_E4M3FN",
    "DT_FLOAT8_E4M3FNUZ",
    "DT_FLOAT8_E4M3B11FNUZ",
    "DT_FLOAT8_E5M2FNUZ",
    "DT_INT4",
    "DT_UINT4",
    "DT_INT2",
    "DT_UINT2",
    "DT_FLOAT4_E2M1FN",
]
_DATA_TYPE = enum(
    "DataType",
    [*((name, number) for number, name in enumerate(_DTYPES))]
    + [(f"{name}_REF", number + 100) for number, name in enumerate(_DTYPES) if number],
)

_TENSOR_SHAPE = message(
    "TensorShapeProto",
    field("dim", 2, MESSAGE, "Dim", repeated=True),
    field("unknown_rank", 3, BOOL),
    nested=[message("Dim", field("size", 1, INT64), field("name", 2, STRING))],
)

# resource_handle_val (14) and variant_val (15) are left out: no serving API carries them, and
# protobuf keeps them as unknown fields, so a message passing through us loses nothing.
_TENSOR = message(
    "TensorProto",
    field("dtype", 1, ENUM, "DataType"),
    field("tensor_shape", 2, MESSAGE, "TensorShapeProto"),
    field("version_number", 3, INT32),
    field("tensor_content", 4, BYTES),
    field("half_val", 13, INT32, repeated=True),
    field("float_val", 5, FLOAT, repeated=True),
    field("double_val", 6, DOUBLE, repeated=True),
    field("int_val", 7, INT32, repeated=True),
    field("string_val", 8, BYTES, repeated=True),
    field("scomplex_val", 9, FLOAT, repeated=True),
    field("int64_val", 10, INT64, repeated=True),
    field("bool_val", 11, BOOL, repeated=True),
    field("dcomplex_val", 12, DOUBLE, repeated=True),
    field("uint32_val", 16, UINT32, repeated=True),
    field("uint64_val", 17, UINT64, repeated=True),
    field("float8_val", 18, BYTES),
)

_EXAMPLE_MESSAGES = [
    message("BytesList", field("value", 1, BYTES, repeated=True)),
    message("FloatList", field("value", 1, FLOAT, repeated=True)),
    message("Int64List", field("value", 1, INT64, repeated=True)),
    message(
        "Feature",
        field("bytes_list", 1, MESSAGE, "BytesList", oneof="kind"),
        field("float_list", 2, MESSAGE, "FloatList", oneof="kind"),
        field("int64_list", 3, MESSAGE, "Int64List", oneof="kind"),
    ),
    message("Features", map_field("feature", 1, STRING, MESSAGE, "Feature")),
    message("Example", field("features", 1, MESSAGE, "Features")),
]

# TensorInfo's sparse and composite encodings (coo_sparse 4, composite_tensor 5) are left out;
# serving signatures of dense tensors use `name`, and the others survive as unknown fields.
_SIGNATURE_MESSAGES = [
    message(
        "TensorInfo",
        field("name", 1, STRING, oneof="encoding"),
        field("dtype", 2, ENUM, "DataType"),
        field("tensor_shape", 3, MESSAGE, "TensorShapeProto"),
    ),
    message(
        "SignatureDef",
        map_field("inputs", 1, STRING, MESSAGE, "TensorInfo"),
        map_field("outputs", 2, STRING, MESSAGE, "TensorInfo"),
        field("method_name", 3, STRING),
        map_field("defaults", 4, STRING, MESSAGE, "TensorProto"),
    ),
]

TENSORFLOW_FILE = proto_file(
    "wire/protos/tensorflow.proto",
    "tensorflow",
    messages=[_TENSOR_SHAPE, _TENSOR, *_EXAMPLE_MESSAGES, *_SIGNATURE_MESSAGES],
    enums=[_DATA_TYPE],
)

# tensorflow/core/protobuf/error_codes.proto: the same numbers as gRPC status codes.
ERROR_CODES_FILE = proto_file(
    "wire/protos/tensorflow_error.proto",
    "tensorflow.error",
    enums=[
        enum(
            "Code",
            [
                ("OK", 0),
                ("CANCELLED", 1),
                ("UNKNOWN", 2),
                ("INVALID_ARGUMENT", 3),
                ("DEADLINE_EXCEEDED", 4),
                ("NOT_FOUND", 5),
                ("ALREADY_EXISTS", 6),
                ("PERMISSION_DENIED", 7),
                ("UNAUTHENTICATED", 16),
                ("RESOURCE_EXHAUSTED", 8),
                ("FAILED_PRECONDITION", 9),
                ("ABORTED", 10),
                ("OUT_OF_RANGE", 11),
                ("UNIMPLEMENTED", 12),
                ("INTERNAL", 13),
                ("UNAVAILABLE", 14),
                ("DATA_LOSS", 15),
                ("DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_", 20),
            ],
        )
    ],
)
