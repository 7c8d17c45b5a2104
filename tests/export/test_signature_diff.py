"""Each kind of signature change is found and judged breaking or compatible, on the signatures of a
SavedModel TensorFlow saved; saved_model.pb is read without TensorFlow and rewritten losslessly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exported import ExportedError
from exported.saved_model import read_signature_defs, saved_model_path
from exported.signature_diff import diff_signature_defs, summarize
from exported.signature_specs import spec_from_signature_def
from tests.export.signature_models import rewritten_copy, save_toy, set_shape
from wire.protos.messages import DataType, MetaGraphDef, SavedModel, SignatureDef

Edit = Callable[[Any], None]
DEFAULT_ROW = (
    "serving_default",
    "default signature changed",
    "signature",
    "predict (2 in, 2 out)",
    "predict (2 in, 2 out)",
    "breaking",
)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return save_toy(tmp_path_factory.mktemp("toy") / "1")


def _edited(signatures: dict[str, Any], edit: Edit | None) -> dict[str, Any]:
    copies = {
        key: SignatureDef.FromString(sig.SerializeToString()) for key, sig in signatures.items()
    }
    if edit is not None:
        edit(copies)
    return copies


def _shape(signature: str, role: str, alias: str, dims: list[int] | None) -> Edit:
    return lambda sigs: set_shape(getattr(sigs[signature], role)[alias], dims)


def _dtype(signature: str, role: str, alias: str, dtype: str) -> Edit:
    def edit(sigs: dict[str, Any]) -> None:
        getattr(sigs[signature], role)[alias].dtype = DataType.Value(dtype)

    return edit


def _method(signature: str, method: str) -> Edit:
    def edit(sigs: dict[str, Any]) -> None:
        sigs[signature].method_name = f"tensorflow/serving/{method}"

    return edit


def _add_tensor(signature: str, role: str, alias: str, dtype: str) -> Edit:
    def edit(sigs: dict[str, Any]) -> None:
        info = getattr(sigs[signature], role)[alias]
        info.name, info.dtype = f"{alias}:0", DataType.Value(dtype)
        set_shape(info, [-1])

    return edit


def _remove(signature: str, role: str | None = None, alias: str | None = None) -> Edit:
    def edit(sigs: dict[str, Any]) -> None:
        if role is None:
            del sigs[signature]
        else:
            del getattr(sigs[signature], role)[alias]

    return edit


def _copy_signature(source: str, target: str) -> Edit:
    return lambda sigs: sigs.__setitem__(
        target, SignatureDef.FromString(sigs[source].SerializeToString())
    )


CASES = [
    pytest.param(None, None, [], id="unchanged"),
    pytest.param(
        None,
        _copy_signature("serving_default", "predict_too"),
        [
            (
                "predict_too",
                "signature added",
                "signature",
                "-",
                "predict (2 in, 2 out)",
                "compatible",
            )
        ],
        id="signature-added",
    ),
    pytest.param(
        None,
        _remove("classify"),
        [("classify", "signature removed", "signature", "classify (1 in, 1 out)", "-", "breaking")],
        id="signature-removed",
    ),
    pytest.param(
        None,
        _remove("serving_default"),
        [
            (
                "serving_default",
                "default signature removed",
                "signature",
                "predict (2 in, 2 out)",
                "-",
                "breaking",
            )
        ],
        id="default-signature-removed",
    ),
    pytest.param(
        None,
        _add_tensor("classify", "inputs", "weights", "DT_FLOAT"),
        [("classify", "input added", "input weights", "-", "DT_FLOAT [-1]", "breaking")],
        id="input-added",
    ),
    pytest.param(
        None,
        _remove("classify", "inputs", "inputs"),
        [("classify", "input removed", "input inputs", "DT_STRING [-1]", "-", "breaking")],
        id="input-removed",
    ),
    pytest.param(
        None,
        _add_tensor("classify", "outputs", "classes", "DT_STRING"),
        [("classify", "output added", "output classes", "-", "DT_STRING [-1]", "compatible")],
        id="output-added",
    ),
    pytest.param(
        None,
        _remove("classify", "outputs", "scores"),
        [("classify", "output removed", "output scores", "DT_FLOAT [-1, 3]", "-", "breaking")],
        id="output-removed",
    ),
    pytest.param(
        None,
        _dtype("classify", "inputs", "inputs", "DT_INT64"),
        [("classify", "dtype changed", "input inputs", "DT_STRING", "DT_INT64", "breaking")],
        id="input-dtype",
    ),
    pytest.param(
        None,
        _dtype("classify", "outputs", "scores", "DT_DOUBLE"),
        [("classify", "dtype changed", "output scores", "DT_FLOAT", "DT_DOUBLE", "breaking")],
        id="output-dtype",
    ),
    pytest.param(
        None,
        _shape("serving_default", "inputs", "x", [-1, -1]),
        [("serving_default", "shape changed", "input x", "[-1, 4]", "[-1, -1]", "compatible")],
        id="input-fixed-dim-freed",
    ),
    pytest.param(
        None,
        _shape("serving_default", "inputs", "x", None),
        [("serving_default", "shape changed", "input x", "[-1, 4]", "unknown rank", "compatible")],
        id="input-rank-freed",
    ),
    pytest.param(
        None,
        _shape("serving_default", "inputs", "x", [-1, 5]),
        [
            ("serving_default", "shape changed", "input x", "[-1, 4]", "[-1, 5]", "breaking"),
            DEFAULT_ROW,
        ],
        id="input-fixed-dim-resized",
    ),
    pytest.param(
        None,
        _shape("classify", "inputs", "inputs", [8]),
        [("classify", "shape changed", "input inputs", "[-1]", "[8]", "breaking")],
        id="input-free-dim-fixed",
    ),
    pytest.param(
        None,
        _shape("classify", "inputs", "inputs", [-1, 1]),
        [("classify", "shape changed", "input inputs", "[-1]", "[-1, 1]", "breaking")],
        id="input-rank-changed",
    ),
    pytest.param(
        _shape("classify", "inputs", "inputs", None),
        _shape("classify", "inputs", "inputs", [-1]),
        [("classify", "shape changed", "input inputs", "unknown rank", "[-1]", "breaking")],
        id="input-rank-became-known",
    ),
    pytest.param(
        None,
        _shape("classify", "outputs", "scores", [-1, 4]),
        [("classify", "shape changed", "output scores", "[-1, 3]", "[-1, 4]", "breaking")],
        id="output-fixed-dim-resized",
    ),
    pytest.param(
        None,
        _shape("classify", "outputs", "scores", [-1]),
        [("classify", "shape changed", "output scores", "[-1, 3]", "[-1]", "breaking")],
        id="output-rank-changed",
    ),
    pytest.param(
        None,
        _shape("classify", "outputs", "scores", [-1, -1]),
        [("classify", "shape changed", "output scores", "[-1, 3]", "[-1, -1]", "compatible")],
        id="output-fixed-dim-freed",
    ),
    pytest.param(
        None,
        _method("classify", "predict"),
        [("classify", "method changed", "method name", "classify", "predict", "breaking")],
        id="method-classify-to-predict",
    ),
    pytest.param(
        None,
        _method("classify", "regress"),
        [("classify", "method changed", "method name", "classify", "regress", "breaking")],
        id="method-classify-to-regress",
    ),
    pytest.param(
        None,
        _method("serving_default", "classify"),
        [("serving_default", "method changed", "method name", "predict", "classify", "compatible")],
        id="method-predict-to-classify",
    ),
    pytest.param(
        None,
        _remove("__saved_model_init_op"),
        [],
        id="reserved-init-op-ignored",
    ),
]


@pytest.mark.parametrize(("before_edit", "after_edit", "rows"), CASES)
def test_each_kind_of_change_is_classified(toy: Path, before_edit, after_edit, rows) -> None:
    signatures = read_signature_defs(toy)
    changes = diff_signature_defs(_edited(signatures, before_edit), _edited(signatures, after_edit))
    assert [(c.signature, c.kind, c.what, c.before, c.after, c.verdict) for c in changes] == rows
    assert all(change.reason for change in changes)


def test_reasons_say_why(toy: Path) -> None:
    signatures = read_signature_defs(toy)
    narrowed = _edited(signatures, _shape("serving_default", "inputs", "x", [-1, 5]))
    shape, default = diff_signature_defs(signatures, narrowed)
    assert shape.reason == (
        "dimension 1 4 -> 5: old requests of other shapes reach a graph built for this one"
    )
    assert default.reason.startswith("requests that name no signature get serving_default")
    assert summarize([shape, default]) == "2 breaking, 0 compatible change(s)"
    assert summarize([]) == "no signature changes"


def test_signatures_read_without_tensorflow_match_tensorflows(toy: Path) -> None:
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    ours = read_signature_defs(toy)
    theirs = saved_model_pb2.SavedModel.FromString(saved_model_path(toy).read_bytes())
    (meta_graph,) = theirs.meta_graphs
    assert sorted(ours) == sorted(meta_graph.signature_def)
    for key, signature in meta_graph.signature_def.items():
        assert spec_from_signature_def(ours[key]) == spec_from_signature_def(signature), key
    assert set(tf.saved_model.load(str(toy)).signatures) == {"serving_default", "classify"}


def test_a_rewritten_saved_model_keeps_what_is_not_declared(toy: Path, tmp_path: Path) -> None:
    """The graph, functions and object graph pass through our partial messages as unknown
    fields: TensorFlow reads them back unchanged, and the copy still loads and answers."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    copy = rewritten_copy(toy, tmp_path / "2", _remove("classify"))
    original, rewritten = (
        saved_model_pb2.SavedModel.FromString(saved_model_path(v).read_bytes()).meta_graphs[0]
        for v in (toy, copy)
    )
    assert sorted(rewritten.signature_def) == ["__saved_model_init_op", "serving_default"]
    for name in ("meta_info_def", "graph_def", "saver_def", "object_graph_def"):
        assert getattr(rewritten, name) == getattr(original, name), name
    loaded = tf.saved_model.load(str(copy))
    answer = loaded.signatures["serving_default"](x=tf.ones([2, 4]), ids=tf.zeros([2], tf.int64))
    assert answer["probabilities"].shape == (2, 3)


