"""`python -m monitoring simulate`: write drifted request logs of a version's held-out data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exported import version_dir
from monitoring.drift.simulated import DEFAULT_STRENGTH, KINDS, SimulationError
from monitoring.reference import ReferenceError, load_reference
from monitoring.simulate import simulate

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="model name (its folder under --models-root)"
    )
    parser.add_argument("--kind", required=True, choices=KINDS, help="which drift to simulate")
    parser.add_argument("--out", type=Path, required=True, help="folder for the log file")
    parser.add_argument("--models-root", type=Path, default=Path("models"), help="default: models")
    parser.add_argument("--version", type=int, help="version to simulate (default: latest)")
    parser.add_argument("--rows", type=int, help="rows to log (default: the test split's size)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--strength",
        type=float,
        help="shift: training stds (images: x64 brightness), scale: factor - 1, missing and"
        " category_swap: share of values or rows (defaults: "
        + ", ".join(f"{k} {v}" for k, v in DEFAULT_STRENGTH.items() if k != "none")
        + ")",
    )


def run(args: argparse.Namespace) -> int:
    try:
        reference = load_reference(version_dir(args.models_root, args.model, args.version))
        path = simulate(reference, args.kind, args.out, args.rows, args.seed, args.strength)
    except (ReferenceError, SimulationError, OSError) as err:
        print(f"simulate: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
