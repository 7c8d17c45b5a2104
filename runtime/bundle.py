"""Load a SavedModel as TF Serving does and run its signatures by tensor name.

TF Serving's C++ server loads a version as a SavedModelBundle: the TF1 loader imports the
MetaGraphDef with the requested tags into a fresh Graph and Session, runs the saver's restore
op and the init (main) op with the asset files fed in, and then answers every request with
`Session::Run`, feeding the SignatureDef's input tensor names and fetching its output tensor
names. Doing the same here means a SavedModel that would fail there (untracked variables,
ops the graph cannot run) fails here too, and one that runs there (TF1 graphs with reference
variables, `tf.Example` parsing in the graph) runs here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, meta_graph_pb2
from tensorflow.python.client import pywrap_tf_session
from tensorflow.python.saved_model import loader_impl

DEFAULT_SIGNATURE = "serving_default"


class NotATensorError(ValueError):
    """A SignatureDef names an operation where a tensor belongs (as an init op's does)."""


@dataclasses.dataclass(frozen=True)
class RunTimeout:
    """A run's `RunOptions.timeout_in_ms`: REST's `--rest_api_timeout_in_ms`, or the time a
    gRPC client's deadline leaves."""

    milliseconds: int


class SessionBundle:
    """A SavedModel's MetaGraphDef loaded into its own Graph and Session.

    `run` is thread-safe: the Session runs concurrent steps, as TF Serving's does.
    """

    def __init__(
        self, path: Path, session: tf.compat.v1.Session, meta_graph: meta_graph_pb2.MetaGraphDef
    ) -> None:
        self.path = Path(path)
        self.session = session
        self.meta_graph = meta_graph
        self.signature_defs: dict[str, meta_graph_pb2.SignatureDef] = dict(meta_graph.signature_def)
        # Plain dicts of what the SignatureDefs say, read once here rather than from the
        # protos on every request: alias -> tensor name per signature, and tensor name -> the
        # C API's TF_Output (None where a signature names an operation, as the init op's does:
        # that cannot be run as a request).
        self._input_names = {
            key: {alias: info.name for alias, info in signature_def.inputs.items()}
            for key, signature_def in self.signature_defs.items()
        }
        self._output_names = {
            key: {alias: info.name for alias, info in signature_def.outputs.items()}
            for key, signature_def in self.signature_defs.items()
        }
        graph = session.graph
        tensors: dict[str, Any] = {}
        for names in (*self._input_names.values(), *self._output_names.values()):
            for name in names.values():
                element = graph.as_graph_element(name)
                tensors[name] = element._as_tf_output() if isinstance(element, tf.Tensor) else None
        self._tensors = tensors
        # Per signature, alias -> TF_Output of its inputs, and the fetch of all its outputs
        # worked out once (the common request fetches them all): one lookup per input then.
        self._feeds = {
            key: {alias: tensors[name] for alias, name in names.items()}
            for key, names in self._input_names.items()
        }
        self._fetch_all = {
            key: self._fetch_plan(key, list(names)) for key, names in self._output_names.items()
        }

    def _fetch_plan(self, signature: str, aliases: list[str]) -> tuple[list[Any], list[int]]:
        """The TF_Outputs to fetch for `aliases` (a tensor two aliases name, once; None for a
        name that is not a tensor) and, per alias, the index of its value among them."""
        names = [self._output_names[signature][alias] for alias in aliases]
        unique = list(dict.fromkeys(names))
        return [self._tensors[name] for name in unique], [unique.index(n) for n in names]

    def run(
        self,
        signature: str,
        inputs: Mapping[str, np.ndarray],
        outputs: Sequence[str] = (),
        timeout: RunTimeout | None = None,
    ) -> dict[str, np.ndarray]:
        """Feed `inputs` (by alias) to `signature`'s input tensors; its outputs by alias.

        `outputs` restricts the fetch to those aliases (all when empty), as TF Serving's
        output_filter does. Shapes are not checked against the SignatureDef: whatever the
        graph does with the fed values is the answer.

        Raises:
            KeyError: no such signature, input alias or output alias.
            NotATensorError: the signature names an operation where a tensor belongs.
            TypeError, ValueError: TensorFlow could not convert a fed value.
            tf.errors.OpError: the run failed (DeadlineExceededError past the timeout).
        """
        feeds = self._feeds[signature]
        if outputs:
            fetched = list(outputs)
            fetches, positions = self._fetch_plan(signature, fetched)
        else:
            fetched = list(self._output_names[signature])
            fetches, positions = self._fetch_all[signature]
        if any(fetch is None for fetch in fetches):
            self._not_a_tensor(signature, self._output_names[signature], fetched)
        feed_dict = {}
        for alias, value in inputs.items():
            tensor = feeds[alias]
            if tensor is None:
                self._not_a_tensor(signature, self._input_names[signature], [alias])
            feed_dict[tensor] = value
        values = self._session_run(feed_dict, fetches, timeout)
        # TF hands back numpy scalars for rank-0 tensors; callers get arrays throughout.
        return {
            alias: np.asarray(values[position])
            for alias, position in zip(fetched, positions, strict=True)
        }

    def _not_a_tensor(self, signature: str, names: Mapping[str, str], aliases: list[str]) -> None:
        for alias in aliases:
            if self._tensors[names[alias]] is None:
                raise NotATensorError(
                    f"signature {signature!r} names {names[alias]!r}, which is not a tensor"
                )

    def _session_run(
        self, feed_dict: dict[Any, np.ndarray], fetches: list[Any], timeout: RunTimeout | None
    ) -> list[np.ndarray]:
        """One `Session::Run` by tensor names, as TF Serving runs every request (and every
        warmup request: the Session caches one executor per set of feeds and fetches, so the
        requests after warmup reuse what warmup built, whatever their timeout)."""
        buffer = None
        if timeout is not None and timeout.milliseconds > 0:
            options = config_pb2.RunOptions(timeout_in_ms=timeout.milliseconds)
            buffer = pywrap_tf_session.TF_NewBufferFromString(options.SerializeToString())
        try:
            # The untyped wrapper answers one numpy array per fetch.
            results: list[np.ndarray] = pywrap_tf_session.TF_SessionRun_wrapper(
                self.session._session, buffer, feed_dict, fetches, [], None
            )
            return results
        finally:
            if buffer is not None:
                pywrap_tf_session.TF_DeleteBuffer(buffer)

    def close(self) -> None:
        self.session.close()


def load_bundle(
    path: Path, tags: Sequence[str], config: config_pb2.ConfigProto | None = None
) -> SessionBundle:
    """Load `path` with the TF1 SavedModel loader into a new Graph and Session.

    Raises:
        RuntimeError, OSError or tf.errors.OpError: as the loader raises them (no MetaGraphDef
            with these tags, a missing or corrupt file, a restore or init op that fails).
    """
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph, config=config)
    try:
        # The loader class behind tf.compat.v1.saved_model.load, without its deprecation notice.
        meta_graph = loader_impl.SavedModelLoader(str(path)).load(session, list(tags))
    except BaseException:
        session.close()
        raise
    return SessionBundle(Path(path), session, meta_graph)
