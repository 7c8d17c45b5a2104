"""The request log's files: size- and age-rotated TFRecord files, finished by a rename."""

from __future__ import annotations

import itertools
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from requestlog.records import LOG_SUFFIX
from wire.tfrecord import frame_record

__all__ = ["PARTIAL_SUFFIX", "RotatingFile"]

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
# Shared by every RotatingFile of the process, so two logs with one folder and prefix never
# pick the same name.
_SEQUENCE = itertools.count()


class RotatingFile:
    """Appends framed records to `<folder>/<prefix>-<UTC time>-<pid>-<seq>.tfrecord.partial`.

    A file is renamed to `.tfrecord` (finished, readable) once it reaches max_bytes, once it is
    rotate_seconds old, or on finish(). Each record is one unbuffered write, so a reader of a
    partial file sees whole records, and a failed write is undone (truncated away) rather than
    left as a corrupt tail. Not thread-safe: one writer thread owns it.
    """

    def __init__(self, folder: Path, prefix: str, max_bytes: int, rotate_seconds: float) -> None:
        self.folder = Path(folder)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.rotate_seconds = rotate_seconds
        self.finished = 0
        self._file: Path | None = None
        self._handle: BinaryIO | None = None
        self._size = 0
        self._opened = 0.0

    @property
    def opened_at(self) -> float | None:
        """time.monotonic() when the current file was opened, or None with no file open."""
        return self._opened if self._handle is not None else None

    def _new_path(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{self.prefix}-{stamp}-{os.getpid()}-{next(_SEQUENCE)}{LOG_SUFFIX}{PARTIAL_SUFFIX}"
        return self.folder / name

    def _open(self) -> None:
        """Open a new partial file, creating the folder when needed.

        Raises:
            OSError: the folder or file cannot be created.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._new_path()
        self._handle = open(path, "xb", buffering=0)  # noqa: SIM115 - kept open across records
        self._file, self._size, self._opened = path, 0, time.monotonic()

    def append(self, record: bytes) -> None:
        """Write one record (a serialized message), opening or rotating files as needed.

        Raises:
            OSError: the record could not be written whole (ENOSPC, EFBIG, EROFS, ...); the
                file is left as it was before, or closed when it cannot be repaired.
        """
        if self._handle is not None and self.is_old():
            self.finish()
        if self._handle is None:
            self._open()
        assert self._handle is not None, "_open() sets it"
        framed = frame_record(record)
        try:
            written = self._handle.write(framed)
            if written != len(framed):
                raise OSError(f"short write to {self._file}: {written} of {len(framed)} bytes")
        except OSError:
            self._undo_partial_write()
            raise
        self._size += len(framed)
        if self._size >= self.max_bytes:
            self.finish()

    def _undo_partial_write(self) -> None:
        assert self._handle is not None, "called by append() on its open file"
        try:
            os.ftruncate(self._handle.fileno(), self._size)
            self._handle.seek(self._size)
        except OSError as err:
            # The file may end in a torn record: leave it unfinished (.partial is never read).
            log.warning("request log %s left unfinished: %s", self._file, err)
            self._close_handle()

    def is_old(self) -> bool:
        """Whether the open file has reached rotate_seconds of age."""
        opened = self.opened_at
        return opened is not None and time.monotonic() - opened >= self.rotate_seconds

    def finish(self) -> None:
        """Close the open file and rename it to its finished name (an empty file is removed).

        A failure is logged, not raised: the file then stays partial.
        """
        if self._handle is None:
            return
        path, size = self._file, self._size
        assert path is not None, "set with the handle by _open()"
        self._close_handle()
        try:
            if size == 0:
                os.unlink(path)
                return
            os.rename(path, str(path)[: -len(PARTIAL_SUFFIX)])
            self.finished += 1
        except OSError as err:
            log.warning("request log %s left unfinished: %s", path, err)

    def _close_handle(self) -> None:
        handle, self._handle = self._handle, None
        assert handle is not None, "only called with a file open"
        try:
            handle.close()
        except OSError as err:
            log.warning("request log %s: closing failed: %s", self._file, err)
