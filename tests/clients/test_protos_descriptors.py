"""Our hand-written descriptors say what TF Serving's .proto files say, field by field."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from tests.clients.protos_support import OUR_CLASSES, all_descriptors
from wire import protos

# What we deliberately leave out; peers' values for these survive as unknown fields.
OMITTED_FIELDS = {
    "tensorflow.TensorProto": {"resource_handle_val", "variant_val"},
    "tensorflow.TensorInfo": {"coo_sparse", "composite_tensor"},
    "tensorflow.serving.PredictRequest": {
        "predict_streamed_options",
        "client_id",
        "request_options",
    },
    "tensorflow.serving.ModelConfig": {"model_type", "logging_config"},
    "tensorflow.serving.SamplingConfig": {"per_task_sampling_configs"},
    "tensorflow.serving.PredictionLog": {"predict_streamed_log", "session_run_log"},
    "tensorflow.serving.FileSystemStoragePathSourceConfig": {
        "servables",
        "file_system_poll_wait_seconds",
        "fail_if_zero_versions_at_startup",
        "servable_versions_always_present",
    },
}
OMITTED_NESTED = {
    "tensorflow.TensorInfo": {"CooSparse", "CompositeTensor"},
    "tensorflow.serving.PredictRequest": {"RequestOptions"},
    "tensorflow.serving.FileSystemStoragePathSourceConfig": {"ServableToMonitor"},
}

# What we add: the project's request-log facts, numbered far above TF Serving's own fields.
ADDED_FIELDS = {"tensorflow.serving.LogMetadata": set(protos.PROJECT_METADATA_FIELDS)}

OUR_DESCRIPTORS = {
    described.full_name: described
    for cls in OUR_CLASSES.values()
    for described in all_descriptors(cls.DESCRIPTOR)
}


def _official(full_name: str) -> Descriptor:
    return descriptor_pool.Default().FindMessageTypeByName(full_name)


def _wire_facts(field: FieldDescriptor) -> dict[str, object]:
    """Everything about a field that decides its bytes on the wire and its JSON form."""
    referenced = field.message_type or field.enum_type
    return {
        "number": field.number,
        "type": field.type,
        "repeated": field.is_repeated,
        "packed": field.is_packed,
        "presence": field.has_presence,
        "json_name": field.json_name,
        "oneof": field.containing_oneof.name if field.containing_oneof else None,
        "type_name": referenced.full_name if referenced else None,
        "map": bool(field.message_type and field.message_type.GetOptions().map_entry),
    }


def _enum_values(enum: EnumDescriptor) -> dict[str, int]:
    return {value.name: value.number for value in enum.values}


@pytest.mark.parametrize("full_name", [pytest.param(name, id=name) for name in OUR_DESCRIPTORS])
def test_message_fields_match_tf_serving(full_name: str) -> None:
    ours, official = OUR_DESCRIPTORS[full_name], _official(full_name)
    official_names = {field.name for field in official.fields}
    added = ADDED_FIELDS.get(full_name, set())
    ours_names = {field.name for field in ours.fields} - added
    assert official_names - ours_names == OMITTED_FIELDS.get(full_name, set())
    assert ours_names <= official_names
    for field in ours.fields:
        if field.name in added:
            assert field.number > 1000 and field.number not in {f.number for f in official.fields}
            continue
        assert _wire_facts(field) == _wire_facts(official.fields_by_name[field.name]), field.name
    assert ours.GetOptions().map_entry == official.GetOptions().map_entry
    assert {nested.name for nested in ours.nested_types} == {
        nested.name for nested in official.nested_types
    } - OMITTED_NESTED.get(full_name, set())


@pytest.mark.parametrize(
    "enum",
    [
        pytest.param(protos.DataType.DESCRIPTOR, id="DataType"),
        pytest.param(protos.ErrorCode.DESCRIPTOR, id="error.Code"),
        pytest.param(protos.ModelVersionStatus.State.DESCRIPTOR, id="ModelVersionStatus.State"),
    ],
)
def test_enum_values_match_tensorflow(enum: EnumDescriptor) -> None:
    official = descriptor_pool.Default().FindEnumTypeByName(enum.full_name)
    assert _enum_values(enum) == _enum_values(official)


def _reachable(descriptor: Descriptor, seen: dict[str, Descriptor]) -> dict[str, Descriptor]:
    """Every message descriptor leads to through its fields, itself included, by full name."""
    if descriptor.full_name not in seen:
        seen[descriptor.full_name] = descriptor
        for field in descriptor.fields:
            if field.message_type is not None:
                _reachable(field.message_type, seen)
    return seen


def test_every_message_the_rpcs_carry_is_exported_or_nested_in_an_export() -> None:
    reachable: dict[str, Descriptor] = {}
    for method in protos.METHODS.values():
        _reachable(method.request.DESCRIPTOR, reachable)
        _reachable(method.response.DESCRIPTOR, reachable)
    carried = {name for name, found in reachable.items() if not found.GetOptions().map_entry}
    assert carried <= set(OUR_DESCRIPTORS)
    # Only reachable through GetModelMetadataResponse's Any, so checked by name.
    assert "tensorflow.serving.SignatureDefMap" in OUR_CLASSES


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in protos.METHODS])
def test_method_matches_tf_serving_service(name: str) -> None:
    method = protos.METHODS[name]
    official = descriptor_pool.Default().FindServiceByName(method.service).methods_by_name[name]
    assert method.path == f"/{official.containing_service.full_name}/{official.name}"
    assert method.request.DESCRIPTOR.full_name == official.input_type.full_name
    assert method.response.DESCRIPTOR.full_name == official.output_type.full_name


def test_methods_cover_both_services() -> None:
    official = {
        f"/{service}/{method.name}"
        for service in (protos.PREDICTION_SERVICE, protos.MODEL_SERVICE)
        for method in descriptor_pool.Default().FindServiceByName(service).methods
    }
    assert {method.path for method in protos.METHODS.values()} == official


def test_our_classes_live_outside_the_default_pool() -> None:
    for full_name, cls in OUR_CLASSES.items():
        assert cls.DESCRIPTOR.file.pool is protos.POOL, full_name
        assert cls.DESCRIPTOR is not _official(full_name), full_name
