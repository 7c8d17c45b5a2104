"""The rollout check's gates before the load, against the embedded server: a canary whose signatures
break stable's clients is stopped, so is one that refuses stable's own requests (its warmup file,
or its logged calls), and a canary with only a compatible change goes on to the load and passes.

The model `gated` is built here: a linear 3-class classifier over x [-1, 4], stable's warmup file
holding an 8-row and a 32-row request. Versions: 1 stable; 2 the same answers plus an output
(compatible); 3 a second required input (breaking); 4 the same signature, but its graph refuses
batches of more than 8 rows (its own warmup file has only the 8-row request, so it loads).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from loadtest.rollout.cli import EXIT_BREACH, EXIT_OK, main
from tests.serverproc import RunningServer, start_server

pytestmark = pytest.mark.slow  # end to end: rollout checks against a server

MODEL = "gated"
BIG_BATCH = 32
LOOSE = ["--max-p50-ratio", "100", "--max-p99-ratio", "100", "--latency-floor-ms", "1000"]
SHORT_LOAD = ["--users", "2", "--run-time", "2s", "--rounds", "1"]


def _save(directory: Path, *, extra_output=False, extra_input=False, max_rows=None) -> None:
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    from export.warmup import write_records

    weights = np.random.default_rng(3).normal(size=(4, 3)).astype(np.float32)
    specs = {"x": tf.TensorSpec([None, 4], tf.float32, name="x")}
    if extra_input:
        specs["scale"] = tf.TensorSpec([None], tf.float32, name="scale")

    class Linear(tf.Module):
        @tf.function(input_signature=[specs])
        def serve(self, inputs):
            x = inputs["x"]
            if max_rows is not None:
                tf.debugging.assert_less_equal(
                    tf.shape(x)[0], max_rows, message=f"at most {max_rows} rows per request"
                )
            if extra_input:
                x = x * inputs["scale"][:, None]
            logits = tf.matmul(x, weights)
            outputs = {"class_ids": tf.argmax(logits, 1), "probabilities": tf.nn.softmax(logits)}
            return {**outputs, "logits": logits} if extra_output else outputs

    module = Linear()
    tf.saved_model.save(
        module, str(directory), signatures={"serving_default": module.serve.get_concrete_function()}
    )
    x = np.random.default_rng(4).normal(size=(8 + BIG_BATCH, 4)).astype(np.float32)
    records = []
    for rows in (x[:8], x[8:]) if max_rows is None else (x[:8],):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = MODEL
        request.inputs["x"].CopyFrom(tf.make_tensor_proto(rows))
        if extra_input:
            request.inputs["scale"].CopyFrom(tf.make_tensor_proto(np.ones(len(rows), np.float32)))
        records.append(prediction_log_pb2.PredictionLog(predict_log={"request": request}))
    write_records(directory / "assets.extra" / "tf_serving_warmup_requests", records)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gated-models")
    base = root / MODEL
    _save(base / "1")
    _save(base / "2", extra_output=True)
    _save(base / "3", extra_input=True)
    _save(base / "4", max_rows=8)
    (root / "models.config").write_text(
        f'model_config_list {{ config {{ name: "{MODEL}" base_path: "{base}" '
        'model_platform: "tensorflow" model_version_policy { specific { versions: 1 versions: 2 '
        'versions: 3 versions: 4 } } version_labels { key: "stable" value: 1 } '
        'version_labels { key: "canary" value: 2 } } }\n'
    )
    return root


@pytest.fixture(scope="module")
def server(models: Path, tmp_path_factory) -> RunningServer:
    flags = [
        f"--model_config_file={models / 'models.config'}",
        "--allow_version_labels_for_unavailable_models",
    ]
    with start_server(flags, tmp_path_factory.mktemp("gated-logs")) as running:
        yield running


def _check(server: RunningServer, models: Path, reports: Path, *extra: str) -> tuple[int, str]:
    args = ["--model", MODEL, "--transport", "grpc", "--host", server.grpc]
    args += ["--models-root", str(models), "--reports", str(reports), *SHORT_LOAD, *LOOSE]
    return main([*args, *extra]), ""


def _record(reports: Path) -> dict:
    (record,) = (reports / "rollout").glob("*/rollout.json")
    return json.loads(record.read_text())


def _breaches(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("canary worse: ")]


def test_a_breaking_signature_change_stops_the_check(server, models, tmp_path, capsys) -> None:
    code, _ = _check(server, models, tmp_path, "--canary-version", "3")
    out = capsys.readouterr().out
    assert code == EXIT_BREACH, out
    assert _breaches(out) == [
        "canary worse: signature serving_default: input scale: input added (- -> DT_FLOAT [-1]): "
        "old requests lack it, and every input of a signature is required",
        "canary worse: signature serving_default: signature: default signature changed "
        "(predict (1 in, 2 out) -> predict (2 in, 2 out)): requests that name no signature get "
        "serving_default: they meet the 1 breaking change(s) above",
    ]
    assert out.rstrip().endswith(
        "FAIL: the canary's signatures break stable's clients; nothing was replayed"
    )
    result = _record(tmp_path)
    assert result["stopped"] and result["passed"] is False
    assert [c["kind"] for c in result["signature_changes"]] == [
        "input added",
        "default signature changed",
    ]
    assert result["replay"] is None and result["load"] == {}
    assert not list((tmp_path / "rollout").glob("*/01-*"))  # no load was run


def test_a_canary_refusing_stables_warmup_requests_is_stopped(
    server, models, tmp_path, capsys
) -> None:
    code, _ = _check(server, models, tmp_path, "--canary-version", "4")
    out = capsys.readouterr().out
    assert code == EXIT_BREACH, out
    assert "replay (2 warmup requests of version 1)" in out and "1/2 answered" in out
    (breach,) = _breaches(out)
    assert breach.startswith(
        "canary worse: refused 1 of 2 replayed requests (2 warmup requests of version 1); "
        f"first: request 1 (predict serving_default, {BIG_BATCH} rows): InvalidInputError: "
    )
    assert "at most 8 rows per request" in breach
    assert out.rstrip().endswith("FAIL: the canary refused requests the stable version answered")
    result = _record(tmp_path)
    assert result["signature_changes"] == [] and result["load"] == {}
    assert result["replay"]["sent"] == 2 and result["replay"]["answered"] == 1


def test_stables_logged_calls_are_replayed_when_given(server, models, tmp_path, capsys) -> None:
    """Three logged 16-row calls to version 1 and one to version 2 (left out): the canary
    refuses all three, where stable's warmup file alone would have shown one refusal of two."""
    from clients import GrpcClient
    from requestlog import RequestLog

    logs = tmp_path / "logs"
    x = np.ones((16, 4), np.float32)
    with (
        RequestLog(logs, sampling_rate=1.0) as request_log,
        GrpcClient(server.grpc, request_log=request_log) as client,
    ):
        for _ in range(3):
            client.predict(MODEL, {"x": x}, version=1)
        client.predict(MODEL, {"x": x}, version=2)
    code, _ = _check(
        server, models, tmp_path / "reports", "--canary-version", "4", "--request-logs", str(logs)
    )
    out = capsys.readouterr().out
    assert code == EXIT_BREACH, out
    assert "replay (3 logged calls of version 1)" in out and "0/3 answered" in out
    refused = [line for line in out.splitlines() if line.startswith("  refused request ")]
    assert len(refused) == 3 and all("(predict serving_default, 16 rows)" in r for r in refused)


