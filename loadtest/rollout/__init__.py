"""The rollout check: the same load and the same held-out examples against canary and stable.

    python -m loadtest.rollout --model tabular                       # labels canary, stable
    python -m loadtest.rollout --model tabular --canary-version 2 --stable-version 1

Importing the package does not import Locust: the load runs in Locust subprocesses.
"""

from __future__ import annotations

from loadtest.rollout.check import RolloutError, RolloutResult, run_rollout_check
from loadtest.rollout.sides import Side
from loadtest.rollout.tolerances import DEFAULT_TOLERANCES, Tolerances, load_tolerances

__all__ = [
    "DEFAULT_TOLERANCES",
    "RolloutError",
    "RolloutResult",
    "Side",
    "Tolerances",
    "load_tolerances",
    "run_rollout_check",
]
