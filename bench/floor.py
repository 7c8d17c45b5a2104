"""The floor: bare gRPC and HTTP/1.1 echo servers that answer with a fixed, real-sized reply.

Run one per process: `python -m bench.floor grpc|http --port P --reply-file F`. Each does
no work beyond its transport, so its latency is the least any Python server can cost.

With `--session-models DIR` the echo also runs the benchmark's Session run (bench.
signature_call.SessionCall, on arrays built before the server starts) for every request
before it replies: the composed floor, a server that does nothing but its transport and the
model's Session run, in the thread our server runs it in (a gRPC worker thread; the event
loop for HTTP). Its latency shows what composing the two costs beyond their sum.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from pathlib import Path
from typing import cast

import grpc

from bench.processes import HOST

log = logging.getLogger(__name__)

# The echo answers on Predict's own path, so the real PredictionServiceStub can call it.
GRPC_SERVICE = "tensorflow.serving.PredictionService"
GRPC_METHOD = "Predict"
GRPC_PATH = f"/{GRPC_SERVICE}/{GRPC_METHOD}"
GRPC_THREADS = 8  # the embedded server's default --grpc_max_threads on 2 CPUs


Work = Callable[[], object]  # what the echo does per request before replying


def _nothing() -> None:
    return None


def start_grpc_echo(
    port: int, reply: bytes, threads: int = GRPC_THREADS, work: Work = _nothing
) -> grpc.Server:
    """A grpcio server whose one unary method does `work`, then returns `reply` for any
    request bytes."""

    def answer(request: bytes, context: grpc.ServicerContext) -> bytes:
        work()
        return reply

    handler = grpc.unary_unary_rpc_method_handler(
        answer,
        request_deserializer=None,  # None keeps the raw bytes in both directions
        response_serializer=None,
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(GRPC_SERVICE, {GRPC_METHOD: handler}),)
    )
    server.add_insecure_port(f"{HOST}:{port}")
    server.start()
    return server


def http_response(body: bytes, content_type: str = "application/json") -> bytes:
    """A complete HTTP/1.1 200 response with the headers our REST server sends."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class HttpEchoProtocol(asyncio.Protocol):
    """Keep-alive HTTP/1.1: read a head and a Content-Length body, write the fixed response."""

    def __init__(self, response: bytes, work: Work = _nothing) -> None:
        self._response = response
        self._work = work
        self._buffer = bytearray()
        self._transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end])
            total = end + 4 + _content_length(head)
            if len(self._buffer) < total:
                return
            del self._buffer[:total]
            self._work()
            self._transport.write(self._response)
            if b"\r\nconnection: close" in head.lower():
                self._transport.close()
                return


async def serve_http_echo(
    port: int, body: bytes, stopped: asyncio.Event, work: Work = _nothing
) -> None:
    """Serve the HTTP echo on loopback `port` until `stopped` is set."""
    response = http_response(body)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpEchoProtocol(response, work), HOST, port)
    async with server:
        await stopped.wait()


def _run_grpc(port: int, reply: bytes, work: Work) -> None:
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    server = start_grpc_echo(port, reply, work=work)
    log.info("gRPC echo on %s:%d replying with %d bytes", HOST, port, len(reply))
    stopped.wait()
    server.stop(grace=0)


async def _run_http(port: int, body: bytes, work: Work) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    log.info("HTTP echo on %s:%d replying with %d body bytes", HOST, port, len(body))
    await serve_http_echo(port, body, stopped, work)


def _session_work(models: Path, model: str) -> Work:
    # Imported here: the bare echoes stay free of TensorFlow.
    from bench.signature_call import SessionCall
    from bench.workload import load_workload

    call = SessionCall(load_workload(models, model))
    call()  # the first run builds the Session's executor, as the server's warmup does
    return call


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("transport", choices=["grpc", "http"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reply-file", type=Path, required=True, help="bytes to answer with")
    parser.add_argument(
        "--session-models",
        type=Path,
        help="also run the benchmark's Session run per request, from this models folder",
    )
    parser.add_argument("--session-model", default="tabular", help="the model of --session-models")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    reply = args.reply_file.read_bytes()
    work = (
        _session_work(args.session_models, args.session_model) if args.session_models else _nothing
    )
    if args.transport == "grpc":
        _run_grpc(args.port, reply, work)
    else:
        asyncio.run(_run_http(args.port, reply, work))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
