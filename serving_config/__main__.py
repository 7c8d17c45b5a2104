"""Command line: `check` TF Serving config files, `render` models.config for a local models folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from serving_config.check import check_file, describe_config
from serving_config.model_config import (
    DEFAULT_MODELS_ROOT,
    MODELS_CONFIG,
    SHIPPED_FILES,
    ConfigLoadError,
    render_local_text,
)
from serving_config.schema import KINDS


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m serving_config",
        description="Check TF Serving config files, or render models.config for local paths.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="check config files against TF Serving's schemas and startup rules",
        description="Report each problem as FILE:LINE: message; exit 1 if there is any.",
    )
    check.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="config files (default: the shipped models.config, batching and monitoring files)",
    )
    check.add_argument(
        "--kind",
        choices=sorted(KINDS),
        help="config kind for every FILE (default: guessed from each file name)",
    )
    check.add_argument(
        "--models-root",
        type=Path,
        default=DEFAULT_MODELS_ROOT,
        metavar="DIR",
        help="folder that base paths under /models/ refer to (default: %(default)s)",
    )

    render = commands.add_parser(
        "render",
        help="write models.config with /models/ base paths moved to a local folder",
        description="Rewrite every base_path under /models/ to an absolute path under DIR.",
    )
    render.add_argument(
        "--models-root", type=Path, required=True, metavar="DIR", help="local models folder"
    )
    render.add_argument(
        "--config",
        type=Path,
        default=MODELS_CONFIG,
        metavar="FILE",
        help="source models.config (default: %(default)s)",
    )
    render.add_argument(
        "--out", type=Path, metavar="FILE", help="where to write (default: standard output)"
    )
    return parser


def _display(path: Path) -> Path:
    """Show the shipped files relative to the working directory, as users typed them."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _run_check(args: argparse.Namespace) -> int:
    files = args.files or [_display(path) for path in SHIPPED_FILES]
    failed = False
    for path in files:
        problems = check_file(path, kind=args.kind, models_root=args.models_root)
        for problem in problems:
            print(problem)
        if problems:
            failed = True
        else:
            print(f"OK: {path} ({describe_config(path, args.kind)})")
    return 1 if failed else 0


def _run_render(args: argparse.Namespace) -> int:
    try:
        text = render_local_text(args.config, args.models_root)
    except ConfigLoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(text)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    args = _build_parser().parse_args(argv)
    if args.command == "check":
        return _run_check(args)
    return _run_render(args)


if __name__ == "__main__":
    sys.exit(main())
