"""A small declarative builder for proto3 file descriptors and the private pool that holds them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, wrappers_pb2

__all__ = [
    "BOOL",
    "BYTES",
    "DOUBLE",
    "ENUM",
    "FLOAT",
    "INT32",
    "INT64",
    "MESSAGE",
    "STRING",
    "UINT32",
    "UINT64",
    "WELL_KNOWN_FILES",
    "Field",
    "enum",
    "field",
    "map_field",
    "message",
    "private_pool",
    "proto_file",
]

_FieldProto = descriptor_pb2.FieldDescriptorProto
DOUBLE = _FieldProto.TYPE_DOUBLE
FLOAT = _FieldProto.TYPE_FLOAT
INT64 = _FieldProto.TYPE_INT64
UINT64 = _FieldProto.TYPE_UINT64
INT32 = _FieldProto.TYPE_INT32
BOOL = _FieldProto.TYPE_BOOL
STRING = _FieldProto.TYPE_STRING
MESSAGE = _FieldProto.TYPE_MESSAGE
BYTES = _FieldProto.TYPE_BYTES
UINT32 = _FieldProto.TYPE_UINT32
ENUM = _FieldProto.TYPE_ENUM

# The files protobuf itself ships; ours refer to them by these names.
WELL_KNOWN_FILES = (wrappers_pb2.DESCRIPTOR, any_pb2.DESCRIPTOR)


@dataclass(frozen=True)
class Field:
    """One field of a message; `entry` is the nested *Entry message when the field is a map."""

    name: str
    number: int
    type: int
    type_name: str = ""
    repeated: bool = False
    oneof: str = ""
    json_name: str = ""
    entry: descriptor_pb2.DescriptorProto | None = None


def field(
    name: str,
    number: int,
    type_: int,
    type_name: str = "",
    *,
    repeated: bool = False,
    oneof: str = "",
    json_name: str = "",
) -> Field:
    """Describe a field; a type_name without a leading dot is relative (see `proto_file`)."""
    return Field(name, number, type_, type_name, repeated, oneof, json_name)


def map_field(
    name: str, number: int, key_type: int, value_type: int, value_type_name: str = ""
) -> Field:
    """Describe `map<key, value> name = number;` as protoc does: a repeated nested *Entry."""
    entry_name = "".join(part.capitalize() for part in name.split("_")) + "Entry"
    entry = message(
        entry_name,
        field("key", 1, key_type),
        field("value", 2, value_type, value_type_name),
    )
    entry.options.map_entry = True
    return Field(name, number, MESSAGE, entry_name, repeated=True, entry=entry)


def enum(name: str, values: Iterable[tuple[str, int]]) -> descriptor_pb2.EnumDescriptorProto:
    """Describe an enum from (value name, number) pairs; the first must be the zero value."""
    proto = descriptor_pb2.EnumDescriptorProto(name=name)
    for value_name, number in values:
        proto.value.add(name=value_name, number=number)
    return proto


def message(
    name: str,
    *fields: Field,
    nested: Iterable[descriptor_pb2.DescriptorProto] = (),
    enums: Iterable[descriptor_pb2.EnumDescriptorProto] = (),
) -> descriptor_pb2.DescriptorProto:
    """Describe a message; oneofs are declared in the order their first field appears."""
    proto = descriptor_pb2.DescriptorProto(name=name)
    proto.nested_type.extend(nested)
    proto.enum_type.extend(enums)
    oneofs: list[str] = []
    for spec in fields:
        label = _FieldProto.LABEL_REPEATED if spec.repeated else _FieldProto.LABEL_OPTIONAL
        added = proto.field.add(name=spec.name, number=spec.number, type=spec.type, label=label)
        if spec.type_name:
            added.type_name = spec.type_name
        if spec.json_name:
            added.json_name = spec.json_name
        if spec.entry is not None:
            proto.nested_type.append(spec.entry)
        if spec.oneof:
            if spec.oneof not in oneofs:
                oneofs.append(spec.oneof)
                proto.oneof_decl.add(name=spec.oneof)
            added.oneof_index = oneofs.index(spec.oneof)
    return proto


def proto_file(
    name: str,
    package: str,
    *,
    messages: Iterable[descriptor_pb2.DescriptorProto] = (),
    enums: Iterable[descriptor_pb2.EnumDescriptorProto] = (),
    dependencies: Iterable[str] = (),
) -> descriptor_pb2.FileDescriptorProto:
    """Assemble a proto3 file and make every relative type name fully qualified.

    A relative name is looked up among the enclosing message's nested types and enums first,
    then taken to be in the file's package, which is all the scoping these files need.
    """
    proto = descriptor_pb2.FileDescriptorProto(
        name=name, package=package, syntax="proto3", dependency=list(dependencies)
    )
    proto.message_type.extend(messages)
    proto.enum_type.extend(enums)
    for described in proto.message_type:
        _qualify(described, f".{package}.{described.name}", f".{package}")
    return proto


def _qualify(proto: descriptor_pb2.DescriptorProto, scope: str, package: str) -> None:
    """Rewrite relative type names in one message (and its nested messages) as absolute."""
    local = {nested.name for nested in proto.nested_type} | {e.name for e in proto.enum_type}
    for described in proto.field:
        if described.type_name and not described.type_name.startswith("."):
            outer = scope if described.type_name.split(".")[0] in local else package
            described.type_name = f"{outer}.{described.type_name}"
    for nested in proto.nested_type:
        _qualify(nested, f"{scope}.{nested.name}", package)


def private_pool(
    files: Iterable[descriptor_pb2.FileDescriptorProto],
) -> descriptor_pool.DescriptorPool:
    """Return a new pool holding wrappers.proto, any.proto and the given files, in that order.

    A pool of our own keeps `tensorflow.serving.PredictRequest` and friends from clashing with
    TensorFlow's registrations of the same names in the default pool, whatever the import order.

    Raises:
        TypeError: a file is malformed, e.g. refers to a type no earlier file defines.
    """
    pool = descriptor_pool.DescriptorPool()
    for well_known in WELL_KNOWN_FILES:
        copied = descriptor_pb2.FileDescriptorProto()
        well_known.CopyToProto(copied)
        pool.Add(copied)
    for proto in files:
        pool.Add(proto)
    return pool
