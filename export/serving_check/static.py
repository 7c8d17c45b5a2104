"""The static half of `check-serving`: every op and attr a version uses, against a release's ops.

TF Serving loads a version's `serve` MetaGraph into a Session, and TensorFlow then checks
each node, in the graph and in the functions of its library, against the op registry linked
into the server. An op it lacks fails with `Op type not registered 'X'`; a dtype the op does
not allow with `Value for attr 'T' of ... is not in the list of allowed values`. An attr the
older op lacks is logged and ignored (`NodeDef mentions attribute Y which is not in the op
definition ... Unknown attributes will be ignored`, measured with TensorFlow 2.20): harmless
at the newer op's default, where the older op means the same; otherwise the node fails to
load (a type attr the older signature does not follow) or runs as the older op, not as
exported, so it is refused. (tf.saved_model.save strips attrs at their default, so those
rarely appear; TF1 builders without strip_default_attrs write them.) Attrs named `_...` are
TensorFlow's own and exempt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from google.protobuf import text_format
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from export.op_registry import OpRegistry, first_seen, held_releases, load_registry
from serving_config.release import serving_image

SERVE_TAGS = {"serve"}

Kind = Literal["op", "custom-op", "attr", "dtype", "no-serve-graph"]


@dataclass(frozen=True)
class Refusal:
    """One reason the target release cannot load a version; `message` says it in full."""

    kind: Kind
    op: str
    where: str  # the first node, e.g. "node 'x' in function 'f'", and how many more
    release: str
    attr: str = ""
    value: str = ""
    first_seen: str | None = None
    oldest_held: str | None = None

    @property
    def message(self) -> str:
        image = serving_image(self.release)
        since = self._since()
        if self.kind == "no-serve-graph":
            return f"no MetaGraph tagged exactly 'serve': {image} has nothing to load"
        if self.kind == "custom-op":
            return (
                f"op '{self.op}' ({self.where}) is in no TensorFlow op registry held"
                f" ({', '.join(held_releases())}): it comes from an op library outside core"
                f" TensorFlow (a custom op, or one of e.g. TF Text or SentencePiece) and needs"
                f" a custom image with that op library; the stock {image} fails with"
                f" \"Op type not registered '{self.op}'\""
            )
        if self.kind == "op":
            return (
                f"op '{self.op}' ({self.where}) is not in TensorFlow {self.release}{since};"
                f" {image} fails with \"Op type not registered '{self.op}'\""
            )
        if self.kind == "attr":
            return (
                f"attr '{self.attr}' of op '{self.op}' ({self.where}) is set to {self.value},"
                f" and TensorFlow {self.release}'s {self.op} has no such attr{since}; {image}"
                f' ignores it ("NodeDef mentions attribute {self.attr} which is not in the op'
                ' definition"), so the node fails to load or runs as the older op, not as'
                " exported"
            )
        return (
            f"attr '{self.attr}' of op '{self.op}' ({self.where}) is {self.value}, which"
            f" TensorFlow {self.release}'s {self.op} does not allow{since}; {image} fails with"
            f" \"Value for attr '{self.attr}' of {self.value} is not in the list of allowed"
            ' values"'
        )

    def _since(self) -> str:
        if self.first_seen is None:
            return ""
        if self.first_seen == self.oldest_held:
            return f" (the held registries have it from {self.first_seen}, the oldest held)"
        return f" (added in TensorFlow {self.first_seen}, by the registries held)"


def serve_meta_graph(version_dir: Path) -> meta_graph_pb2.MetaGraphDef | None:
    """The MetaGraph TF Serving loads: the one tagged exactly {'serve'}.

    Raises:
        OSError: saved_model.pb cannot be read.
        google.protobuf.message.DecodeError: it is not a SavedModel.
    """
    saved_model = saved_model_pb2.SavedModel.FromString(
        (Path(version_dir) / "saved_model.pb").read_bytes()
    )
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == SERVE_TAGS:
            return meta_graph
    return None


def _nodes(meta_graph: meta_graph_pb2.MetaGraphDef) -> Iterator[tuple[Any, str]]:
    """Every NodeDef with where it is: the graph's own, then each library function's."""
    for node in meta_graph.graph_def.node:
        yield node, f"node '{node.name}'"
    for function in meta_graph.graph_def.library.function:
        for node in function.node_def:
            yield node, f"node '{node.name}' in function '{function.signature.name}'"


def _one_line(value: Any) -> str:
    if value.WhichOneof("value") == "type":
        return str(types_pb2.DataType.Name(value.type))
    return str(text_format.MessageToString(value, as_one_line=True))


def _dtypes(value: Any) -> list[str]:
    """The dtypes a type or list(type) AttrValue sets (none for a function's placeholder)."""
    which = value.WhichOneof("value")
    if which == "type":
        return [types_pb2.DataType.Name(value.type)]
    if which == "list":
        return [types_pb2.DataType.Name(t) for t in value.list.type]
    return []


def _producer_defaults(meta_graph: meta_graph_pb2.MetaGraphDef) -> dict[tuple[str, str], Any]:
    """(op, attr) -> default AttrValue, from the op defs the exporter wrote beside the graph."""
    return {
        (op.name, attr.name): attr.default_value
        for op in meta_graph.meta_info_def.stripped_op_list.op
        for attr in op.attr
        if attr.HasField("default_value")
    }


def _node_problems(
    node: Any, registry: OpRegistry, defaults: dict[tuple[str, str], Any]
) -> Iterator[tuple[Kind, str, str]]:
    """(kind, attr, value) for each thing of `node` that `registry` refuses."""
    if node.op not in registry.ops:
        yield "op", "", ""
        return
    known = registry.ops[node.op]
    for name, value in sorted(node.attr.items()):
        if name.startswith("_"):
            continue
        if name not in known:
            if defaults.get((node.op, name)) != value:  # at its default it changes nothing
                yield "attr", name, _one_line(value)
            continue
        allowed: list[str] = known[name].get("allowed") or []
        for dtype in _dtypes(value) if allowed else []:
            if dtype not in allowed:
                yield "dtype", name, dtype


def static_check(version_dir: Path, registry: OpRegistry) -> list[Refusal]:
    """What keeps `registry`'s release from loading the version, one Refusal per op, attr or
    dtype (naming the first node where it appears); empty when it loads.

    Raises:
        OSError: saved_model.pb cannot be read.
        google.protobuf.message.DecodeError: it is not a SavedModel.
    """
    meta_graph = serve_meta_graph(version_dir)
    if meta_graph is None:
        return [Refusal("no-serve-graph", "", "", registry.release)]
    functions = {f.signature.name for f in meta_graph.graph_def.library.function}
    defaults = _producer_defaults(meta_graph)
    found: dict[tuple[Kind, str, str, str], list[str]] = {}
    for node, where in _nodes(meta_graph):
        if node.op in functions:  # a call of a library function, whose nodes are checked
            continue
        for kind, attr, value in _node_problems(node, registry, defaults):
            found.setdefault((kind, node.op, attr, value), []).append(where)
    refusals = []
    for (kind, op, attr, value), places in found.items():
        where = places[0] + (f", and {len(places) - 1} more" if len(places) > 1 else "")
        seen: str | None
        oldest: str | None
        if kind == "dtype":
            seen, oldest = _first_allowing(op, attr, value), held_releases()[0]
        else:
            seen, oldest = first_seen(op, attr or None)
        if kind == "op" and seen is None:
            kind = "custom-op"
        refusals.append(Refusal(kind, op, where, registry.release, attr, value, seen, oldest))
    return refusals


def _first_allowing(op: str, attr: str, dtype: str) -> str | None:
    """The oldest held release whose op lets the attr take the dtype."""
    for release in held_releases():
        entry = load_registry(release).attr(op, attr)
        if entry is not None and dtype in entry.get("allowed", [dtype]):
            return release
    return None
