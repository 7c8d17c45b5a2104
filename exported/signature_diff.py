"""Every change between two versions' signatures, each breaking or compatible for their clients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exported.signature_specs import (
    Change,
    Shape,
    SignatureSpec,
    TensorSpec,
    format_shape,
    method_label,
    spec_from_signature_def,
)
from wire import DEFAULT_SIGNATURE

__all__ = [
    "RESERVED_KEYS",
    "RULES",
    "diff_signature_defs",
    "diff_signatures",
    "format_changes",
    "summarize",
]

RULES = """\
A change is breaking when a request or a reader that worked with the old version fails:
  signature removed     breaking: requests naming it are refused; serving_default removed
                        refuses every request that names no signature, and a breaking
                        change to it reaches them too (a "default signature changed" row)
  signature added       compatible
  input added           breaking: TF Serving wants exactly the signature's inputs, and in a
                        SignatureDef every input is required, so old requests lack one
  input removed         breaking: old requests still send it, and TF Serving refuses extras
  output added          compatible: old readers ignore it
  output removed        breaking: readers and output filters naming it fail
  dtype changed         breaking: typed requests (every gRPC tensor) are refused; readers
                        decode other values
  input shape changed   TF Serving does not check shapes, the graph does: a kernel refuses
                        the tensor or, worse, computes on input it was not built for. So a
                        narrower shape is breaking (a -1 dimension becoming fixed, a fixed
                        size changing, the rank changing or becoming known) and a wider one
                        compatible (a fixed dimension becoming -1, the rank becoming unknown)
  output shape changed  breaking when the rank or a fixed size changes (readers reshape by
                        it); compatible when a dimension only becomes -1 or fixed
  method changed        breaking when it drops an API the old one admitted (Predict takes
                        predict, classify and regress signatures; Classify only classify;
                        Regress only regress, under TF Serving's method-name check, and
                        clients pick the API by it); so predict -> classify is compatible
"""

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
_APIS = {PREDICT: {"Predict"}, CLASSIFY: {"Predict", "Classify"}, REGRESS: {"Predict", "Regress"}}
# TensorFlow's own entries in a signature map (the SavedModel's init and train ops): no client
# calls them, and a version saved by another TensorFlow may have them or not.
RESERVED_KEYS = frozenset({"__saved_model_init_op", "__saved_model_train_op"})
_GRAPH_REFUSES = "old requests of other shapes reach a graph built for this one"


def _input_shape(before: Shape, after: Shape) -> tuple[bool, str]:
    """(breaking, why) for an input's shape going from before to after."""
    if after is None:
        return False, "the rank is now free: every old shape is still accepted"
    if before is None:
        return True, f"the rank was free, now {len(after)}: {_GRAPH_REFUSES}"
    if len(before) != len(after):
        return True, f"rank {len(before)} -> {len(after)}: {_GRAPH_REFUSES}"
    narrowed = [
        f"dimension {i} {'free' if b == -1 else b} -> {a}"
        for i, (b, a) in enumerate(zip(before, after, strict=True))
        if b != a and a != -1
    ]
    if narrowed:
        return True, f"{', '.join(narrowed)}: {_GRAPH_REFUSES}"
    return False, "dimensions became free (-1): every old shape is still accepted"


def _output_shape(before: Shape, after: Shape) -> tuple[bool, str]:
    """(breaking, why) for an output's shape going from before to after."""
    if before is None or after is None:
        return False, "the rank became free or known: the tensors themselves need not change"
    if len(before) != len(after):
        return True, f"rank {len(before)} -> {len(after)}: readers reshape by the old rank"
    resized = [
        f"dimension {i} {b} -> {a}"
        for i, (b, a) in enumerate(zip(before, after, strict=True))
        if b != a and -1 not in (b, a)
    ]
    if resized:
        return True, f"{', '.join(resized)}: readers sized for the old shape read other values"
    return False, "dimensions only became free or fixed: the tensors themselves need not change"


_ADDED_REMOVED = {
    ("input", "added"): (True, "old requests lack it, and every input of a signature is required"),
    ("input", "removed"): (True, "old requests still send it, and TF Serving refuses extra inputs"),
    ("output", "added"): (False, "old readers ignore it"),
    ("output", "removed"): (True, "readers and output filters naming it fail"),
}


