"""Every RPC in METHODS reaches TF Serving's own generated servicer on loopback, both ways intact."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from tests.clients.protos_support import official_class, random_messages
from wire import protos


class RecordingServicer:
    """Answers every RPC with a prepared official response and keeps the requests it got."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.reply: Message | None = None

    def handle(self, request: Message, context: grpc.ServicerContext) -> Message:
        self.received.append(request)
        return self.reply


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[grpc.Channel, RecordingServicer]]:
    """A channel to an in-process server built from tensorflow-serving-api's servicers."""
    recorder = RecordingServicer()
    prediction = prediction_service_pb2_grpc.PredictionServiceServicer()
    model = model_service_pb2_grpc.ModelServiceServicer()
    for method in protos.METHODS.values():
        servicer = prediction if method.service == protos.PREDICTION_SERVICE else model
        setattr(servicer, method.name, recorder.handle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(prediction, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(model, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel, recorder
    server.stop(grace=None)


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in protos.METHODS])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rpc_carries_request_and_response_intact(served, name: str, data: st.DataObject) -> None:
    channel, recorder = served
    method = protos.METHODS[name]
    request = data.draw(random_messages(method.request, complete=True), label="request")
    reply = data.draw(random_messages(method.response, complete=True), label="reply")
    official_reply = official_class(reply.DESCRIPTOR.full_name)
    recorder.reply = official_reply.FromString(reply.SerializeToString())
    recorder.received.clear()

    response = method.bind(channel)(request, timeout=10)

    assert type(response) is method.response
    assert response == reply
    [received] = recorder.received
    assert json_format.MessageToDict(received) == json_format.MessageToDict(
        request, descriptor_pool=protos.POOL
    )
