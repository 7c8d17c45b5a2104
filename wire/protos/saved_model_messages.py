"""SavedModel and MetaGraphDef, as far as reading a version's signatures from saved_model.pb needs."""

from __future__ import annotations

from wire.protos.builder import INT64, MESSAGE, STRING, field, map_field, message, proto_file
from wire.protos.tensorflow_messages import TENSORFLOW_FILE

__all__ = ["SAVED_MODEL_FILE"]

# Numbers from tensorflow/core/protobuf/saved_model.proto and meta_graph.proto. Declared: the
# schema version, each MetaGraph's tags (which one TF Serving loads: the set equal to its
# --saved_model_tags, "serve" by default), its TensorFlow version and its signatures. The graph,
# saver, collections, assets and object graph are left out: protobuf keeps them as unknown
# fields, so a file read and written back through these messages loses nothing.
_META_INFO = message(
    "MetaInfoDef",
    field("meta_graph_version", 1, STRING),
    field("tags", 4, STRING, repeated=True),
    field("tensorflow_version", 5, STRING),
)

_MESSAGES = [
    message(
        "MetaGraphDef",
        field("meta_info_def", 1, MESSAGE, "MetaInfoDef"),
        map_field("signature_def", 5, STRING, MESSAGE, "SignatureDef"),
        nested=[_META_INFO],
    ),
    message(
        "SavedModel",
        field("saved_model_schema_version", 1, INT64),
        field("meta_graphs", 2, MESSAGE, "MetaGraphDef", repeated=True),
    ),
]

SAVED_MODEL_FILE = proto_file(
    "wire/protos/saved_model.proto",
    "tensorflow",
    messages=_MESSAGES,
    dependencies=[TENSORFLOW_FILE.name],
)
