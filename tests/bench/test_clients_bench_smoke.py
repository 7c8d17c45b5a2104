"""Smoke test of `python -m bench clients`: import, codec and report code on tiny counts.

The gRPC part needs TensorFlow and a server process; `make bench` runs it, this test does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.__main__ import _build_parser
from bench.clients_codec import OPERATIONS, Codec, clients_codec, time_codecs
from bench.clients_grpc import GrpcPaths, profile_calls
from bench.clients_imports import ImportCase, ImportCost, import_profile, measure_import
from bench.clients_report import ClientsBenchResult, to_document, write_files
from bench.measure import Latency
from bench.report import environment

TINY = {"1x4": (1, 4)}


def test_import_is_measured_in_a_fresh_process() -> None:
    cost = measure_import(ImportCase("json", "import json"), runs=2, warmup_runs=0)

    assert cost.runs == 2 and cost.statement == "import json"
    assert 0 < cost.min_import_seconds <= cost.import_seconds
    assert 5 < cost.rss_mb <= cost.peak_rss_mb < 500  # an interpreter is megabytes, not bytes


def test_a_failing_import_is_an_error_not_a_number() -> None:
    with pytest.raises(RuntimeError, match="no_such_module_anywhere"):
        measure_import(ImportCase("bad", "import no_such_module_anywhere"), runs=1, warmup_runs=0)


def test_import_profile_charges_time_to_the_package_imported() -> None:
    rows = import_profile("import email.mime.text", min_ms=0.0)

    assert "email" in {row["package"] for row in rows}
    assert all(row["ms"] >= 0 for row in rows)
    assert rows == sorted(rows, key=lambda row: row["ms"], reverse=True)


def test_codec_timing_covers_every_operation() -> None:
    timings = time_codecs(
        clients_codec(), clients_codec(), repeat=1, min_seconds=0.001, shapes=TINY
    )

    assert [t.operation for t in timings] == list(OPERATIONS)
    assert all(t.tensor == "1x4" and t.ours_us > 0 and t.reference_us > 0 for t in timings)


def test_a_codec_that_loses_values_is_refused() -> None:
    ours = clients_codec()
    lossy = Codec(
        "lossy", ours.encode, lambda proto: np.zeros((1, 4), np.float32), ours.tensor_class
    )

    with pytest.raises(RuntimeError, match="lossy"):
        time_codecs(ours, lossy, repeat=1, min_seconds=0.001, shapes=TINY)


def _latency(p50_ms: float) -> Latency:
    return Latency(count=10, p50_ms=p50_ms, p99_ms=2 * p50_ms, mean_ms=p50_ms, min_ms=p50_ms / 2)


def _cost(statement: str, seconds: float, mb: float) -> ImportCost:
    return ImportCost(statement, "", 1, seconds, seconds, mb, mb, seconds + 0.05)


def test_report_has_every_section_and_judges_each_target(tmp_path: Path) -> None:
    codec = time_codecs(clients_codec(), clients_codec(), repeat=1, min_seconds=0.001, shapes=TINY)
    profile = profile_calls(lambda: sum(range(100)), calls=20)
    assert profile and all(row["own_us"] >= 0 for row in profile)
    result = ClientsBenchResult(
        imports={
            "interpreter": _cost("pass", 0.001, 10.0),
            "clients": _cost("import clients", 0.1, 20.0),
            "grpc_client": _cost("from clients import GrpcClient", 0.5, 50.0),
            "rest_client": _cost("from clients import RestClient", 0.2, 120.0),
        },
        import_profiles={"grpc_client": [{"package": "numpy", "ms": 120.0}]},
        codec=codec,
        grpc=GrpcPaths(
            latency={
                "client": _latency(1.2),
                "bare_stub": _latency(1.0),
                "bare_stub_client_options": _latency(1.0),
            },
            request_bytes=40,
            response_bytes=30,
            client_work_us={"build_request": 8.0, "decode_outputs": 10.0},
            client_profile=profile,
        ),
        settings={"model": "half_plus_two", "import_runs": 1, "requests": 10},
    )

    json_path, md_path = write_files(to_document(result, environment("smoke")), tmp_path)

    document = json.loads(json_path.read_text())
    assert document["benchmark"] == "clients"
    assert set(document["imports"]) == {"interpreter", "clients", "grpc_client", "rest_client"}
    assert {"import_seconds", "peak_rss_mb", "rss_mb"} <= set(document["imports"]["clients"])
    assert len(document["codec"]) == len(OPERATIONS)
    assert set(document["grpc"]["latency_ms"]) == {
        "client",
        "bare_stub",
        "bare_stub_client_options",
    }
    assert document["grpc"]["vs_bare_stub"]["client"]["p50"] == pytest.approx(1.2)
    verdicts = {t["name"]: t["met"] for t in document["targets"]}
    assert verdicts["`import clients` in at most 0.3 s"] is True
    assert verdicts["`from clients import GrpcClient` in at most 0.3 s"] is False
    assert verdicts["`from clients import RestClient`: peak RSS at most 100 MB"] is False
    assert verdicts["gRPC predict p50 through GrpcClient within 1.1x of a bare stub"] is False
    assert len(verdicts) == 6 + len(OPERATIONS) + 1
    table = md_path.read_text()
    assert "| `from clients import GrpcClient`" in table and "target missed" in table


def test_both_subcommands_parse() -> None:
    parser = _build_parser()

    clients = parser.parse_args(["clients", "--quick", "--out", "x"])
    server = parser.parse_args(["server", "--quick"])

    assert clients.command == "clients" and clients.quick and clients.out == Path("x")
    assert server.command == "server" and server.quick
