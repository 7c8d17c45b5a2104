"""Run one CLI command against a server and return its result as text."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from typing import Any

from clients import connect
from clients.cli import inputs, output
from clients.cli.args import transport
from clients.client import ServingClient
from clients.signatures import find_signature
from clients.spec import DEFAULT_SIGNATURE

__all__ = ["make_client", "run"]

# The method_name of the signatures each examples command can call.
EXAMPLE_METHODS = {
    "classify": "tensorflow/serving/classify",
    "regress": "tensorflow/serving/regress",
}


def make_client(args: argparse.Namespace, request_log: Any = None) -> ServingClient:
    """A GrpcClient or RestClient for the command line's transport and address.

    Raises:
        ValueError: if the timeout is not positive.
    """
    name, address = transport(args)
    return connect(name, address, timeout=args.timeout, request_log=request_log)


def _logging(args: argparse.Namespace) -> dict[str, Any]:
    """The request id argument of a call, for the commands that take --request-id."""
    return {"request_id": args.request_id} if getattr(args, "request_id", None) else {}


def _predict(client: ServingClient, args: argparse.Namespace) -> str:
    model = {"version": args.version, "label": args.label}
    values = inputs.read_inputs(args.input)
    if isinstance(values, inputs.FileBytes):
        signatures = client.get_model_metadata(args.model, **model)
        signature = find_signature(signatures, args.model, args.signature or DEFAULT_SIGNATURE)
        values = inputs.binary_input(values, signature, args.input_name)
    elif args.input_name is not None:
        if isinstance(values, dict):
            raise ValueError("--input-name names a bare value; a JSON object names its inputs")
        values = {args.input_name: values}
    outputs = client.predict(
        args.model,
        values,
        signature=args.signature,
        output_filter=args.output,
        **model,
        **_logging(args),
    )
    return output.format_outputs(outputs, args.json)


def _examples_signature(client: ServingClient, args: argparse.Namespace) -> str | None:
    """The given signature, else the model's only one for this method if serving_default is not.

    TF Serving itself falls back to serving_default, which for an exported Keras model is
    usually a predict signature, so `classify` without --signature would fail.
    """
    signature: str | None = args.signature
    if signature:
        return signature
    method = EXAMPLE_METHODS[args.command]
    signatures = client.get_model_metadata(args.model, version=args.version, label=args.label)
    default = signatures.get(DEFAULT_SIGNATURE)
    if default is not None and default["method_name"] == method:
        return None
    matching = [name for name, sig in signatures.items() if sig["method_name"] == method]
    return matching[0] if len(matching) == 1 else None


def _examples_call(client: ServingClient, args: argparse.Namespace) -> Any:
    examples = inputs.read_examples(args.examples)
    context = inputs.read_features(args.context) if args.context else None
    call = client.classify if args.command == "classify" else client.regress
    return call(
        args.model,
        examples,
        context=context,
        version=args.version,
        label=args.label,
        signature=_examples_signature(client, args),
        **_logging(args),
    )


def _classify(client: ServingClient, args: argparse.Namespace) -> str:
    return output.format_classifications(_examples_call(client, args), args.json)


def _regress(client: ServingClient, args: argparse.Namespace) -> str:
    return output.format_regressions(_examples_call(client, args), args.json)


def _metadata(client: ServingClient, args: argparse.Namespace) -> str:
    signatures = client.get_model_metadata(args.model, version=args.version, label=args.label)
    return output.format_signatures(args.model, signatures, args.json)


def _status(client: ServingClient, args: argparse.Namespace) -> str:
    statuses = client.get_model_status(args.model, version=args.version)
    return output.format_statuses(args.model, statuses, args.json)


COMMANDS: dict[str, Callable[[ServingClient, argparse.Namespace], str]] = {
    "predict": _predict,
    "classify": _classify,
    "regress": _regress,
    "metadata": _metadata,
    "status": _status,
}


def run(args: argparse.Namespace) -> str:
    """Run args.command on a new client and return what to print.

    Raises:
        ValueError: for inputs or options the client cannot use (a usage error).
        OSError: if an @file cannot be read.
        ServingClientError: if the call failed; its message is the server's.
    """
    with contextlib.ExitStack() as stack:
        request_log = None
        if getattr(args, "request_log", None):
            from clients.request_log import RequestLog

            request_log = stack.enter_context(
                RequestLog(args.request_log, sampling_rate=1.0, prefix="cli")
            )
        client = stack.enter_context(make_client(args, request_log))
        return COMMANDS[args.command](client, args)
