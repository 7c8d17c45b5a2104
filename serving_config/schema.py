"""Message classes for TF Serving's config files, including those tensorflow-serving-api omits."""

from __future__ import annotations

from typing import Any, TypeAlias

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    text_format,
    wrappers_pb2,
)
from google.protobuf.message import Message
from tensorflow_serving.config.model_server_config_pb2 import ModelServerConfig

__all__ = [
    "BatchingParameters",
    "ConfigParseError",
    "KINDS",
    "ModelServerConfig",
    "MonitoringConfig",
    "PrometheusConfig",
    "SSLConfig",
    "message_class",
    "parse_text",
]

_PACKAGE = "tensorflow.serving"
_FILE_NAME = "serving_config/tensorflow_serving_configs.proto"

_Field = descriptor_pb2.FieldDescriptorProto
_OPTIONAL = _Field.LABEL_OPTIONAL
_REPEATED = _Field.LABEL_REPEATED

# (name, number, label, type, type_name) per field; numbers come from TF Serving's .proto files
# (config/monitoring_config.proto, servables/tensorflow/session_bundle_config.proto,
# config/ssl_config.proto).
_INT64 = ".google.protobuf.Int64Value"
_STRING = ".google.protobuf.StringValue"
_BOOL = ".google.protobuf.BoolValue"
_MESSAGE = _Field.TYPE_MESSAGE
_MESSAGES: dict[str, list[tuple[str, int, int, int, str]]] = {
    "PrometheusConfig": [
        ("enable", 1, _OPTIONAL, _Field.TYPE_BOOL, ""),
        ("path", 2, _OPTIONAL, _Field.TYPE_STRING, ""),
    ],
    "MonitoringConfig": [
        ("prometheus_config", 1, _OPTIONAL, _MESSAGE, f".{_PACKAGE}.PrometheusConfig"),
    ],
    "BatchingParameters": [
        ("max_batch_size", 1, _OPTIONAL, _MESSAGE, _INT64),
        ("batch_timeout_micros", 2, _OPTIONAL, _MESSAGE, _INT64),
        ("max_enqueued_batches", 3, _OPTIONAL, _MESSAGE, _INT64),
        ("num_batch_threads", 4, _OPTIONAL, _MESSAGE, _INT64),
        ("thread_pool_name", 5, _OPTIONAL, _MESSAGE, _STRING),
        ("allowed_batch_sizes", 6, _REPEATED, _Field.TYPE_INT64, ""),
        ("pad_variable_length_inputs", 7, _OPTIONAL, _Field.TYPE_BOOL, ""),
        ("enable_large_batch_splitting", 8, _OPTIONAL, _MESSAGE, _BOOL),
        ("max_execution_batch_size", 9, _OPTIONAL, _MESSAGE, _INT64),
    ],
    "SSLConfig": [
        ("server_key", 1, _OPTIONAL, _Field.TYPE_STRING, ""),
        ("server_cert", 2, _OPTIONAL, _Field.TYPE_STRING, ""),
        ("custom_ca", 3, _OPTIONAL, _Field.TYPE_STRING, ""),
        ("client_verify", 4, _OPTIONAL, _Field.TYPE_BOOL, ""),
    ],
}


class ConfigParseError(ValueError):
    """A config text that protobuf's text_format parser rejected; carries its 1-based position."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _file_descriptor_proto() -> descriptor_pb2.FileDescriptorProto:
    """Describe the missing TF Serving config messages as one proto3 file."""
    file_proto = descriptor_pb2.FileDescriptorProto(
        name=_FILE_NAME,
        package=_PACKAGE,
        syntax="proto3",
        dependency=[wrappers_pb2.DESCRIPTOR.name],
    )
    for message_name, fields in _MESSAGES.items():
        message = file_proto.message_type.add(name=message_name)
        for name, number, label, field_type, type_name in fields:
            field = message.field.add(name=name, number=number, label=label, type=field_type)
            if type_name:
                field.type_name = type_name
    return file_proto


def _build_pool() -> descriptor_pool.DescriptorPool:
    """Load wrappers.proto and our file into a private pool.

    A private pool keeps `tensorflow.serving.BatchingParameters` and friends from clashing with
    a future tensorflow-serving-api (or anyone else) registering the real .proto files in the
    default pool, whatever the import order.
    """
    pool = descriptor_pool.DescriptorPool()
    wrappers_proto = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers_proto)
    pool.Add(wrappers_proto)
    pool.Add(_file_descriptor_proto())
    return pool


_POOL = _build_pool()


def _message_class(name: str) -> type[Message]:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{_PACKAGE}.{name}"))


PrometheusConfig = _message_class("PrometheusConfig")
MonitoringConfig = _message_class("MonitoringConfig")
BatchingParameters = _message_class("BatchingParameters")
SSLConfig = _message_class("SSLConfig")

# The config kinds the checker knows, by the name `--kind` accepts.
KINDS: dict[str, type[Message]] = {
    "models": ModelServerConfig,
    "batching": BatchingParameters,
    "monitoring": MonitoringConfig,
    "ssl": SSLConfig,
}

KindOrClass: TypeAlias = str | type[Message]


def message_class(kind_or_class: KindOrClass) -> type[Message]:
    """Return the message class for a kind name from KINDS, or the class itself.

    Raises:
        KeyError: the kind is not one of KINDS.
    """
    if isinstance(kind_or_class, str):
        try:
            return KINDS[kind_or_class]
        except KeyError:
            raise KeyError(
                f"unknown config kind {kind_or_class!r}; known: {sorted(KINDS)}"
            ) from None
    return kind_or_class


def parse_text(kind_or_class: KindOrClass, text: str) -> Any:
    """Parse a text proto into a new message of the given kind (e.g. "batching") or class.

    The message is typed Any: its fields are made at run time from descriptors without stubs.

    Raises:
        KeyError: the kind is not one of KINDS.
        ConfigParseError: the text is not a valid text proto of that message type.
    """
    message = message_class(kind_or_class)()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as err:
        # str(err) starts with "line:column : "; the position is kept separately.
        detail = str(err).split(" : ", 1)[-1] if err.GetLine() is not None else str(err)
        raise ConfigParseError(
            _without_line_echo(detail, text), err.GetLine(), err.GetColumn()
        ) from err
    return message


def _without_line_echo(detail: str, text: str) -> str:
    """Drop the "'<source line>': " some text_format errors start with; the line is reported."""
    if detail.startswith("'"):
        for line in [*text.splitlines(), ""]:
            echo = f"'{line}': "
            if detail.startswith(echo):
                return detail[len(echo) :]
    return detail
