"""`python -m monitoring {drift,simulate,accuracy,verify}`: one command per model-quality job."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

# subcommand -> module with add_arguments(parser) and run(args) -> exit code. Modules are
# imported only for the command that runs: drift needs pandas and Evidently, verify TensorFlow.
COMMANDS = {
    "drift": (
        "monitoring.drift.cli",
        "compare logged inputs and predictions with the training data",
    ),
    "simulate": ("monitoring.simulate.cli", "write drifted request logs from held-out data"),
    "accuracy": ("monitoring.accuracy.cli", "join delayed labels to logged predictions"),
    "verify": ("monitoring.verify.cli", "check a live server against the exported version"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m monitoring", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints usage, or help, and exits
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    sub = argparse.ArgumentParser(
        prog=f"python -m monitoring {name}", description=COMMANDS[name][1]
    )
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run: Callable[[argparse.Namespace], int] = module.run  # each command module's run(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
