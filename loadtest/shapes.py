"""A load shape declared as data: a list of stages, each holding a number of users for a while.

A stages file is JSON, TOML or YAML:

    [[stages]]               # TOML; JSON: {"stages": [{"duration": "30s", "users": 10}, ...]}
    duration = "30s"         # how long this stage lasts (seconds, or 30s, 1m, 1h30m)
    users = 10               # users to hold during it
    spawn_rate = 5           # users started (or stopped) per second to get there; default: users
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest.config_files import read_config
from loadtest.settings import parse_duration

__all__ = [
    "Stage",
    "load_stages",
    "stage_at",
    "stages_from_data",
    "stages_shape",
    "total_duration",
]


@dataclass(frozen=True)
class Stage:
    """Hold `users` users for `duration` seconds, changing the count by `spawn_rate` per second."""

    duration: float
    users: int
    spawn_rate: float

    def __post_init__(self) -> None:
        if self.duration <= 0 or self.users < 0 or self.spawn_rate <= 0:
            raise ValueError(f"a stage needs a positive duration and spawn rate: {self}")


def stages_from_data(data: Any) -> list[Stage]:
    """Stages from a parsed file: a list of stage tables, or {"stages": [...]}.

    Raises:
        ValueError: no stages, or a stage without duration and users, or with bad values.
    """
    items = data.get("stages") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ValueError('a stages file holds a non-empty list of stages (or {"stages": [...]})')
    stages = []
    for index, item in enumerate(items):
        try:
            users = int(item["users"])
            spawn_rate = float(item.get("spawn_rate", max(users, 1)))
            stages.append(Stage(parse_duration(item["duration"]), users, spawn_rate))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"stage {index + 1} ({item!r}): {err}") from err
    return stages


def load_stages(path: Path) -> list[Stage]:
    """Read a stages file (.json, .toml, .yaml or .yml).

    Raises:
        OSError: the file cannot be read.
        ValueError: the file does not parse or does not describe stages.
    """
    data = read_config(path)
    try:
        return stages_from_data(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def total_duration(stages: Sequence[Stage]) -> float:
    return sum(stage.duration for stage in stages)


def stage_at(stages: Sequence[Stage], run_time: float) -> Stage | None:
    """The stage in force run_time seconds into the test, or None once they are all over."""
    end = 0.0
    for stage in stages:
        end += stage.duration
        if run_time < end:
            return stage
    return None


def stages_shape(stages: Sequence[Stage]) -> type:
    """A Locust LoadTestShape class that runs the stages, for a locustfile to expose.

    Locust uses any shape class it finds in a locustfile, so one is made only when asked for.
    """
    from locust import LoadTestShape

    class StagesShape(LoadTestShape):
        """Users per stage, from the stages file."""

        def tick(self) -> tuple[int, float] | None:
            run_time: Callable[[], float] = self.get_run_time  # seconds; unannotated in Locust
            stage = stage_at(stages, run_time())
            return None if stage is None else (stage.users, stage.spawn_rate)

    return StagesShape
