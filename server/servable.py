"""One loaded model version: its SavedModel, signature metadata and the numeric calls."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from server.batching import BatchingOptions, BatchScheduler
from server.errors import Code, ServingError, invalid_argument
from server.signature_call import SignatureCall

log = logging.getLogger(__name__)

DEFAULT_SIGNATURE = "serving_default"
INIT_OP_SIGNATURE = "__saved_model_init_op"


def read_meta_graph(version_dir: Path, tags: set[str]) -> meta_graph_pb2.MetaGraphDef:
    """The MetaGraphDef whose tag set equals `tags` (TF Serving reads signatures from it)."""
    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString((version_dir / "saved_model.pb").read_bytes())
    except OSError as err:
        raise ServingError(
            Code.NOT_FOUND, f"Could not read SavedModel at {version_dir}: {err}"
        ) from err
    except Exception as err:  # protobuf's DecodeError
        raise ServingError(
            Code.DATA_LOSS, f"Could not parse SavedModel at {version_dir}: {err}"
        ) from err
    for meta_graph in saved.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == tags:
            return meta_graph
    found = [sorted(m.meta_info_def.tags) for m in saved.meta_graphs]
    raise ServingError(
        Code.NOT_FOUND,
        f"Could not find meta graph def matching supplied tags: {{ {', '.join(sorted(tags))} }}. Available tags: {found}",
    )


def tf_error(err: Exception) -> ServingError:
    """Map an exception raised by a TF call onto the canonical code TF Serving would return."""
    if isinstance(err, ServingError):
        return err
    if isinstance(err, tf.errors.OpError):
        # TF errors carry the canonical code already; keep it.
        code = err.error_code if err.error_code in Code._value2member_map_ else Code.UNKNOWN
        return ServingError(Code(code), err.message)
    return invalid_argument(str(err))


class Servable:
    """A SavedModel loaded with TensorFlow, ready to run its signatures.

    Raises (constructor):
        ServingError: the SavedModel does not exist, does not parse or does not load.
    """

    def __init__(
        self,
        name: str,
        version: int,
        path: Path,
        tags: set[str],
        batching: BatchingOptions | None = None,
        batch_hooks: dict | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.path = Path(path)
        self.meta_graph = read_meta_graph(self.path, tags)
        self.signature_defs = dict(self.meta_graph.signature_def)
        try:
            self._loaded = tf.saved_model.load(str(self.path), tags=sorted(tags))
        except Exception as err:
            raise tf_error(err) from err
        self._functions = {k: SignatureCall(f) for k, f in self._loaded.signatures.items()}
        # One queue per signature: TF Serving batches per distinct set of tensor names.
        self._batchers = (
            {
                key: BatchScheduler(
                    lambda inputs, key=key: self.call(key, inputs),
                    batching,
                    name=f"{name}/{version}/{key}",
                    **(batch_hooks or {}),
                )
                for key in self._functions
            }
            if batching
            else {}
        )

    def run(self, signature: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run a signature, through its batching queue when batching is on.

        Raises:
            ServingError: from the batcher (queue full, task too large) or from TensorFlow.
        """
        batcher = self._batchers.get(signature)
        if batcher is None:
            return self.call(signature, inputs)
        return batcher.run(inputs)

    def close(self) -> None:
        for batcher in self._batchers.values():
            batcher.close()

    def signature(self, name: str) -> meta_graph_pb2.SignatureDef | None:
        return self.signature_defs.get(name or DEFAULT_SIGNATURE)

    def call(self, signature: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run a signature on inputs already checked against it; outputs by alias.

        Raises:
            ServingError: TensorFlow rejected the inputs or failed while running.
        """
        try:
            outputs = self._functions[signature](inputs)
        except Exception as err:  # TF raises OpError, ValueError or TypeError for bad inputs
            raise tf_error(err) from err
        return {k: v.numpy() for k, v in outputs.items()}
