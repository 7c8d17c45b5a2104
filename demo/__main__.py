"""`python -m demo`: start the embedded server on the exported models, query it, verify it."""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path
from typing import Any

import tflog

tflog.quiet()

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import requests  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from exported import read_warmup_logs  # noqa: E402
from launcher import StartError, start_server  # noqa: E402
from wire.tensors import make_ndarray  # noqa: E402

VERIFY_MODELS = ("tabular", "digits", "regressor")


def held_out(models: Path, name: str, version: int, count: int) -> list[dict[str, np.ndarray]]:
    """Single-example inputs taken from the version's warmup requests (held-out test data)."""
    rows: list[dict[str, np.ndarray]] = []
    for record in read_warmup_logs(models / name / str(version)):
        if record.WhichOneof("log_type") != "predict_log":
            continue
        inputs = {k: make_ndarray(v) for k, v in record.predict_log.request.inputs.items()}
        size = len(next(iter(inputs.values())))
        rows.extend({k: v[i : i + 1] for k, v in inputs.items()} for i in range(size))
    return rows[:count]


def json_instance(row: dict[str, np.ndarray]) -> dict[str, Any]:
    def value(array: np.ndarray) -> Any:
        item = array[0]
        return {"b64": base64.b64encode(item).decode()} if isinstance(item, bytes) else item.item()

    return {k: value(v) for k, v in row.items()}


def show(
    models: Path, rest: str, stub: prediction_service_pb2_grpc.PredictionServiceStub, examples: int
) -> None:
    print(f"{'model':<13} {'via':<5} {'prediction':<28} {'latency':>9}")
    for name, version, path in [
        ("tabular", 1, "labels/stable"),
        ("tabular", 2, "labels/canary"),
        ("digits", 1, "versions/1"),
        ("regressor", 1, "versions/1"),
    ]:
        session = requests.Session()
        for row in held_out(models, name, version, examples):
            started = time.perf_counter()
            response = session.post(
                f"{rest}/v1/models/{name}/{path}:predict",
                json={"instances": [json_instance(row)]},
                timeout=30,
            )
            rest_ms = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            prediction = response.json()["predictions"][0]
            request = predict_pb2.PredictRequest()
            request.model_spec.name = name
            request.model_spec.version.value = version
            for key, array in row.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(array))
            started = time.perf_counter()
            reply = stub.Predict(request, timeout=30)
            grpc_ms = (time.perf_counter() - started) * 1000
            if isinstance(prediction, dict):
                label = f"{prediction['class_names']} (p={max(prediction['probabilities']):.3f})"
                grpc_label = reply.outputs["class_names"].string_val[0].decode()
            else:
                label = f"{prediction:.1f}"
                grpc_label = f"{reply.outputs['progression'].float_val[0]:.1f}"
            print(f"{name + ' v' + str(version):<13} {'REST':<5} {label:<28} {rest_ms:>7.2f}ms")
            print(f"{'':<13} {'gRPC':<5} {grpc_label:<28} {grpc_ms:>7.2f}ms")


def verify(models: Path, rest: str, grpc_target: str) -> bool:
    """Verify every example model on the running server; print each verdict table."""
    from clients.errors import ServingClientError
    from monitoring.reference import ReferenceError as MissingReferenceError
    from monitoring.verify.checks import VerifySettings, verify_deployment
    from monitoring.verify.savedmodel import SavedModelError

    passed = True
    for name in VERIFY_MODELS:
        settings = VerifySettings(name, models_root=models)
        try:
            result = verify_deployment({"rest": rest, "grpc": grpc_target}, settings)
        except (ServingClientError, MissingReferenceError, SavedModelError, ValueError) as err:
            print(f"verify {name}: cannot verify: {err}")
            passed = False
            continue
        print(result.text())
        passed = passed and result.passed
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--config", type=Path, default=Path("build/models.config"))
    parser.add_argument("--port", type=int, default=8500)
    parser.add_argument("--rest-port", type=int, default=8501)
    parser.add_argument("--examples", type=int, default=2, help="held-out examples per model")
    args = parser.parse_args()
    flags = [
        f"--model_config_file={args.config}",
        "--allow_version_labels_for_unavailable_models",
        "--monitoring_config_file=serving_config/monitoring.config",
    ]
    log_path = Path("build/demo-server.log")
    print(f"starting: server --port={args.port} --rest_api_port={args.rest_port}", *flags)
    try:
        with start_server(
            flags, log_path, grpc_port=args.port, rest_port=args.rest_port, model="tabular"
        ) as server:
            with grpc.insecure_channel(server.grpc) as channel:
                show(
                    args.models,
                    server.rest,
                    prediction_service_pb2_grpc.PredictionServiceStub(channel),
                    args.examples,
                )
            status = requests.get(f"{server.rest}/v1/models/tabular", timeout=10).json()
            states = ", ".join(
                f"v{s['version']} {s['state']}" for s in status["model_version_status"]
            )
            print(f"tabular status: {states}")
            verified = verify(args.models, server.rest, server.grpc)
    except StartError as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1
    print("server stopped")
    if not verified:
        print("demo: verification failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
