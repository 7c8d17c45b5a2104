"""Request batching for the model server: TF Serving's BatchingParameters semantics."""

from __future__ import annotations

from server.batching.batch_queue import QUEUE_FULL
from server.batching.options import BatchingOptions
from server.batching.scheduler import BatchScheduler, RunBatch

__all__ = ["QUEUE_FULL", "BatchScheduler", "BatchingOptions", "RunBatch"]
