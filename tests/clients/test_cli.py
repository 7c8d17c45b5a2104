"""`python -m clients` as a subprocess against the package's server, over gRPC and REST."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.clients.conftest import CANARY, STABLE, TRANSPORTS
from tests.conftest import ROOT
from tests.serverproc import RunningServer, free_port

EXAMPLES = ROOT / "clients" / "cli" / "examples"
# The committed inputs are the first held-out examples of scikit-learn's data sets: a
# malignant breast-cancer case and a 4 from the digits (8x8, written as a grayscale PNG).
TABULAR_LABEL, DIGIT_LABEL = "malignant", "4"
DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"TFS_GRPC_TARGET", "TFS_REST_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "clients", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def table_rows(table: str) -> list[list[str]]:
    """A table's cells (its columns are at least two spaces apart)."""
    return [re.split(r"\s{2,}", line) for line in table.splitlines()]


def address(transport: str, server: RunningServer) -> list[str]:
    if transport == "grpc":
        return ["--transport", "grpc", "--target", server.grpc]
    return ["--transport", "rest", "--url", server.rest]


def call_json(transport: str, server: RunningServer, *args: str) -> Any:
    done = cli(*args, *address(transport, server), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def call_table(transport: str, server: RunningServer, *args: str) -> str:
    done = cli(*args, *address(transport, server))
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_predict_a_tabular_example_file(server, transport) -> None:
    args = ("predict", "--model", "tabular", "--input", f"@{EXAMPLES / 'tabular.json'}")
    outputs = call_json(transport, server, *args)["outputs"]
    assert outputs["class_names"] == {"dtype": "string", "shape": [1], "value": [TABULAR_LABEL]}
    assert outputs["probabilities"]["dtype"] == "float32"
    assert outputs["probabilities"]["shape"] == [1, 2]
    assert outputs["probabilities"]["value"][0][0] > 0.5
    rows = table_rows(call_table(transport, server, *args))
    assert rows[0] == ["output", "dtype", "shape", "values"]
    assert rows[2] == ["class_names", "string", "[1]", f"['{TABULAR_LABEL}']"]
    assert rows[3][:3] == ["probabilities", "float32", "[1, 2]"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_predict_a_png_file_to_digits(server, transport) -> None:
    args = ("predict", "--model", "digits", "--input", f"@{EXAMPLES / 'digit.png'}")
    outputs = call_json(transport, server, *args)["outputs"]
    assert outputs["class_names"]["value"] == [DIGIT_LABEL]
    assert outputs["class_ids"]["value"] == [int(DIGIT_LABEL)]
    probabilities = outputs["probabilities"]["value"][0]
    assert len(probabilities) == 10
    assert max(probabilities) == probabilities[int(DIGIT_LABEL)]
    assert f"['{DIGIT_LABEL}']" in call_table(transport, server, *args)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("which", "expected"),
    [
        pytest.param(["--version", str(STABLE)], [2.5, 3.0], id="version"),
        pytest.param(["--label", "canary"], [3.5, 4.0], id="label"),
    ],
)
def test_predict_a_bare_json_list_at_a_version_or_label(server, transport, which, expected):
    args = ("predict", "--model", "half_plus_two", *which, "--input", "[1, 2]")
    assert call_json(transport, server, *args)["outputs"]["y"]["value"] == expected


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bytes_go_in_as_b64_and_come_out_as_b64_or_text(server, transport) -> None:
    binary, text = b"\xff\x00\x01", "café".encode()
    value = [{"b64": base64.b64encode(binary).decode()}, {"b64": base64.b64encode(text).decode()}]
    args = ("predict", "--model", "identity", "--signature", "string", "--output", "y_bytes")
    args += ("--input", json.dumps({"x": value}))
    outputs = call_json(transport, server, *args)["outputs"]
    assert list(outputs) == ["y_bytes"]
    assert outputs["y_bytes"]["value"] == [{"b64": "/wAB"}, "café"]
    assert "[<3 bytes>, 'café']" in call_table(transport, server, *args)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_predict_a_file_into_a_named_input(server, transport, tmp_path) -> None:
    path = tmp_path / "payload.bin"
    path.write_bytes(b"\x00abc")
    args = ("predict", "--model", "identity", "--signature", "string", "--output", "y")
    args += ("--input", f"@{path}", "--input-name", "x")
    assert call_json(transport, server, *args)["outputs"]["y"]["value"] == ["\x00abc"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_classify_finds_the_classify_signature(server, transport) -> None:
    args = ("classify", "--model", "tabular", "--examples", f"@{EXAMPLES / 'tabular.json'}")
    results = call_json(transport, server, *args)["results"]
    assert [pair["label"] for pair in results[0]] == ["malignant", "benign"]
    assert results[0][0]["score"] > results[0][1]["score"]
    rows = table_rows(call_table(transport, server, *args))
    assert rows[0] == ["example", "label", "score"]
    assert rows[1] == ["0", "malignant", f"{results[0][0]['score']:.6g}"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_regress_with_context_features(server, transport) -> None:
    common = dict.fromkeys(DIABETES_FEATURES[1:], 0.01)
    examples = [{"age": -0.05, **common}, {"age": 0.05, **common}]
    regress = ("regress", "--model", "regressor", "--examples")
    whole = call_json(transport, server, *regress, json.dumps(examples))["results"]
    assert len(whole) == 2
    assert whole[0] != whole[1]
    ages = json.dumps([{"age": -0.05}, {"age": 0.05}])
    table = call_table(transport, server, *regress, ages, "--context", json.dumps(common))
    assert table_rows(table) == [
        ["example", "value"],
        ["0", f"{whole[0]:.6g}"],
        ["1", f"{whole[1]:.6g}"],
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_metadata(server, transport) -> None:
    document = call_json(transport, server, "metadata", "--model", "digits")
    assert document["model"] == "digits"
    default = document["signatures"]["serving_default"]
    assert default["inputs"] == {"image_bytes": {"dtype": "DT_STRING", "shape": [-1]}}
    assert default["outputs"]["probabilities"] == {"dtype": "DT_FLOAT", "shape": [-1, 10]}
    table = call_table(transport, server, "metadata", "--model", "digits")
    rows = table_rows(table)
    predict = ["serving_default", "tensorflow/serving/predict"]
    assert [*predict, "input", "image_bytes", "DT_STRING", "[-1]"] in rows
    assert [*predict, "output", "probabilities", "DT_FLOAT", "[-1, 10]"] in rows
    assert not any(row[0].startswith("__") for row in rows)  # TF's init op is not callable


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_status(server, transport) -> None:
    document = call_json(transport, server, "status", "--model", "half_plus_two")
    assert document["versions"] == [
        {"version": CANARY, "state": "AVAILABLE", "error_code": "OK", "error_message": ""},
        {"version": STABLE, "state": "AVAILABLE", "error_code": "OK", "error_message": ""},
    ]
    table = call_table(transport, server, "status", "--model", "half_plus_two", "--version", "123")
    assert table_rows(table) == [
        ["version", "state", "error_code", "error_message"],
        [str(STABLE), "AVAILABLE", "OK"],
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_model_fails_with_the_servers_message(server, transport) -> None:
    done = cli("predict", "--model", "nope", "--input", "[1]", *address(transport, server))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "error: ModelNotFoundError: Servable not found for request: Latest(nope)"
    )


def test_no_server_fails_as_unavailable() -> None:
    done = cli("status", "--model", "x", "--target", f"127.0.0.1:{free_port()}", "--timeout", "2")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ServerUnavailableError: ")


def test_environment_and_url_choose_the_server(server) -> None:
    # With only --url the transport is REST; a gRPC default would hit the dead target.
    dead = {"TFS_GRPC_TARGET": f"127.0.0.1:{free_port()}"}
    done = cli("status", "--model", "identity", "--url", server.rest, "--json", env=dead)
    assert done.returncode == 0, done.stderr
    env = {"TFS_REST_URL": server.rest, "TFS_GRPC_TARGET": server.grpc}
    for transport in ("grpc", "rest"):
        done = cli("status", "--model", "identity", "--transport", transport, env=env)
        assert done.returncode == 0, done.stderr
        assert "AVAILABLE" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["predict", "--input", "[1]"], "--model", id="missing-model"),
        pytest.param(
            ["predict", "--model", "m", "--version", "1", "--label", "a", "--input", "1"],
            "not allowed with argument --version",
            id="version-and-label",
        ),
        pytest.param(
            ["predict", "--model", "m", "--input", "{bad"], "--input is not valid JSON", id="json"
        ),
        pytest.param(
            ["predict", "--model", "m", "--input", "@/no/such/file.json"],
            "No such file",
            id="missing-file",
        ),
        pytest.param(
            ["classify", "--model", "m", "--examples", "[1, 2]"],
            "--examples must be",
            id="examples-not-objects",
        ),
        pytest.param(
            ["status", "--model", "m", "--timeout", "0"],
            "timeout must be a positive number",
            id="timeout",
        ),
        pytest.param(["serve"], "invalid choice", id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(args, message) -> None:
    # Each is refused before any call is made, so no server is needed.
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_a_file_for_a_signature_without_string_inputs_is_a_usage_error(server) -> None:
    args = ("predict", "--model", "tabular", "--input", f"@{EXAMPLES / 'digit.png'}")
    done = cli(*args, *address("grpc", server))
    assert done.returncode == 2
    assert "name the input with --input-name" in done.stderr


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param([], "metadata", id="main"),
        *(
            pytest.param([name], "--model", id=name)
            for name in ("predict", "classify", "regress", "metadata", "status")
        ),
    ],
)
def test_help(command, expected) -> None:
    done = cli(*command, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: python -m clients")
    assert expected in done.stdout