def _facts(descriptor: Any) -> dict[str, tuple[int, int, bool, str]]:
    return {
        f.name: (f.number, f.type, f.is_repeated, (f.message_type or f.enum_type or f).full_name)
        for f in descriptor.fields
    }


@pytest.mark.parametrize(
    "ours",
    [
        pytest.param(SavedModel, id="SavedModel"),
        pytest.param(MetaGraphDef, id="MetaGraphDef"),
        pytest.param(MetaGraphDef.MetaInfoDef, id="MetaInfoDef"),
    ],
)
def test_saved_model_declarations_match_tensorflow(ours: Any) -> None:
    from google.protobuf import descriptor_pool
    from tensorflow.core.protobuf import saved_model_pb2  # noqa: F401  (registers the official)

    official = descriptor_pool.Default().FindMessageTypeByName(ours.DESCRIPTOR.full_name)
    declared, theirs = _facts(ours.DESCRIPTOR), _facts(official)
    assert declared and {name: theirs[name] for name in declared} == declared


def _no_serve_tag(version: Path) -> None:
    path = saved_model_path(version)
    saved_model = SavedModel.FromString(path.read_bytes())
    saved_model.meta_graphs[0].meta_info_def.tags[:] = ["train"]
    path.write_bytes(saved_model.SerializeToString())


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        pytest.param(lambda v: None, "no such version folder", id="missing-folder"),
        pytest.param(lambda v: v.mkdir(), "saved_model.pb: missing", id="no-saved-model"),
        pytest.param(
            lambda v: (v.mkdir(), saved_model_path(v).write_bytes(b"\xff\xff\xff")),
            "saved_model.pb: not a SavedModel",
            id="corrupt",
        ),
    ],
)
def test_unreadable_versions_are_refused_naming_the_path(tmp_path: Path, spoil, message) -> None:
    version = tmp_path / "7"
    spoil(version)
    with pytest.raises(ExportedError, match=message) as caught:
        read_signature_defs(version)
    assert str(version) in str(caught.value)


def test_a_version_without_the_serve_tag_is_refused(toy: Path, tmp_path: Path) -> None:
    copy = rewritten_copy(toy, tmp_path / "3", lambda sigs: None)
    _no_serve_tag(copy)
    with pytest.raises(ExportedError, match="no MetaGraph tagged serve \\(it has: train\\)"):
        read_signature_defs(copy)
    assert sorted(read_signature_defs(copy, ["train"])) == sorted(read_signature_defs(toy))
