"""Request-log files left by a killed process are finished by the next writer on the folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clients.request_log import LOG_SUFFIX, RequestLog, read_request_logs
from tests.conftest import ROOT
from tests.serverproc import RunningServer
from wire.tfrecord import frame_record

KILLED_SCRIPT = """
import os, signal, sys, time
from clients import GrpcClient
from clients.request_log import RequestLog

target, folder, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
request_log = RequestLog(folder, sampling_rate=1.0, rotate_seconds=3600)
with GrpcClient(target, request_log=request_log) as client:
    for value in range(calls):
        client.predict("half_plus_two", {"x": [float(value)]})
while request_log.stats().written < calls:  # on disk, in the open .partial file
    time.sleep(0.01)
os.kill(os.getpid(), signal.SIGKILL)  # no flush, no close, no rename
"""
CALLS = 40


def test_a_killed_writers_records_are_kept_and_its_torn_tail_dropped(
    log_server: RunningServer, tmp_path: Path
) -> None:
    folder = tmp_path / "logs"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SCRIPT, log_server.grpc, str(folder), str(CALLS)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    (partial,) = folder.glob(f"*{LOG_SUFFIX}.partial")
    torn = frame_record(b"a record the kill cut short")[:17]
    with partial.open("ab") as handle:  # as if killed in the middle of a write
        handle.write(torn)
    assert list(read_request_logs(folder)) == []  # readers skip unfinished files

    with RequestLog(folder, sampling_rate=1.0) as request_log:
        recovered = request_log.recovered
    assert (recovered.files, recovered.records, recovered.torn_bytes) == (1, CALLS, len(torn))
    calls = list(read_request_logs(folder))
    assert len(calls) == CALLS
    assert sorted(float(c.inputs["x"][0]) for c in calls) == [float(v) for v in range(CALLS)]
    assert not list(folder.glob("*.partial"))


def test_a_live_writers_file_is_left_alone(tmp_path: Path) -> None:
    own = tmp_path / f"requests-20261203T000000000000Z-{os.getpid()}-0{LOG_SUFFIX}.partial"
    own.write_bytes(frame_record(b"x"))
    dead = tmp_path / f"requests-20261203T000000000000Z-{2**22 + 12345}-0{LOG_SUFFIX}.partial"
    dead.write_bytes(b"\x00" * 5)  # nothing whole in it: removed
    with RequestLog(tmp_path, sampling_rate=1.0) as request_log:
        recovered = request_log.recovered
    assert own.exists()
    assert not dead.exists() and (recovered.removed, recovered.torn_bytes) == (1, 5)
