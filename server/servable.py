"""One loaded model version: its SessionBundle, signature metadata and the numeric calls."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, meta_graph_pb2, saved_model_pb2

from runtime import DEFAULT_SIGNATURE as DEFAULT_SIGNATURE  # re-exported for the server
from runtime import NotATensorError, load_bundle
from runtime.bundle import RunTimeout
from server.batching import BatchingOptions, BatchScheduler
from server.errors import Code, ServingError, invalid_argument
from server.tensors import numpy_dtype

log = logging.getLogger(__name__)

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


FEED_FAILED = "The request's input values could not be fed to the model's input tensors"


def run_error(err: Exception) -> ServingError:
    """tf_error for a Session run: TensorFlow's own errors keep their code and message (as in
    TF Serving); a value TensorFlow's Python layer could not convert is INVALID_ARGUMENT with
    the project's message, so no Python exception text reaches a client (it is logged)."""
    if isinstance(err, ServingError | tf.errors.OpError | NotATensorError):
        return tf_error(err)
    log.warning("Session run refused the request's values: %r", err)
    return invalid_argument(FEED_FAILED)


def _numpy_dtypes(signature_def: meta_graph_pb2.SignatureDef) -> dict[str, np.dtype] | None:
    try:
        return {alias: numpy_dtype(info.dtype) for alias, info in signature_def.inputs.items()}
    except ServingError:
        return None


class Servable:
    """A SavedModel loaded as TF Serving loads it (runtime.SessionBundle), ready to run.

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
        batch_hooks: dict[str, Callable[..., None]] | None = None,
        session_threads: tuple[int, int] = (0, 0),
    ) -> None:
        self.name = name
        self.version = version
        self.path = Path(path)
        read_meta_graph(self.path, tags)  # TF Serving's messages for a missing or bad file
        try:
            intra, inter = session_threads  # ServerOptions.session_threads: 0 lets TF choose
            config = config_pb2.ConfigProto(
                intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter
            )
            self._bundle = load_bundle(self.path, sorted(tags), config)
        except Exception as err:
            raise tf_error(err) from err
        self.meta_graph = self._bundle.meta_graph
        self.signature_defs = self._bundle.signature_defs
        # Each signature's input dtypes as numpy dtypes, worked out once: a request whose
        # arrays have exactly these passes TF Serving's dtype check without a lookup per input
        # (None where an input's dtype has no numpy counterpart: those take the full check).
        self.input_dtypes = {
            key: _numpy_dtypes(signature_def) for key, signature_def in self.signature_defs.items()
        }
        # One queue per signature: TF Serving batches per distinct set of tensor names.
        self._batchers = (
            {
                key: BatchScheduler(
                    functools.partial(self._run_batch, key),
                    batching,
                    name=f"{name}/{version}/{key}",
                    **(batch_hooks or {}),
                )
                for key in self.signature_defs
                if key != INIT_OP_SIGNATURE
            }
            if batching
            else {}
        )

    def run(
        self,
        signature: str,
        inputs: dict[str, np.ndarray],
        outputs: Sequence[str] = (),
        timeout: RunTimeout | None = None,
    ) -> dict[str, np.ndarray]:
        """Run a signature, through its batching queue when batching is on; `outputs`
        restricts the answer to those aliases (all when empty).

        Raises:
            ServingError: from the batcher (queue full, task too large) or from TensorFlow
                (DEADLINE_EXCEEDED when the run outlives `timeout`).
        """
        batcher = self._batchers.get(signature)
        if batcher is None:
            return self.call(signature, inputs, outputs, timeout)
        deadline = (
            time.monotonic() + timeout.milliseconds / 1000
            if timeout is not None and timeout.milliseconds > 0
            else None
        )
        batched = batcher.run(inputs, deadline=deadline)
        return {alias: batched[alias] for alias in outputs} if outputs else dict(batched)

    def _run_batch(
        self, signature: str, inputs: dict[str, np.ndarray], deadline: float | None
    ) -> dict[str, np.ndarray]:
        timeout = (
            None
            if deadline is None
            else RunTimeout(max(1, int((deadline - time.monotonic()) * 1000)))
        )
        return self.call(signature, inputs, (), timeout)

    def close(self) -> None:
        for batcher in self._batchers.values():
            batcher.close()
        self._bundle.close()

    def signature(self, name: str) -> meta_graph_pb2.SignatureDef | None:
        return self.signature_defs.get(name or DEFAULT_SIGNATURE)

    def call(
        self,
        signature: str,
        inputs: dict[str, np.ndarray],
        outputs: Sequence[str] = (),
        timeout: RunTimeout | None = None,
    ) -> dict[str, np.ndarray]:
        """One Session run of a signature by tensor name; outputs by alias.

        Raises:
            ServingError: the code TensorFlow failed with, and its message.
        """
        try:
            return self._bundle.run(signature, inputs, outputs, timeout)
        except Exception as err:  # TF raises OpError, or TypeError/ValueError feeding values
            raise run_error(err) from err
