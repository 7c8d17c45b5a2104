"""Request logs that cannot be written: a prediction never fails or blocks, and drops are counted."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clients import GrpcClient
from clients.request_log import LOG_SUFFIX, RequestLog, log_files, read_request_logs
from tests.clients.conftest import LOGGED_MODEL as MODEL
from tests.clients.conftest import TRANSPORTS, make_client
from tests.conftest import ROOT
from tests.serverproc import RunningServer


def test_an_unwritable_destination_never_fails_a_call_and_recovers(
    log_server: RunningServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder's parent should be")
    folder = blocker / "logs"
    with (
        RequestLog(folder, sampling_rate=1.0, warn_seconds=3600) as request_log,
        GrpcClient(log_server.grpc, request_log=request_log) as client,
    ):
        answers = [client.predict(MODEL, {"x": [1.0]})["y"].tolist() for _ in range(20)]
        assert request_log.flush()
        stats = request_log.stats()
        assert answers == [[3.5]] * 20
        assert (stats.sampled, stats.written, stats.dropped_io_error) == (20, 0, 20)
        blocker.unlink()  # the destination becomes writable: later records get written
        client.predict(MODEL, {"x": [1.0]}, request_id="after")
    assert [c.request_id for c in read_request_logs(folder)] == ["after"]
    assert request_log.stats().written == 1


FULL_DISK_SCRIPT = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
from clients import GrpcClient
from clients.request_log import RequestLog, read_request_logs

target, folder = sys.argv[1], sys.argv[2]
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
answers = []
with RequestLog(folder, sampling_rate=1.0) as request_log:
    with GrpcClient(target, request_log=request_log) as client:
        for value in range(100):
            answers.append(float(client.predict("half_plus_two", {"x": [float(value)]})["y"][0]))
stats = request_log.stats()
logged = [call.outputs["y"].tolist() for call in read_request_logs(folder)]
print(json.dumps({"answers": answers, "written": stats.written, "sampled": stats.sampled,
                  "io_errors": stats.dropped_io_error, "logged": logged}))
"""


def test_a_full_disk_never_fails_a_call_and_leaves_whole_records(
    log_server: RunningServer, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, log_server.grpc, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["answers"] == [0.5 * v + 3 for v in range(100)]
    assert 0 < result["written"] < 100
    assert result["written"] + result["io_errors"] == result["sampled"] == 100
    # The records that fit are whole and in order: the file ends at the last good record.
    assert result["logged"] == [[0.5 * v + 3] for v in range(result["written"])]


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    writing, release = threading.Event(), threading.Event()

    def blocked() -> tuple:
        writing.set()
        release.wait(30)
        raise ValueError("never encoded")

    facts = {"request_id": "r", "timestamp": time.time(), "latency": 0.001, "transport": "grpc"}
    with RequestLog(tmp_path, sampling_rate=1.0, queue_size=2) as request_log:
        queued = [request_log.submit_later("predict", blocked, **facts)]
        assert writing.wait(30)  # the writer holds the first record
        queued += [request_log.submit_later("predict", blocked, **facts) for _ in range(5)]
        release.set()
    stats = request_log.stats()
    # The queue takes two more records: the other three are dropped.
    assert queued == [True, True, True, False, False, False]
    assert stats.dropped_queue_full == 3
    assert stats.dropped_unencodable == 3 and stats.sampled == 6
    assert log_files(tmp_path) == []


def test_a_quiet_log_finishes_its_file_after_rotate_seconds(
    log_server: RunningServer, tmp_path: Path
) -> None:
    with RequestLog(tmp_path, sampling_rate=1.0, rotate_seconds=0.2) as request_log:
        with GrpcClient(log_server.grpc, request_log=request_log) as client:
            client.predict(MODEL, {"x": [1.0]}, request_id="quiet")
        deadline = time.monotonic() + 30
        while not log_files(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c.request_id for c in read_request_logs(tmp_path)] == ["quiet"]
        assert request_log.stats().files_finished == 1
    assert all(path.name.endswith(LOG_SUFFIX) for path in tmp_path.iterdir())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"sampling_rate": 1.5}, "from 0 to 1", id="rate-above-1"),
        pytest.param({"sampling_rate": -0.1}, "from 0 to 1", id="negative-rate"),
        pytest.param({"sampling_rate": "all"}, "a number", id="rate-not-a-number"),
        pytest.param({"sampling_rate": 1, "max_file_bytes": 0}, "max_file_bytes", id="no-size"),
        pytest.param({"sampling_rate": 1, "queue_size": -1}, "queue_size", id="no-queue"),
        pytest.param({"sampling_rate": 1, "prefix": "a/b"}, "prefix", id="prefix-with-slash"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RequestLog(tmp_path, **options)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_empty_request_id_is_refused(
    log_server: RunningServer, tmp_path: Path, transport: str
) -> None:
    with (
        RequestLog(tmp_path, sampling_rate=1.0) as request_log,
        make_client(transport, log_server, request_log=request_log) as client,
        pytest.raises(ValueError, match="request_id"),
    ):
        client.predict(MODEL, {"x": [1.0]}, request_id="")
    assert request_log.stats().sampled == 0
