"""The Session thread flags, derived and applied as tensorflow_model_server does (server.cc)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from server.flags import FlagError, parse_flags, validate
from tests.serverproc import start_server

BASE = ["--model_base_path=/models/m"]
CONFLICT = (
    "Either configure server_options.tensorflow_session_parallelism or "
    "(server_options.tensorflow_intra_op_parallelism, "
    "server_options.tensorflow_inter_op_parallelism) separately. You cannot configure all."
)


@pytest.mark.parametrize(
    ("flags", "threads"),
    [
        pytest.param([], (0, 0), id="defaults-let-tensorflow-choose"),
        pytest.param(["--tensorflow_session_parallelism=3"], (3, 3), id="session-sets-both"),
        pytest.param(["--tensorflow_intra_op_parallelism=2"], (2, 0), id="intra-alone"),
        pytest.param(["--tensorflow_inter_op_parallelism=3"], (0, 3), id="inter-alone"),
        pytest.param(
            ["--tensorflow_session_parallelism=5", "--tensorflow_intra_op_parallelism=2"],
            (2, 0),
            id="the-pair-wins-over-session",
        ),
        # Only a value above 0 selects the pair; -1 alone leaves the session flag in charge.
        pytest.param(["--tensorflow_inter_op_parallelism=-1"], (0, 0), id="negative-alone"),
        # TensorFlow's "inter-op work in the caller's thread".
        pytest.param(
            ["--tensorflow_intra_op_parallelism=1", "--tensorflow_inter_op_parallelism=-1"],
            (1, -1),
            id="inter-negative-runs-inline",
        ),
    ],
)
def test_threads_are_derived_as_tensorflow_model_server_does(
    flags: list[str], threads: tuple[int, int]
) -> None:
    options = parse_flags(BASE + flags)
    validate(options)
    assert options.session_threads() == threads
    assert not options.ignored_flags  # honoured, so no "ignored" warning either


def test_all_three_flags_is_tensorflow_model_servers_start_up_error() -> None:
    options = parse_flags(
        BASE
        + [
            "--tensorflow_session_parallelism=1",
            "--tensorflow_intra_op_parallelism=1",
            "--tensorflow_inter_op_parallelism=1",
        ]
    )
    with pytest.raises(FlagError) as raised:
        validate(options)
    assert str(raised.value) == CONFLICT


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        pytest.param(
            ["--tensorflow_session_parallelism=-1"],
            "--tensorflow_session_parallelism=-1",
            id="session",
        ),
        pytest.param(
            ["--tensorflow_intra_op_parallelism=-2", "--tensorflow_inter_op_parallelism=2"],
            "--tensorflow_intra_op_parallelism=-2",
            id="intra",
        ),
    ],
)
def test_a_negative_intra_op_pool_is_refused_before_tensorflow_aborts(
    flags: list[str], named: str
) -> None:
    with pytest.raises(FlagError) as raised:
        validate(parse_flags(BASE + flags))
    assert str(raised.value).startswith(f"{named} would give the Sessions' intra-op pool")


def test_a_thread_count_beyond_32_bits_is_refused_by_name() -> None:
    options = parse_flags(BASE + ["--tensorflow_inter_op_parallelism=4294967296"])
    with pytest.raises(FlagError, match=r"--tensorflow_inter_op_parallelism must fit in 32 bits"):
        validate(options)


def _thread_names(pid: int) -> list[str]:
    tasks = Path(f"/proc/{pid}/task")
    return [(task / "comm").read_text().strip() for task in tasks.iterdir()]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux's /proc")
def test_the_inter_op_flag_sizes_the_servers_session_pool(
    fixture_models: Path, tmp_path: Path
) -> None:
    # TensorFlow's default pool has one thread per schedulable CPU, and the process may hold
    # one more such pool (the eager runtime's); a flag that were ignored gives at most twice
    # the CPUs.
    inter = 2 * len(os.sched_getaffinity(0)) + 1
    flags = [
        f"--model_config_file={fixture_models / 'models.config'}",
        f"--tensorflow_inter_op_parallelism={inter}",
        "--tensorflow_intra_op_parallelism=1",
    ]
    with start_server(flags, tmp_path) as server:
        answer = requests.post(
            f"{server.rest}/v1/models/half_plus_two:predict",
            json={"instances": [1.0, 2.0]},
            timeout=30,
        )
        assert answer.json() == {"predictions": [2.5, 3.0]}
        assert server.process is not None
        names = _thread_names(server.process.pid)  # type: ignore[attr-defined]
    # TensorFlow names the threads of an inter-op pool "tf_Compute".
    assert names.count("tf_Compute") >= inter, names
