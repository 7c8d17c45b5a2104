"""Set each SignatureDef's method_name (tf.saved_model.save marks every signature predict)."""

from __future__ import annotations

from pathlib import Path

from tensorflow.core.protobuf import saved_model_pb2


def set_method_names(saved_model_dir: Path, method_names: dict[str, str]) -> None:
    path = saved_model_dir / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(path.read_bytes())
    for meta_graph in saved_model.meta_graphs:
        for key, signature in meta_graph.signature_def.items():
            if key in method_names:
                signature.method_name = method_names[key]
    path.write_bytes(saved_model.SerializeToString())
