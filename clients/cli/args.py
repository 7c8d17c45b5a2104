"""The command line: `python -m clients {predict,classify,regress,metadata,status} ...`."""

from __future__ import annotations

import argparse
import os

__all__ = ["DEFAULT_GRPC_TARGET", "DEFAULT_REST_URL", "build_parser", "transport"]

DEFAULT_GRPC_TARGET = "127.0.0.1:8500"
DEFAULT_REST_URL = "http://127.0.0.1:8501"

DESCRIPTION = """\
Call a TF Serving model server over gRPC or REST, without TensorFlow.

examples:
  python -m clients predict --model tabular --input @clients/cli/examples/tabular.json
  python -m clients predict --model digits --input @clients/cli/examples/digit.png --transport rest
  python -m clients predict --model half_plus_two --input '[1.0, 2.0]' --json
  python -m clients classify --model tabular --examples @clients/cli/examples/tabular.json
  python -m clients metadata --model digits
  python -m clients status --model tabular

Exit status: 0 on success, 1 when the call failed (the server's message is on stderr),
2 for a usage error (bad options, unreadable or malformed input).
"""

INPUT_HELP = """\
JSON, @file.json, @- (JSON on stdin) or @file (any other file: its bytes as a string
input). JSON is an object {input name: value} or, for a one-input signature, the value;
values are numbers, strings, nested lists and {"b64": "..."} for bytes"""

EXAMPLES_HELP = """\
JSON or @file.json: a list of examples, or one, each {feature: value}; values are numbers,
strings, flat lists of them, and {"b64": "..."} for bytes"""


COMMAND_HELP = {
    "predict": (
        "run a predict signature on inputs",
        "Run a predict signature and show its outputs.\n\n"
        "  python -m clients predict --model tabular --input @clients/cli/examples/tabular.json\n"
        "  python -m clients predict --model digits --input @clients/cli/examples/digit.png\n"
        "  python -m clients predict --model half_plus_two --label stable --input '{\"x\": [1, 2]}'",
    ),
    "classify": (
        "classify tf.Example features: labels and scores",
        "Classify examples and show each one's labels and scores.\n\n"
        "  python -m clients classify --model tabular --examples @clients/cli/examples/tabular.json",
    ),
    "regress": (
        "regress tf.Example features: one value per example",
        "Regress examples and show one value for each.\n\n"
        "  python -m clients regress --model regressor --examples '[{\"age\": 0.04, ...}]'",
    ),
    "metadata": (
        "show a model's signatures (inputs and outputs)",
        "Show the signatures of a model version: method, inputs and outputs.",
    ),
    "status": (
        "show the state of a model's versions",
        "Show the state of each version of a model the server knows, newest first.",
    ),
}


def _connection_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("connection")
    group.add_argument(
        "--transport",
        choices=("grpc", "rest"),
        help="the protocol (default: rest when only --url is given, else grpc)",
    )
    group.add_argument(
        "--target",
        help="gRPC target HOST:PORT or dns:///NAME:PORT "
        f"(default: $TFS_GRPC_TARGET or {DEFAULT_GRPC_TARGET})",
    )
    group.add_argument(
        "--url",
        help=f"REST base URL (default: $TFS_REST_URL or {DEFAULT_REST_URL})",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="deadline of each call, retries included (default: 10)",
    )
    group.add_argument(
        "--json", action="store_true", help="print JSON for machines instead of a table"
    )
    return options


def _add_model(parser: argparse.ArgumentParser, labels: bool = True) -> None:
    parser.add_argument("--model", required=True, help="the model's name")
    if not labels:
        parser.add_argument("--version", type=int, help="one version (default: all)")
        return
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, help="a version number (default: the latest)")
    which.add_argument("--label", help="a version label such as stable or canary")


def _add_examples(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--examples", required=True, metavar="JSON", help=EXAMPLES_HELP)
    parser.add_argument(
        "--context", metavar="JSON", help="features common to every example (JSON object)"
    )
    parser.add_argument(
        "--signature",
        help="the signature (default: serving_default, or the model's only signature "
        "for this method when serving_default is not one)",
    )


def _add_request_log(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("request log")
    group.add_argument(
        "--request-log",
        metavar="DIR",
        help="also write the call, if it succeeds, to a new request log file in DIR (a TFRecord "
        "of PredictionLog, which can serve as a warmup file)",
    )
    group.add_argument(
        "--request-id", metavar="ID", help="the call's request id (sent as X-Request-Id)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand; each takes the connection options after its name."""
    parser = argparse.ArgumentParser(
        prog="python -m clients",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_connection_options()]

    def add_command(name: str) -> argparse.ArgumentParser:
        summary, description = COMMAND_HELP[name]
        return commands.add_parser(
            name,
            parents=common,
            help=summary,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    predict = add_command("predict")
    _add_model(predict)
    predict.add_argument("--signature", help="the signature (default: serving_default)")
    predict.add_argument("--input", required=True, metavar="JSON|@FILE", help=INPUT_HELP)
    predict.add_argument(
        "--input-name",
        metavar="NAME",
        help="the input an @file's bytes go to (default: the signature's only string input)",
    )
    predict.add_argument(
        "--output",
        action="append",
        metavar="NAME",
        help="return only this output (repeat for several)",
    )
    _add_request_log(predict)

    for name in ("classify", "regress"):
        examples = add_command(name)
        _add_model(examples)
        _add_examples(examples)
        _add_request_log(examples)
    _add_model(add_command("metadata"))
    _add_model(add_command("status"), labels=False)
    return parser


def transport(args: argparse.Namespace) -> tuple[str, str]:
    """The transport and its address: ("grpc", target) or ("rest", url)."""
    name = args.transport or ("rest" if args.url and not args.target else "grpc")
    if name == "grpc":
        return name, args.target or os.environ.get("TFS_GRPC_TARGET") or DEFAULT_GRPC_TARGET
    return name, args.url or os.environ.get("TFS_REST_URL") or DEFAULT_REST_URL
