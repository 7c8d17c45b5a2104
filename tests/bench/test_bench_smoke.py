"""Smoke test of `python -m bench`: echo servers, timing and report code on tiny counts."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

from bench import floor
from bench.callers import HttpPost, grpc_channel
from bench.measure import Throughput, run_concurrent, time_interleaved
from bench.processes import ModuleSpec, free_port, port_open, run_modules
from bench.report import ServerBenchResult, environment, to_document, write_files

GRPC_REPLY = b"\x0a\x03abc" * 40
HTTP_REPLY = b'{"predictions": [{"class_ids": 0}]}'


def _echo_spec(transport: str, reply: bytes, tmp_path: Path) -> tuple[ModuleSpec, int]:
    reply_file = tmp_path / f"{transport}.bin"
    reply_file.write_bytes(reply)
    port = free_port()
    args = ["bench.floor", transport, f"--port={port}", f"--reply-file={reply_file}"]
    return ModuleSpec(f"echo-{transport}", args, lambda: port_open(port)), port


def _port_open_within(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(port):
            return True
        time.sleep(0.05)
    return False


def test_echo_servers_feed_a_complete_report(tmp_path: Path) -> None:
    grpc_spec, grpc_port = _echo_spec("grpc", GRPC_REPLY, tmp_path)
    http_spec, http_port = _echo_spec("http", HTTP_REPLY, tmp_path)
    with run_modules([grpc_spec, http_spec], tmp_path / "logs", timeout=60):
        channel = grpc_channel(grpc_port)
        echo = channel.unary_unary(floor.GRPC_PATH)  # raw bytes both ways
        post = HttpPost(http_port, "/v1/models/tabular:predict", b'{"instances": [{"x": 1.0}]}')
        try:
            assert echo(b"request", timeout=10) == GRPC_REPLY
            assert post() == HTTP_REPLY
            latency = time_interleaved(
                {"grpc": lambda: echo(b"request", timeout=10), "http": post},
                requests={"grpc": 20, "http": 20},
                warmup={"grpc": 2, "http": 2},
                rounds=2,
            )

            def make_call():
                stub_call = channel.unary_unary(floor.GRPC_PATH)
                return lambda: stub_call(b"request", timeout=10)

            runs = [run_concurrent(make_call, clients=4, requests_per_client=5) for _ in range(2)]
        finally:
            post.close()
            channel.close()

    assert latency["grpc"].count == 20 and latency["http"].count == 20
    assert all(v.p50_ms > 0 and v.p99_ms >= v.p50_ms for v in latency.values())
    throughput = Throughput.from_runs(runs)
    assert throughput.requests == 40 and throughput.requests_per_second > 0

    result = ServerBenchResult(
        grpc=latency["grpc"],
        rest=latency["http"],
        grpc_echo=latency["grpc"],
        http_echo=latency["http"],
        grpc_composed=latency["grpc"],
        http_composed=latency["http"],
        signature_call=latency["http"],
        tf2_signature_call=latency["grpc"],
        fastapi=latency["grpc"],
        batching_off=throughput,
        batching_on=throughput,
        settings={"model": "tabular", "requests": 20, "warmup": 2, "baseline_requests": 20},
    )
    json_path, md_path = write_files(to_document(result, environment("smoke")), tmp_path)
    document = json.loads(json_path.read_text())
    assert set(document["latency_ms"]) == {
        "grpc_predict",
        "rest_predict",
        "grpc_echo",
        "http_echo",
        "grpc_echo_with_session",
        "http_echo_with_session",
        "signature_call",
        "tf2_signature_call",
        "fastapi_predict",
    }
    assert set(document["floor_ms"]) == {"grpc", "rest", "grpc_composed", "rest_composed"}
    assert set(document["ratios"]) == {
        "grpc_vs_floor",
        "rest_vs_floor",
        "grpc_vs_composed_floor",
        "rest_vs_composed_floor",
        "fastapi_vs_rest",
    }
    # Our gRPC path was the echo itself here: exactly 1x against the composed floor.
    assert document["ratios"]["grpc_vs_composed_floor"]["p50"] == 1.0
    assert document["throughput"]["batching_on_vs_off"] == 1.0
    assert [t["met"] for t in document["targets"]] == [True, True, False]
    assert document["environment"]["cpu_count"] >= 1
    table = md_path.read_text()
    assert "| gRPC Predict, our server |" in table and "target missed" in table
    assert "| grpcio echo running the Session run per request |" in table


def test_echoes_do_their_work_once_per_request(tmp_path: Path) -> None:
    """The composed floor's echoes run their work for every request, before replying."""
    done: list[str] = []
    server = floor.start_grpc_echo(port := free_port(), GRPC_REPLY, work=lambda: done.append("g"))
    channel = grpc_channel(port)
    try:
        echo = channel.unary_unary(floor.GRPC_PATH)
        assert [echo(b"x", timeout=10) for _ in range(3)] == [GRPC_REPLY] * 3
    finally:
        channel.close()
        server.stop(grace=0)
    assert done == ["g"] * 3

    loop = asyncio.new_event_loop()
    stopped = asyncio.Event()
    http_port = free_port()
    work = lambda: done.append("h")  # noqa: E731
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(floor.serve_http_echo(http_port, HTTP_REPLY, stopped, work),),
    )
    thread.start()
    try:
        assert _port_open_within(http_port, 10)
        post = HttpPost(http_port, "/v1/models/tabular:predict", b"{}")
        assert [post() for _ in range(2)] == [HTTP_REPLY] * 2
        post.close()
    finally:
        loop.call_soon_threadsafe(stopped.set)
        thread.join(10)
        loop.close()
    assert done == ["g"] * 3 + ["h"] * 2


def test_composed_floor_runs_the_benchmarks_session_run(example_models: Path) -> None:
    """`--session-models` gives the echo the very SessionCall the floor times in-process."""
    import numpy as np

    from bench.signature_call import SessionCall
    from bench.workload import load_workload

    work = floor._session_work(example_models, "tabular")
    expected = SessionCall(load_workload(example_models, "tabular"))()
    got = work()
    assert isinstance(got, dict) and sorted(got) == sorted(expected)
    for alias, value in expected.items():
        np.testing.assert_array_equal(got[alias], value, err_msg=alias)


def test_floor_session_run_answers_as_the_tf2_signature_call(example_models: Path) -> None:
    """The floor's two in-process calls run one signature: same outputs, same numbers."""
    import numpy as np

    from bench.signature_call import ObjectSignatureCall, SessionCall
    from bench.workload import load_workload

    workload = load_workload(example_models, "tabular")
    session, tf2 = SessionCall(workload)(), ObjectSignatureCall(workload)()
    assert sorted(session) == sorted(tf2)
    for alias, value in tf2.items():
        if value.dtype == "string":
            assert session[alias].tolist() == value.numpy().tolist(), alias
        else:
            np.testing.assert_allclose(session[alias], value.numpy(), rtol=1e-6, err_msg=alias)
