"""What a RequestLog has done: calls sampled, records written, records dropped and why."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RequestLogStats"]


@dataclass(frozen=True)
class RequestLogStats:
    """Counts since the log was made; sampled == written + dropped once the queue is drained."""

    sampled: int = 0
    written: int = 0
    dropped_queue_full: int = 0
    dropped_io_error: int = 0
    dropped_unencodable: int = 0
    dropped_closed: int = 0
    files_finished: int = 0

    @property
    def dropped(self) -> int:
        """Records lost for any reason."""
        return (
            self.dropped_queue_full
            + self.dropped_io_error
            + self.dropped_unencodable
            + self.dropped_closed
        )
