"""Server options that change the transport: TLS and mTLS, size limits, health, unix socket."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tests.serverproc import start_server
from tests.support.certs import make_certificates, write_ssl_config

LIMIT = 4096


@pytest.fixture(scope="module")
def certs():
    return make_certificates()


@pytest.fixture(scope="module")
def tls_server(fixture_models, certs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    flags = [
        f"--model_config_file={fixture_models / 'models.config'}",
        f"--ssl_config_file={write_ssl_config(folder, certs, client_verify=True)}",
        f"--max_request_bytes={LIMIT}",
        "--enable_grpc_healthcheck_service",
        "--enable_serialization_as_tensor_content",
        "--rest_api_timeout_in_ms=50",
        f"--grpc_socket_path={folder / 'grpc.sock'}",
    ]
    with start_server(flags, folder) as server:
        yield server, folder


def request(values) -> predict_pb2.PredictRequest:
    message = predict_pb2.PredictRequest()
    message.model_spec.name = "half_plus_two"
    message.inputs["x"].CopyFrom(tf.make_tensor_proto(np.asarray(values, np.float32)))
    return message


def test_mtls_with_a_client_certificate(tls_server, certs) -> None:
    server, _ = tls_server
    credentials = grpc.ssl_channel_credentials(certs.ca, certs.client_key, certs.client_cert)
    with grpc.secure_channel(server.grpc, credentials) as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request([2.0]), timeout=30
        )
    # --enable_serialization_as_tensor_content: raw bytes instead of the typed fields.
    assert not response.outputs["y"].float_val
    assert tf.make_ndarray(response.outputs["y"]).tolist() == [3.0]


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param("plain", id="no-tls"),
        pytest.param("no-client-cert", id="tls-without-client-certificate"),
    ],
)
def test_refused_without_tls_or_client_certificate(tls_server, certs, credentials) -> None:
    server, _ = tls_server
    if credentials == "plain":
        channel = grpc.insecure_channel(server.grpc)
    else:
        channel = grpc.secure_channel(server.grpc, grpc.ssl_channel_credentials(certs.ca))
    with channel, pytest.raises(grpc.RpcError) as caught:
        prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request([2.0]), timeout=10
        )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_rest_stays_plain_http_with_ssl_config(tls_server) -> None:
    server, _ = tls_server
    response = requests.post(
        server.rest + "/v1/models/half_plus_two:predict", json={"instances": [2.0]}, timeout=10
    )
    assert response.json() == {"predictions": [3.0]}


def test_oversized_rest_body_is_refused_and_the_server_keeps_serving(tls_server) -> None:
    server, _ = tls_server
    body = {"instances": [1.0] * 2000}
    response = requests.post(
        server.rest + "/v1/models/half_plus_two:predict", json=body, timeout=10
    )
    assert response.status_code == 413
    assert f"exceeds the limit of {LIMIT} bytes" in response.json()["error"]
    ok = requests.post(
        server.rest + "/v1/models/half_plus_two:predict", json={"instances": [2.0]}, timeout=10
    )
    assert ok.status_code == 200


def test_oversized_grpc_message_is_resource_exhausted(tls_server) -> None:
    server, folder = tls_server
    with grpc.insecure_channel(f"unix:{folder / 'grpc.sock'}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Predict(request(np.ones(4000)), timeout=10)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        reply = stub.Predict(request([2.0]), timeout=10)
        assert tf.make_ndarray(reply.outputs["y"]).tolist() == [3.0]


def test_health_service_over_the_unix_socket(tls_server) -> None:
    _, folder = tls_server
    with grpc.insecure_channel(f"unix:{folder / 'grpc.sock'}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in (
            "tensorflow.serving.PredictionService",
            "tensorflow.serving.ModelService",
            "PredictionService",  # TF Serving registers the short names too
            "ModelService",
        ):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_rest_timeout_gives_504_and_fast_requests_still_pass(tls_server) -> None:
    """The timeout cancels the run itself: a loop of 2e9 steps (most of an hour) answers 504."""
    server, _ = tls_server
    slow = {"signature_name": "spin", "instances": [2e9]}
    response = requests.post(
        server.rest + "/v1/models/half_plus_two:predict", json=slow, timeout=60
    )
    assert response.status_code == 504, response.text
    fast = {"signature_name": "spin", "instances": [3.0]}
    response = requests.post(
        server.rest + "/v1/models/half_plus_two:predict", json=fast, timeout=60
    )
    assert response.json() == {"predictions": [3.5]}
