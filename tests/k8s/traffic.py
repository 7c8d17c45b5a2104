"""Bounded REST and gRPC traffic to the example models, some of it failing on purpose.

Requests are the models' own warmup records (held-out examples written by export/), sent as
they are over gRPC and converted to TF Serving's columnar JSON for REST.
"""

from __future__ import annotations

import base64
import collections
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import requests
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from export.warmup import read_records, warmup_path
from tests.serverproc import RunningServer

# (model, version, how REST addresses it): both labels of tabular, and the other two models.
TARGETS = [
    ("tabular", 1, "labels/stable"),
    ("tabular", 2, "labels/canary"),
    ("digits", 1, "versions/1"),
    ("regressor", 1, "versions/1"),
]


def _json(value: Any) -> Any:
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    return value


def rest_body(request: predict_pb2.PredictRequest) -> dict[str, Any]:
    """The PredictRequest as a columnar REST body ({"inputs": {name: values}})."""
    inputs = {key: _json(tf.make_ndarray(proto).tolist()) for key, proto in request.inputs.items()}
    return {"signature_name": request.model_spec.signature_name, "inputs": inputs}


def _calls(models: Path, server: RunningServer, stub) -> list:
    """One round of calls; each returns (transport, outcome): ("rest", "200"), ("grpc", "OK")."""
    calls = []
    for name, version, rest_path in TARGETS:
        for log in read_records(warmup_path(models / name / str(version))):
            kind = log.WhichOneof("log_type")
            request = getattr(log, kind).request
            request.model_spec.name = name
            request.model_spec.version.value = version
            method = {"predict_log": stub.Predict, "classify_log": stub.Classify}.get(
                kind, stub.Regress
            )
            calls.append(functools.partial(_grpc, method, request))
            if kind == "predict_log":
                url = f"{server.rest}/v1/models/{name}/{rest_path}:predict"
                calls.append(functools.partial(_rest, url, rest_body(request)))
    # Errors: a model that is not served (NOT_FOUND) and inputs it does not take.
    missing = predict_pb2.PredictRequest()
    missing.model_spec.name = "nope"
    nope_url = f"{server.rest}/v1/models/nope:predict"
    stable_url = f"{server.rest}/v1/models/tabular/labels/stable:predict"
    calls += [functools.partial(_grpc, stub.Predict, missing)] * 3
    calls += [functools.partial(_rest, nope_url, {"instances": [1.0]})] * 3
    calls += [functools.partial(_rest, stable_url, {"instances": [{"no_such_input": 1.0}]})] * 3
    return calls


def _grpc(method, request) -> tuple[str, str]:
    try:
        method(request, timeout=30)
        return "grpc", "OK"
    except grpc.RpcError as err:
        return "grpc", err.code().name


def _rest(url: str, body: dict[str, Any]) -> tuple[str, str]:
    return "rest", str(requests.post(url, json=body, timeout=30).status_code)


def send_traffic(
    server: RunningServer, models: Path, rounds: int = 4, repeat: int = 2, pause: float = 1.0
) -> collections.Counter:
    """Send `rounds` rounds, `pause` seconds apart, each making every call `repeat` times.

    Returns {(transport, outcome): count}.
    """
    outcomes: collections.Counter = collections.Counter()
    with (
        grpc.insecure_channel(server.grpc) as channel,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        calls = _calls(models, server, stub) * repeat
        for round_number in range(rounds):
            if round_number:
                time.sleep(pause)
            outcomes.update(pool.map(lambda call: call(), calls))
    return outcomes