def test_a_compatible_canary_passes_the_gates_and_the_load(server, models, tmp_path, capsys):
    """The labels as configured: canary -> 2, which adds an output and answers alike."""
    code, _ = _check(server, models, tmp_path)
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    assert "canary: label canary -> version 2" in out
    assert "signatures (served: version 1 -> 2)" in out
    assert "serving_default: output logits" in out and "output added" in out
    assert "2/2 answered" in out
    assert out.rstrip().endswith("PASS: the canary is within every tolerance")
    result = _record(tmp_path)
    assert [(c["kind"], c["verdict"]) for c in result["signature_changes"]] == [
        ("output added", "compatible")
    ]
    assert result["replay"] == {
        "source": "2 warmup requests of version 1",
        "sent": 2,
        "answered": 2,
        "refused": [],
    }
    assert result["stopped"] is None and result["load"]["canary"]["count"] > 0
    sections = list(result["checks"])
    assert sections[:3] == [
        "signatures (served: version 1 -> 2)",
        "replay (2 warmup requests of version 1)",
        "load",
    ]


def test_an_accepted_breaking_change_is_shown_not_gated(server, models, tmp_path, capsys):
    """--accept-breaking serving_default lets canary 3's added input through the gate; stable's
    requests to serving_default are not replayed (they would fail by design), and the check
    goes on to the held-out predictions, which the canary refuses for want of the input."""
    code, _ = _check(
        server, models, tmp_path, "--canary-version", "3", "--accept-breaking", "serving_default"
    )
    out = capsys.readouterr().out
    assert code == EXIT_BREACH, out
    assert "note: breaking change accepted: serving_default: input scale: input added" in out
    assert "note: 2 requests to serving_default not replayed (accepted)" in out
    (breach,) = _breaches(out)
    assert breach.startswith("canary worse: held-out predictions failed: input size does not")
    assert "Missing but required: {scale}" in breach
    result = _record(tmp_path)
    accepted = result["checks"]["signatures (served: version 1 -> 3)"]
    assert [(c["tolerance"], c["passed"]) for c in accepted] == [("accepted", None)] * 2
    assert result["replay"] is None and result["stopped"] is None
