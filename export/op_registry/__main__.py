"""`python -m export.op_registry dump [--release X.Y.Z]` and `... diff OLD NEW`."""

from __future__ import annotations

import argparse
import logging
import sys

from export.op_registry import added_between, dtypes_allowed_between, dump, load_registry
from serving_config.release import target_release


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m export.op_registry", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dump_cmd = sub.add_parser("dump", help="record a release's op registry")
    dump_cmd.add_argument("--release", help="TensorFlow release (default: the target release)")
    diff_cmd = sub.add_parser("diff", help="ops and attrs a newer release adds")
    diff_cmd.add_argument("old")
    diff_cmd.add_argument("new")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "dump":
        path = dump(args.release or target_release())
        print(f"wrote {path}")
        return 0
    old, new = load_registry(args.old), load_registry(args.new)
    ops, attrs = added_between(old, new)
    print(
        f"TensorFlow {new.release} adds {len(ops)} ops, {len(attrs)} attrs and"
        f" {len(dtypes_allowed_between(old, new))} attrs' dtypes to {old.release}"
    )
    for op in ops:
        print(f"  op {op}")
    for op, attr in attrs:
        print(f"  attr {op}.{attr} ({new.ops[op][attr]['type']})")
    widened = dtypes_allowed_between(old, new)
    for op, attr, dtypes in widened:
        print(f"  dtypes {op}.{attr} now takes {', '.join(dtypes)}")
    removed = sorted(set(old.ops) - set(new.ops))
    if removed:
        print(f"  and removes {len(removed)} ops: {', '.join(removed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
