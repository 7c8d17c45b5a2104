"""The embedded server started inside the test process, on free loopback ports.

These tests import TensorFlow anyway (gRPC traffic, warmup records); a server in the same
process saves the ten-odd seconds a subprocess spends importing it again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from server.app import ModelServer
from server.flags import parse_flags, validate
from tests.serverproc import RunningServer, free_port


@contextlib.contextmanager
def serve(flags: list[str]) -> Iterator[RunningServer]:
    """Run the server with flags plus fresh --port/--rest_api_port; stop it afterwards."""
    grpc_port, rest_port = free_port(), free_port()
    options = parse_flags([f"--port={grpc_port}", f"--rest_api_port={rest_port}", *flags])
    validate(options)
    server = ModelServer(options)
    try:
        server.start()
        yield RunningServer(f"http://127.0.0.1:{rest_port}", f"127.0.0.1:{grpc_port}", None, None)
    finally:
        server.stop(grace=0)
