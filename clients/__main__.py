"""`python -m clients`: call a TF Serving model from the command line (see --help)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from clients.cli.args import build_parser
from clients.errors import ServingClientError

EXIT_FAILED = 1  # the server (or the network) failed the call
EXIT_USAGE = 2  # argparse's status for a bad command line; also used for unusable inputs


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; print its result, or an error on stderr, and return the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    from clients.cli.commands import run  # after parsing, so --help needs no numpy or grpc

    try:
        print(run(args))
    except ServingClientError as err:
        print(f"error: {type(err).__name__}: {err.message}", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, OSError) as err:
        print(f"{parser.prog} {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
