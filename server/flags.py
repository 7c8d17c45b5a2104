"""Command-line flags of `python -m server`: tensorflow_model_server's names, defaults and checks.

Syntax follows tensorflow_model_server: ``--name=value`` or ``--name value``; a boolean flag on
its own means true and otherwise takes ``=true``, ``=false``, ``=1`` or ``=0``.

Deliberate differences from tensorflow_model_server:

- An unknown flag raises FlagError naming close matches. tensorflow_model_server prints
  ``unknown argument`` and starts anyway, so a typo such as ``--rest_port=8501`` silently
  leaves REST off; failing fast surfaces the mistake.
- Its flags that this server does not implement raise FlagError too, except the
  performance-tuning flags in IGNORED_FLAGS: ignoring those changes no result, so they are
  accepted and listed in ``ServerOptions.ignored_flags`` for the server to warn about.
- Extensions, listed apart in ``--help``: ``--host`` (loopback by default, where
  tensorflow_model_server listens on all interfaces), ``--max_request_bytes``,
  ``--rest_api_gzip_limit_bytes``, ``--max_tensor_bytes``, ``--rest_api_idle_timeout_seconds``,
  ``--rest_api_max_connections`` (the last three each have a value that turns them off,
  as in tensorflow_model_server), ``--enable_request_logging_extension`` and
  ``--request_log_dir`` (request logs from a model's logging_config, under one folder).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from typing import Any

from server.options import (
    INT32_MAX,
    INT64_MAX,
    FlagError,
    ServerOptions,
)

__all__ = ["FlagError", "ServerOptions", "parse_flags", "usage", "validate", "warnings"]

_FLAG_FIELDS = [f for f in dataclasses.fields(ServerOptions) if "help" in f.metadata]
# Flag name -> (field name, value type); --version and --help are booleans like in TF Serving.
_FLAGS: dict[str, tuple[str, type]] = {f.name: (f.name, type(f.default)) for f in _FLAG_FIELDS}
_FLAGS.update(version=("show_version", bool), help=("show_help", bool))

# Performance tuning only: ignoring them changes no result, just speed or memory.
IGNORED_FLAGS: dict[str, type] = {
    "flush_filesystem_caches": bool,
    "enable_profiler": bool,
    "remove_unused_fields_from_bundle_metagraph": bool,
}
UNSUPPORTED_FLAGS = frozenset(
    {
        "platform_config_file",
        "tensorflow_session_config_file",
        "per_process_gpu_memory_fraction",
        "prefer_tflite_model",
        "num_tflite_pools",
        "num_tflite_interpreters_per_pool",
        "use_alts_credentials",
        "thread_pool_factory_config_file",
        "mixed_precision",
        "enable_per_model_batching_parameters",
        "skip_initialize_tpu",
        "xla_cpu_compilation_enabled",
        "xla_gpu_compilation_enabled",
    }
)
# tensorflow_model_server's int64 flags; every other integer flag is int32 there.
_INT64_FLAGS = frozenset(
    {
        "load_retry_interval_micros",
        "tensorflow_session_parallelism",
        "tensorflow_intra_op_parallelism",
        "tensorflow_inter_op_parallelism",
        "max_request_bytes",
        "rest_api_gzip_limit_bytes",
    }
)
_BOOLS = {"true": True, "1": True, "false": False, "0": False}
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _flag_type(name: str) -> type:
    """The value type of flag `name`.

    Raises:
        FlagError: the flag is unknown, or a TF Serving flag this server does not support.
    """
    if name in _FLAGS:
        return _FLAGS[name][1]
    if name in IGNORED_FLAGS:
        return IGNORED_FLAGS[name]
    if name in UNSUPPORTED_FLAGS:
        raise FlagError(
            f"--{name} is a tensorflow_model_server flag that this server does not support"
        )
    matches = difflib.get_close_matches(name, [*_FLAGS, *IGNORED_FLAGS], n=3)
    hint = (
        f"did you mean {' or '.join('--' + m for m in matches)}?"
        if matches
        else "--help lists the flags"
    )
    raise FlagError(f"unknown flag --{name}; {hint}")


def _convert(name: str, kind: type, text: str) -> Any:
    """`text` as a value of flag `name`.

    Raises:
        FlagError: `text` is not a valid value of type `kind`.
    """
    if kind is bool:
        if text.lower() not in _BOOLS:
            raise FlagError(f"--{name}: {text!r} is not a boolean (use true, false, 1 or 0)")
        return _BOOLS[text.lower()]
    if kind is int:
        if not _INTEGER.fullmatch(text):
            raise FlagError(f"--{name}: {text!r} is not an integer")
        value, limit = int(text), INT64_MAX if name in _INT64_FLAGS else INT32_MAX
        if not -limit - 1 <= value <= limit:
            raise FlagError(f"--{name}: {text} is out of range (at most {limit})")
        return value
    return text


def _stray_argument(arg: str, previous: str) -> FlagError:
    """The error for an argument that is not a flag, with a hint when the slip is likely."""
    message = f"unexpected argument {arg!r}"
    if arg.startswith("-") and not arg.startswith("--"):
        return FlagError(f"{message}; flags start with two dashes, e.g. -{arg}")
    if arg.lower() in _BOOLS and previous.startswith("--") and "=" not in previous:
        return FlagError(f"{message}; boolean flags take their value after '=': {previous}={arg}")
    return FlagError(message)


def parse_flags(argv: list[str]) -> ServerOptions:
    """Parse the arguments after the program name into ServerOptions; repeated flags: last wins.

    Raises:
        FlagError: an unknown or unsupported flag, a stray argument, or a missing or bad value.
    """
    values: dict[str, Any] = {}
    ignored: dict[str, None] = {}  # a dict keeps first-seen order without duplicates
    position = 0
    while position < len(argv):
        arg = argv[position]
        position += 1
        if arg == "-h":
            arg = "--help"
        if not arg.startswith("--") or arg == "--":
            raise _stray_argument(arg, argv[position - 2] if position > 1 else "")
        name, has_value, text = arg[2:].partition("=")
        kind = _flag_type(name)
        if not has_value and kind is bool:
            text = "true"
        elif not has_value:
            if position == len(argv) or argv[position].startswith("--"):
                raise FlagError(f"--{name} needs a value: --{name}=VALUE or --{name} VALUE")
            text = argv[position]
            position += 1
        value = _convert(name, kind, text)
        if name in IGNORED_FLAGS:
            ignored[name] = None
        else:
            values[_FLAGS[name][0]] = value
    return ServerOptions(**values, ignored_flags=tuple(ignored))


def validate(options: ServerOptions) -> None:
    """Check the combination of flags, with tensorflow_model_server's messages where it has them.

    Call it after handling show_help and show_version, which need no model.

    Raises:
        FlagError: the server cannot start with these options.
    """
    for name in ("port", "rest_api_port"):
        value = getattr(options, name)
        if not 0 <= value <= 65535:
            raise FlagError(f"--{name} must be a port number from 0 to 65535, got {value}")
    if options.port == 0 and not options.grpc_socket_path:
        raise FlagError(
            "At least one of server_options.grpc_port or server_options.grpc_socket_path must be set."
        )
    if not options.model_base_path and not options.model_config_file:
        raise FlagError(
            "Both server_options.model_base_path and server_options.model_config_file are empty!"
        )
    if options.enable_request_logging_extension and not os.path.isabs(options.request_log_dir):
        raise FlagError(
            "--enable_request_logging_extension needs --request_log_dir=/absolute/folder: the one"
            " folder request logs may be written under"
        )
    if options.batching_parameters_file and not options.enable_batching:
        raise FlagError(
            "server_options.batching_parameters_file is set without setting "
            "server_options.enable_batching to true."
        )
    options.check_session_threads()
    for name in ("num_load_threads", "num_unload_threads"):
        if getattr(options, name) < 0:
            raise FlagError(f"--{name} must be 0 or more, got {getattr(options, name)}")
    for name in (
        "rest_api_num_threads",
        "grpc_max_threads",
        "max_request_bytes",
        "rest_api_gzip_limit_bytes",
    ):
        if getattr(options, name) < 1:
            raise FlagError(f"--{name} must be at least 1, got {getattr(options, name)}")
    if not options.host:
        raise FlagError("--host must not be empty; use 0.0.0.0 to listen on all interfaces")


def warnings(options: ServerOptions) -> list[str]:
    """Messages the server should log at startup: flags that are accepted but have no effect."""
    messages = [
        f"--{name} is a tensorflow_model_server performance flag that this server ignores"
        for name in options.ignored_flags
    ]
    if options.rest_api_port != 0 and options.rest_api_port == options.port:
        # tensorflow_model_server's own words (server.cc); it also starts without REST.
        messages.append(
            "server_options.http_port cannot be same as grpc_port. Please use a different port "
            "for HTTP/REST API. Skipped exporting HTTP/REST API."
        )
    if options.model_config_file and (options.model_base_path or options.model_name != "default"):
        messages.append(
            "--model_name and --model_base_path are ignored: --model_config_file is set"
        )
    if options.monitoring_config_file and not options.rest_enabled:
        messages.append("--monitoring_config_file is ignored: the REST API is off")
    return messages


def _describe(field: dataclasses.Field[Any]) -> str:
    """Two usage lines for one flag: name, default (and how it is derived), description."""
    default = field.default
    if isinstance(default, bool):
        shown = str(default).lower()
    else:
        shown = str(default) if default != "" else '""'
    note = f"  ({field.metadata['note']})" if field.metadata["note"] else ""
    return f"  --{field.name}={shown}{note}\n      {field.metadata['help']}"


def usage() -> str:
    """The --help text: every flag with its default and a one-line description."""
    standard = [_describe(f) for f in _FLAG_FIELDS if not f.metadata["extension"]]
    extensions = [_describe(f) for f in _FLAG_FIELDS if f.metadata["extension"]]
    return "\n".join(
        [
            "usage: python -m server [--flag=value | --flag value] ...",
            "",
            "A TensorFlow Serving-compatible model server. Flags, defaults and behaviour follow",
            "tensorflow_model_server; unlike it, an unknown flag is an error.",
            "",
            "tensorflow_model_server flags:",
            *standard,
            "  --version\n      Print the version and exit.",
            "  --help, -h\n      Print this text and exit.",
            "",
            "Extensions of this server (not in tensorflow_model_server):",
            *extensions,
            "",
            "Accepted and ignored (performance tuning only; a warning is logged):",
            "  " + ", ".join("--" + name for name in IGNORED_FLAGS),
            "",
            "tensorflow_model_server flags this server rejects:",
            "  " + ", ".join("--" + name for name in sorted(UNSUPPORTED_FLAGS)),
            "",
        ]
    )
