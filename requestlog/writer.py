"""RequestLog: sample calls on the request path, write them as PredictionLogs on a thread."""

from __future__ import annotations

import atexit
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, NamedTuple

from requestlog.files import RotatingFile
from requestlog.records import Kind, prediction_log
from requestlog.recovery import recover_partial_files
from requestlog.stats import RequestLogStats

__all__ = ["CountListener", "RequestLog", "RequestLogStats"]

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 64 << 20
DEFAULT_ROTATE_SECONDS = 300.0
DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_WARN_SECONDS = 60.0
# (request, response) as wire.protos messages; built on the writer thread.
MessagesBuilder = Callable[[], tuple[Any, Any]]
# Told each count as it happens ("sampled", "written", "dropped_io_error", ...), e.g. to export it.
CountListener = Callable[[str], None]


class _Entry(NamedTuple):
    kind: Kind
    build: MessagesBuilder
    request_id: str
    timestamp: float
    latency: float
    transport: str


class _Flush(NamedTuple):
    done: threading.Event


_STOP = object()


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


class RequestLog:
    """A sample of calls, written as TF Serving PredictionLog records to rotated TFRecord files.

    sampling_rate (0 to 1) is the chance that a call is logged. Records go through a bounded
    queue (queue_size) to a daemon thread, so logging never blocks a call: a full queue or a
    write error (disk full, read-only, ...) drops the record and counts it (stats()), with a
    warning at most every warn_seconds. Files are `<folder>/<prefix>-<UTC time>-<pid>-<n>
    .tfrecord`, written as `.tfrecord.partial` and renamed when they reach max_file_bytes or
    rotate_seconds of age, or on flush() and close(); `.partial` files that a killed process
    left with the same folder and prefix are finished first (see recovery.py; `recovered` says
    what was kept). Thread-safe: clients may share one.
    seed makes the sampling repeatable (tests). on_count, if given, is called with the name of
    each count (a RequestLogStats field) as it is taken, on the caller's or the writer's
    thread; it must be quick and must not raise.

    Raises:
        ValueError: a sampling_rate outside [0, 1], or a size, age or interval not positive.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        sampling_rate: float,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        rotate_seconds: float = DEFAULT_ROTATE_SECONDS,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        prefix: str = "requests",
        seed: int | None = None,
        warn_seconds: float = DEFAULT_WARN_SECONDS,
        on_count: CountListener | None = None,
    ) -> None:
        if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, int | float):
            raise ValueError(f"sampling_rate must be a number from 0 to 1, got {sampling_rate!r}")
        if not 0.0 <= sampling_rate <= 1.0:
            raise ValueError(f"sampling_rate must be from 0 to 1, got {sampling_rate}")
        for name, value in (
            ("max_file_bytes", max_file_bytes),
            ("rotate_seconds", rotate_seconds),
            ("queue_size", queue_size),
            ("warn_seconds", warn_seconds),
        ):
            _check_positive(name, value)
        if not prefix or "/" in prefix:
            raise ValueError(f"prefix must be a non-empty file name part, got {prefix!r}")
        self.folder = Path(folder)
        self.sampling_rate = float(sampling_rate)
        self._random = random.Random(seed)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self.recovered = recover_partial_files(self.folder, prefix)
        self._file = RotatingFile(self.folder, prefix, max_file_bytes, rotate_seconds)
        self._counts = {f.name: 0 for f in fields(RequestLogStats) if f.name != "files_finished"}
        self._counts_lock = threading.Lock()
        self._on_count = on_count
        self._warn_seconds = warn_seconds
        self._last_warning = -warn_seconds
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="request-log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # --- the request path ------------------------------------------------------------------

    def should_sample(self) -> bool:
        """Whether to log the next call: one random draw (none at rates 0 and 1)."""
        rate = self.sampling_rate
        if rate >= 1.0 or rate <= 0.0:
            return rate >= 1.0 and not self._closed
        return self._random.random() < rate and not self._closed

    def submit(
        self,
        kind: Kind,
        request: Any,
        response: Any,
        *,
        request_id: str,
        timestamp: float,
        latency: float,
        transport: str,
    ) -> bool:
        """Queue one sampled call's wire.protos request and response; never blocks.

        The messages must not change afterwards. Returns whether the record was queued.
        """
        messages = (request, response)
        return self.submit_later(
            kind,
            lambda: messages,
            request_id=request_id,
            timestamp=timestamp,
            latency=latency,
            transport=transport,
        )

    def submit_later(
        self,
        kind: Kind,
        build: MessagesBuilder,
        *,
        request_id: str,
        timestamp: float,
        latency: float,
        transport: str,
    ) -> bool:
        """Queue one sampled call whose (request, response) messages build() makes, on the
        writer thread, so that converting values costs the call nothing. Never blocks.

        Returns whether the record was queued.
        """
        entry = _Entry(kind, build, request_id, timestamp, latency, transport)
        self._count("sampled")
        if self._closed:
            self._count("dropped_closed")
            return False
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self._count("dropped_queue_full")
            self._warn(
                "request log queue is full (%d records): records are dropped", self._queue.maxsize
            )
            return False
        return True

    # --- the rest --------------------------------------------------------------------------

    def stats(self) -> RequestLogStats:
        """The counts so far."""
        with self._counts_lock:
            counts = dict(self._counts)
        counts["files_finished"] = self._file.finished
        return RequestLogStats(**counts)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Write what is queued and finish the current file; False if timeout passed first."""
        if self._closed:
            return not self._thread.is_alive()
        marker = _Flush(threading.Event())
        started = time.monotonic()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        return marker.done.wait(left)

    def close(self, timeout: float | None = 10.0) -> None:
        """Write what is queued, finish the current file and stop the writer thread.

        Later calls are not logged. Waits at most timeout seconds; calling it again is harmless.
        """
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            log.warning("request log %s: closing timed out with records queued", self.folder)
            return
        self._thread.join(timeout)

    def __enter__(self) -> RequestLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _count(self, name: str) -> None:
        with self._counts_lock:
            self._counts[name] += 1
        if self._on_count is not None:
            self._on_count(name)

    def _warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last_warning >= self._warn_seconds:
            self._last_warning = now
            log.warning(message + " (stats: %s)", *args, self.stats())

    # --- the writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._seconds_to_rotation())
            except queue.Empty:
                self._file.finish()  # old enough: make a quiet log's records readable
                continue
            if item is _STOP:
                self._file.finish()
                return
            if isinstance(item, _Flush):
                self._file.finish()
                item.done.set()
                continue
            self._write(item)

    def _seconds_to_rotation(self) -> float | None:
        opened = self._file.opened_at
        if opened is None:
            return None
        return max(0.0, opened + self._file.rotate_seconds - time.monotonic())

    def _write(self, entry: _Entry) -> None:
        try:
            request, response = entry.build()
            record = prediction_log(
                entry.kind,
                request,
                response,
                request_id=entry.request_id,
                timestamp=entry.timestamp,
                latency=entry.latency,
                transport=entry.transport,
                sampling_rate=self.sampling_rate,
            ).SerializeToString()
        except Exception as err:  # noqa: BLE001 - a bad record must not stop the writer
            self._count("dropped_unencodable")
            self._warn("request log record %s cannot be encoded: %s", entry.request_id, err)
            return
        try:
            self._file.append(record)
        except OSError as err:
            self._count("dropped_io_error")
            self._warn("request log %s: write failed, records are dropped: %s", self.folder, err)
            return
        self._count("written")
