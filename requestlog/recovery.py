"""Finish what a killed process left: its `.partial` request-log files, complete records kept.

A process killed with SIGKILL (or by the OOM killer) never renames its open log file, and
readers skip `.partial` files, so its records would be lost. The next writer on the same folder
and prefix truncates each such file after its last whole record (dropping a torn tail) and
renames it to its finished name; files of processes still running are left alone.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from requestlog.files import PARTIAL_SUFFIX
from requestlog.records import LOG_SUFFIX
from wire.tfrecord import whole_records

__all__ = ["Recovery", "recover_partial_files"]

log = logging.getLogger(__name__)

# <prefix>-<UTC time>-<pid>-<seq>.tfrecord.partial, as RotatingFile names them
_PID = re.compile(r"-\d{8}T\d{6}\d*Z-(\d+)-\d+" + re.escape(LOG_SUFFIX + PARTIAL_SUFFIX) + "$")


@dataclass(frozen=True)
class Recovery:
    """What was finished: files renamed, records kept, torn bytes dropped, empty files removed."""

    files: int = 0
    records: int = 0
    torn_bytes: int = 0
    removed: int = 0


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def recover_partial_files(folder: Path, prefix: str) -> Recovery:
    """Finish the partial files of dead processes in folder; log and return what was done.

    A file that cannot be read or renamed is logged and left as it is.
    """
    files = records = torn = removed = 0
    folder = Path(folder)
    if not folder.is_dir():
        return Recovery()
    for path in sorted(folder.glob(f"{prefix}-*{LOG_SUFFIX}{PARTIAL_SUFFIX}")):
        match = _PID.search(path.name)
        if match is None or _running(int(match.group(1))):
            continue
        try:
            data = path.read_bytes()
            count, length = whole_records(data)
            if count == 0:
                path.unlink()
                removed += 1
                torn += len(data)
                continue
            if length < len(data):
                os.truncate(path, length)
            os.rename(path, str(path)[: -len(PARTIAL_SUFFIX)])
        except OSError as err:
            log.warning(
                "could not finish the request log %s left by an earlier process: %s", path, err
            )
            continue
        files, records, torn = files + 1, records + count, torn + len(data) - length
    if files or removed:
        log.warning(
            "request log: finished %d file(s) an earlier process left in %s: %d complete "
            "records kept, %d torn bytes dropped, %d empty file(s) removed",
            files,
            folder,
            records,
            torn,
            removed,
        )
    return Recovery(files, records, torn, removed)
