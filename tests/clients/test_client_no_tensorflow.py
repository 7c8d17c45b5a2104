"""The clients work in a process where importing tensorflow or tensorflow_serving fails."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import ROOT
from tests.support.no_tensorflow import BLOCK_TENSORFLOW

SCRIPT = (
    BLOCK_TENSORFLOW
    + """
import asyncio, json, sys

from clients import AsyncGrpcClient, GrpcClient, ModelNotFoundError, RestClient
from clients.request_log import RequestLog, read_request_logs

rest_url, grpc_target, log_folder = sys.argv[1], sys.argv[2], sys.argv[3]
results = {}
request_log = RequestLog(log_folder, sampling_rate=1.0)
with GrpcClient(grpc_target, request_log=request_log) as grpc_client, RestClient(
    rest_url, request_log=request_log
) as rest_client:
    for name, client in (("grpc", grpc_client), ("rest", rest_client)):
        results[name] = {
            "predict": client.predict("half_plus_two", [1.0, 2.0], version=123)["y"].tolist(),
            "strings": client.predict("identity", {"x": [b"\\x00a"]}, signature="string")[
                "y_bytes"
            ].tolist()[0].hex(),
            "classify": client.classify(
                "half_plus_two", [{"x": 1.0}], version=123, signature="classify_x_to_y"
            ),
            "metadata": client.get_model_metadata("half_plus_two")["serving_default"],
            "status": [s.state for s in client.get_model_status("half_plus_two")],
        }
        try:
            client.predict("no_such_model", {"x": [1.0]})
        except ModelNotFoundError as err:
            results[name]["error"] = type(err).__name__

async def use_async():
    async with AsyncGrpcClient(grpc_target, request_log=request_log) as client:
        return (await client.predict("half_plus_two", {"x": [4.0]}, label="stable"))["y"].tolist()

results["async"] = asyncio.run(use_async())
request_log.close()
results["logged"] = sorted(
    (call.transport, call.kind, call.request_id == "") for call in read_request_logs(log_folder)
)
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in {"tensorflow", "tensorflow_serving"})
results["loaded"] = loaded
print(json.dumps(results))
"""
)


def test_clients_without_tensorflow(server, tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), server.rest, server.grpc, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["loaded"] == []
    assert results["grpc"] == results["rest"]
    assert results["grpc"]["predict"] == [2.5, 3.0]
    assert results["grpc"]["strings"] == "0061"
    assert results["grpc"]["classify"] == [[["y", 2.5]]]
    assert results["grpc"]["status"] == ["AVAILABLE", "AVAILABLE"]
    assert results["grpc"]["error"] == "ModelNotFoundError"
    assert results["async"] == [4.0]
    assert results["logged"] == [
        ["grpc", "classify", False],
        *[["grpc", "predict", False]] * 3,
        ["rest", "classify", False],
        *[["rest", "predict", False]] * 2,
    ]
