"""`python -m bench loadgen`: wrk driven by the generated script, and one tiny real comparison."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.loadgen_accuracy import (
    LoadgenOptions,
    WrkError,
    format_loadgen,
    measure_loadgen,
    run_wrk,
    write_loadgen,
    wrk_script,
)

BODIES = [b'{"instances": [{"x": "a \\"quoted\\" \\\\ value"}]}', '{"k": "\u00e9\u6f22"}'.encode()]


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: list[bytes] = []
    status = 200

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(self.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[type[_Recorder], int]]:
    handler = type("Handler", (_Recorder,), {"bodies": [], "status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, server.server_address[1]
    server.shutdown()
    server.server_close()


def test_wrk_sends_the_bodies_byte_for_byte_in_turn(recorder, tmp_path: Path) -> None:
    handler, port = recorder
    script = tmp_path / "s.lua"
    script.write_text(wrk_script("POST", "/v1/models/m:predict", BODIES, 20))
    result = run_wrk("wrk", f"http://127.0.0.1:{port}", script, 1)
    assert result["requests"] >= 2 and result["p50_us"] > 0
    assert sorted(handler.bodies[:2]) == sorted(BODIES)  # in turn, byte for byte
    assert set(handler.bodies) == set(BODIES)


def test_wrk_refuses_a_run_with_failed_answers(recorder, tmp_path: Path) -> None:
    handler, port = recorder
    handler.status = 500
    script = tmp_path / "s.lua"
    script.write_text(wrk_script("POST", "/", BODIES[:1], 20))
    with pytest.raises(WrkError, match="failed requests"):
        run_wrk("wrk", f"http://127.0.0.1:{port}", script, 1)


def test_a_missing_wrk_is_named(tmp_path: Path) -> None:
    with pytest.raises(WrkError, match="no-such-wrk is not installed"):
        run_wrk("no-such-wrk", "http://127.0.0.1:1", tmp_path / "s.lua", 1)


@pytest.mark.slow
def test_a_tiny_comparison_on_the_embedded_server(example_models: Path, tmp_path: Path) -> None:
    options = LoadgenOptions(example_models, tmp_path, rate=50, seconds=1, rounds=1)
    results = measure_loadgen(options)
    assert [r.endpoint for r in results] == ["status", "inference"]
    for r in results:
        assert len(r.wrk_p50_ms) == len(r.loadtest_p50_ms) == 1
        assert r.wrk_p50_ms[0] > 0 and r.loadtest_p50_ms[0] > 0
        assert r.loadtest_lag_p50_ms  # paced: the send lag is reported
    markdown = write_loadgen(results, options).read_text()
    assert markdown == format_loadgen(results, 50)
    data = json.loads((tmp_path / "loadgen.json").read_text())
    assert [e["endpoint"] for e in data["endpoints"]] == ["status", "inference"]
    assert all(isinstance(e["met"], bool) for e in data["endpoints"])
