"""TF Serving's official message classes, and random instances of ours for property tests."""

from __future__ import annotations

import functools

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

# Importing these registers every official message and service in the default pool.
from tensorflow_serving.apis import (  # noqa: F401
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    model_service_pb2,
    predict_pb2,
    prediction_log_pb2,
    prediction_service_pb2,
    regression_pb2,
)

from wire import protos

# Every message class wire.protos exports, by full name.
OUR_CLASSES: dict[str, type[Message]] = {
    value.DESCRIPTOR.full_name: value
    for name in protos.__all__
    if isinstance(value := getattr(protos, name), type) and issubclass(value, Message)
}


def official_class(full_name: str) -> type[Message]:
    """Return tensorflow-serving-api's class for a message full name."""
    return message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(full_name)
    )


def all_descriptors(descriptor: Descriptor) -> list[Descriptor]:
    """Return descriptor and every message nested in it, depth first."""
    found = [descriptor]
    for nested in descriptor.nested_types:
        found.extend(all_descriptors(nested))
    return found


_F = FieldDescriptor
_SCALARS: dict[int, st.SearchStrategy] = {
    _F.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    _F.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    _F.TYPE_UINT32: st.integers(0, 2**32 - 1),
    _F.TYPE_UINT64: st.integers(0, 2**64 - 1),
    _F.TYPE_FLOAT: st.floats(width=32, allow_nan=False),
    _F.TYPE_DOUBLE: st.floats(allow_nan=False),
    _F.TYPE_BOOL: st.booleans(),
    _F.TYPE_STRING: st.text(max_size=6),
    _F.TYPE_BYTES: st.binary(max_size=6),
}


@functools.cache
def _values(field: FieldDescriptor, complete: bool) -> st.SearchStrategy:
    """Random values for one field, or for one item or map entry part of it."""
    if field.type != _F.TYPE_MESSAGE:
        if field.type == _F.TYPE_ENUM:
            scalars = st.sampled_from([value.number for value in field.enum_type.values])
        else:
            scalars = _SCALARS[field.type]
        # proto3 does not send default scalars, so a complete message avoids them.
        return scalars.filter(bool) if complete else scalars
    if field.message_type.full_name == "google.protobuf.Any":
        return st.one_of(
            random_messages(protos.SignatureDefMap, complete=complete),
            random_messages(protos.Int64Value, complete=complete),
        ).map(_packed)
    return random_messages(message_factory.GetMessageClass(field.message_type), complete=complete)


def _packed(payload: Message) -> Message:
    wrapped = protos.Any()
    wrapped.Pack(payload)
    return wrapped


@functools.cache
def random_messages(cls: type[Message], complete: bool = False) -> st.SearchStrategy[Message]:
    """Random instances of one of our classes; `complete` sets every field (one per oneof)."""
    return _random_message(cls, complete)


@st.composite
def _random_message(draw, cls: type[Message], complete: bool) -> Message:
    message = cls()
    chosen = {
        oneof.name: draw(st.sampled_from([*oneof.fields] if complete else [None, *oneof.fields]))
        for oneof in cls.DESCRIPTOR.oneofs
    }
    # A complete message holds exactly one item per list and map, which keeps it small.
    min_size = 1 if complete else 0
    max_size = 1 if complete else 2
    for field in cls.DESCRIPTOR.fields:
        if field.containing_oneof is not None:
            if chosen[field.containing_oneof.name] is not field:
                continue
        elif not complete and not draw(st.booleans()):
            continue
        target = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field, value_field = field.message_type.fields
            entries = draw(
                st.dictionaries(
                    _values(key_field, complete),
                    _values(value_field, complete),
                    min_size=min_size,
                    max_size=max_size,
                )
            )
            for key, value in entries.items():
                if value_field.type == _F.TYPE_MESSAGE:
                    target[key].CopyFrom(value)
                else:
                    target[key] = value
        elif field.is_repeated:
            items = draw(st.lists(_values(field, complete), min_size=min_size, max_size=max_size))
            if field.type == _F.TYPE_MESSAGE:
                for item in items:
                    target.add().CopyFrom(item)
            else:
                target.extend(items)
        elif field.type == _F.TYPE_MESSAGE:
            target.SetInParent()
            target.MergeFrom(draw(_values(field, complete)))
        else:
            setattr(message, field.name, draw(_values(field, complete)))
    return message
