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
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, meta_graph_pb2
from tensorflow.python.client import pywrap_tf_session
from tensorflow.python.saved_model import loader_impl

DEFAULT_SIGNATURE = "serving_default"
# Callables prepared per signature, fed inputs, fetched outputs and fixed timeout; a client
# choosing output filters could otherwise make the cache grow without bound.
MAX_CALLABLES = 64


@dataclasses.dataclass(frozen=True)
class RunTimeout:
    """A run's `RunOptions.timeout_in_ms`.

    `fixed` timeouts are the same for every request of a kind (REST's
    `--rest_api_timeout_in_ms`), so a prepared callable carries them; a per-request remaining
    time (a gRPC deadline) is passed with that one `Session::Run`.
    """

    milliseconds: int
    fixed: bool = False


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
        self._graph = session.graph
        self._lock = threading.Lock()
        self._callables: OrderedDict[tuple, Callable[..., list[np.ndarray]]] = OrderedDict()
        self._outputs: dict[str, Any] = {}

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
            tf.errors.OpError: the run failed (DeadlineExceededError past the timeout).
        """
        signature_def = self.signature_defs[signature]
        fed = tuple(inputs)
        fetched = tuple(outputs) or tuple(signature_def.outputs)
        feed_names = [signature_def.inputs[alias].name for alias in fed]
        fetch_names = [signature_def.outputs[alias].name for alias in fetched]
        # Two aliases may name one tensor; fetch it once.
        unique = list(dict.fromkeys(fetch_names))
        arrays = [inputs[alias] for alias in fed]
        if timeout is None or timeout.fixed:
            key = (signature, fed, fetched, timeout.milliseconds if timeout else None)
            values = self._callable(key, feed_names, unique, timeout)(*arrays)
        else:
            values = self._run_once(feed_names, arrays, unique, timeout.milliseconds)
        # TF hands back numpy scalars for rank-0 tensors; callers get arrays throughout.
        by_name = {name: np.asarray(value) for name, value in zip(unique, values, strict=True)}
        return {alias: by_name[name] for alias, name in zip(fetched, fetch_names, strict=True)}

    def _callable(
        self, key: tuple, feeds: list[str], fetches: list[str], timeout: RunTimeout | None
    ) -> Callable[..., list[np.ndarray]]:
        with self._lock:
            found = self._callables.get(key)
            if found is not None:
                self._callables.move_to_end(key)
                return found
            options = config_pb2.CallableOptions(feed=feeds, fetch=fetches)
            if timeout is not None and timeout.milliseconds > 0:
                options.run_options.timeout_in_ms = timeout.milliseconds
            made = self.session._make_callable_from_options(options)
            self._callables[key] = made
            if len(self._callables) > MAX_CALLABLES:
                self._callables.popitem(last=False)
            return made

    def _tensor(self, name: str) -> Any:
        output = self._outputs.get(name)
        if output is None:
            output = self._graph.as_graph_element(name)._as_tf_output()
            self._outputs[name] = output
        return output

    def _run_once(
        self, feeds: list[str], arrays: list[np.ndarray], fetches: list[str], timeout_ms: int
    ) -> list[np.ndarray]:
        """One `Session::Run` by tensor names with this request's RunOptions."""
        options = config_pb2.RunOptions(timeout_in_ms=max(timeout_ms, 1)).SerializeToString()
        buffer = pywrap_tf_session.TF_NewBufferFromString(options)
        try:
            feed_dict = {
                self._tensor(name): array for name, array in zip(feeds, arrays, strict=True)
            }
            return pywrap_tf_session.TF_SessionRun_wrapper(
                self.session._session,
                buffer,
                feed_dict,
                [self._tensor(name) for name in fetches],
                [],
                None,
            )
        finally:
            pywrap_tf_session.TF_DeleteBuffer(buffer)

    def close(self) -> None:
        with self._lock:
            self._callables.clear()
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