def _tensors(
    key: str, role: str, before: Mapping[str, TensorSpec], after: Mapping[str, TensorSpec]
) -> list[Change]:
    changes = []
    for alias in sorted(before.keys() - after.keys()):
        breaking, why = _ADDED_REMOVED[role, "removed"]
        described = before[alias].describe()
        what = f"{role} {alias}"
        changes.append(Change(key, f"{role} removed", what, described, "-", breaking, why))
    for alias in sorted(after.keys() - before.keys()):
        breaking, why = _ADDED_REMOVED[role, "added"]
        described = after[alias].describe()
        what = f"{role} {alias}"
        changes.append(Change(key, f"{role} added", what, "-", described, breaking, why))
    for alias in sorted(before.keys() & after.keys()):
        old, new = before[alias], after[alias]
        what = f"{role} {alias}"
        if old.dtype != new.dtype:
            why = (
                f"requests typed {old.dtype} are refused"
                if role == "input"
                else f"readers get {new.dtype} values where they decoded {old.dtype}"
            )
            changes.append(Change(key, "dtype changed", what, old.dtype, new.dtype, True, why))
        if old.shape != new.shape:
            judge = _input_shape if role == "input" else _output_shape
            breaking, why = judge(old.shape, new.shape)
            shapes = format_shape(old.shape), format_shape(new.shape)
            changes.append(Change(key, "shape changed", what, *shapes, breaking, why))
    return changes


def _method(key: str, before: str, after: str) -> list[Change]:
    if before == after:
        return []
    lost = _APIS.get(before, set()) - _APIS.get(after, set())
    why = (
        f"{' and '.join(sorted(lost))} requests are refused under TF Serving's method-name "
        "check, and clients that pick the API by method name change it"
        if lost
        else "every API the old method name admitted still runs it"
    )
    labels = method_label(before), method_label(after)
    return [Change(key, "method changed", "method name", *labels, bool(lost), why)]


def _compare(key: str, before: SignatureSpec, after: SignatureSpec) -> list[Change]:
    changes = _method(key, before.method_name, after.method_name)
    changes += _tensors(key, "input", before.inputs, after.inputs)
    changes += _tensors(key, "output", before.outputs, after.outputs)
    breaking = sum(change.breaking for change in changes)
    if key == DEFAULT_SIGNATURE and breaking:
        why = (
            f"requests that name no signature get serving_default: they meet the {breaking}"
            " breaking change(s) above"
        )
        described = before.describe(), after.describe()
        changes.append(Change(key, "default signature changed", "signature", *described, True, why))
    return changes


def diff_signatures(
    before: Mapping[str, SignatureSpec], after: Mapping[str, SignatureSpec]
) -> list[Change]:
    """Every change from before's signatures to after's, by signature key, judged as RULES says
    (TensorFlow's reserved keys, RESERVED_KEYS, are left out)."""
    changes = []
    for key in sorted((before.keys() | after.keys()) - RESERVED_KEYS):
        if key not in after:
            kind, why = "signature removed", "requests naming it are refused (not found)"
            if key == DEFAULT_SIGNATURE:
                kind = "default signature removed"
                why = "requests naming no signature use serving_default: every one is refused"
            changes.append(Change(key, kind, "signature", before[key].describe(), "-", True, why))
        elif key not in before:
            added = after[key].describe()
            why = "no old request names it"
            changes.append(Change(key, "signature added", "signature", "-", added, False, why))
        else:
            changes += _compare(key, before[key], after[key])
    return changes


def diff_signature_defs(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """diff_signatures of two {key: SignatureDef} maps (a MetaGraphDef's or a SignatureDefMap's)."""
    return diff_signatures(
        {key: spec_from_signature_def(signature) for key, signature in before.items()},
        {key: spec_from_signature_def(signature) for key, signature in after.items()},
    )


COLUMNS = ("signature", "kind", "what", "before", "after", "verdict")


def format_changes(changes: list[Change]) -> str:
    """The changes as a table: signature, kind, what, before, after, verdict."""
    rows = [list(COLUMNS)]
    rows += [[c.signature, c.kind, c.what, c.before, c.after, c.verdict] for c in changes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def summarize(changes: list[Change]) -> str:
    """ "2 breaking, 1 compatible change(s)", or "no signature changes"."""
    if not changes:
        return "no signature changes"
    breaking = sum(c.breaking for c in changes)
    return f"{breaking} breaking, {len(changes) - breaking} compatible change(s)"
