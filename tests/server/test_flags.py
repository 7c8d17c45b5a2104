"""Command-line flags: TF Serving's defaults and syntax, our strictness, cross-flag checks, usage."""

from __future__ import annotations

import dataclasses
import os

import pytest

from server.flags import (
    IGNORED_FLAGS,
    UNSUPPORTED_FLAGS,
    FlagError,
    ServerOptions,
    parse_flags,
    usage,
    validate,
    warnings,
)

MIB = 1 << 20
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
# The least a command line needs to pass validate().
STARTABLE = ["--model_base_path=/models/m"]
PORT_CLASH = (
    "server_options.http_port cannot be same as grpc_port. Please use a different port for "
    "HTTP/REST API. Skipped exporting HTTP/REST API."
)


def flag_fields() -> list[dataclasses.Field]:
    """The ServerOptions fields that are command-line flags."""
    return [f for f in dataclasses.fields(ServerOptions) if "help" in f.metadata]


# tensorflow_model_server's defaults (contract section 3.2, main.cc and server.h), then ours.
DEFAULTS: dict[str, object] = {
    "port": 8500,
    "grpc_socket_path": "",
    "rest_api_port": 0,
    "rest_api_num_threads": 4 * CPUS,
    "rest_api_timeout_in_ms": 30000,
    "rest_api_idle_timeout_seconds": 60,
    "rest_api_max_connections": 0,
    "rest_api_enable_cors_support": False,
    "model_name": "default",
    "model_base_path": "",
    "model_config_file": "",
    "model_config_file_poll_wait_seconds": 0,
    "file_system_poll_wait_seconds": 1,
    "enable_batching": False,
    "batching_parameters_file": "",
    "monitoring_config_file": "",
    "enable_model_warmup": True,
    "num_request_iterations_for_warmup": 0,
    "allow_version_labels_for_unavailable_models": False,
    "grpc_max_threads": 4 * CPUS,
    "grpc_channel_arguments": "",
    "ssl_config_file": "",
    "max_num_load_retries": 5,
    "load_retry_interval_micros": 60_000_000,
    "num_load_threads": 0,
    "num_unload_threads": 0,
    "saved_model_tags": "serve",
    "tensorflow_session_parallelism": 0,
    "tensorflow_intra_op_parallelism": 0,
    "tensorflow_inter_op_parallelism": 0,
    "enable_signature_method_name_check": False,
    "enable_serialization_as_tensor_content": False,
    "enable_grpc_healthcheck_service": False,
    "host": "127.0.0.1",
    "max_request_bytes": 64 * MIB,
    "rest_api_gzip_limit_bytes": 100 * MIB,
    "max_tensor_bytes": 0,
    "enable_request_logging_extension": False,
    "request_log_dir": "",
    "ignored_flags": (),
    "show_version": False,
    "show_help": False,
}


@pytest.mark.parametrize(
    ("name", "expected"), [pytest.param(n, v, id=n) for n, v in DEFAULTS.items()]
)
def test_default_matches_tensorflow_model_server(name: str, expected: object) -> None:
    value = getattr(parse_flags([]), name)
    assert (value, type(value)) == (expected, type(expected))


def test_every_field_has_a_default_above() -> None:
    assert set(DEFAULTS) == {f.name for f in dataclasses.fields(ServerOptions)}


@pytest.mark.parametrize(
    ("argv", "name", "expected"),
    [
        pytest.param(["--port=9000"], "port", 9000, id="equals"),
        pytest.param(["--port", "9000"], "port", 9000, id="space"),
        pytest.param(["--model_base_path", "/m"], "model_base_path", "/m", id="space-string"),
        pytest.param(
            ["--file_system_poll_wait_seconds", "-1"],
            "file_system_poll_wait_seconds",
            -1,
            id="space-negative",
        ),
        pytest.param(["--model_name="], "model_name", "", id="equals-empty"),
        pytest.param(
            ["--grpc_channel_arguments=a=1,b=x"],
            "grpc_channel_arguments",
            "a=1,b=x",
            id="value-with-equals",
        ),
        pytest.param(["--port=1", "--port=2"], "port", 2, id="last-wins"),
        pytest.param(
            ["--load_retry_interval_micros=10000000000"],
            "load_retry_interval_micros",
            10**10,
            id="int64",
        ),
        pytest.param(["--host", "0.0.0.0"], "host", "0.0.0.0", id="ext-host"),
    ],
)
def test_flag_values_are_parsed(argv: list[str], name: str, expected: object) -> None:
    assert getattr(parse_flags(argv), name) == expected


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        pytest.param("--enable_batching", True, id="bare"),
        pytest.param("--enable_batching=true", True, id="true"),
        pytest.param("--enable_batching=1", True, id="one"),
        pytest.param("--enable_batching=True", True, id="capitalised"),
        pytest.param("--enable_batching=false", False, id="false"),
        pytest.param("--enable_batching=0", False, id="zero"),
    ],
)
def test_boolean_flag_syntax(arg: str, expected: bool) -> None:
    assert parse_flags([arg]).enable_batching is expected


def test_boolean_can_turn_off_a_true_default() -> None:
    assert parse_flags(["--enable_model_warmup=false"]).enable_model_warmup is False


def test_bare_boolean_does_not_swallow_the_next_flag() -> None:
    options = parse_flags(["--enable_batching", "--port=1"])
    assert (options.enable_batching, options.port) == (True, 1)


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        pytest.param(["--version"], "show_version", id="version"),
        pytest.param(["--help"], "show_help", id="help"),
        pytest.param(["-h"], "show_help", id="h"),
    ],
)
def test_version_and_help(argv: list[str], wanted: str) -> None:
    assert getattr(parse_flags(argv), wanted) is True


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        pytest.param(
            ["--rest_port=8501"], ["unknown flag --rest_port", "--rest_api_port"], id="typo"
        ),
        pytest.param(
            ["--model_base_pat", "/m"], ["did you mean --model_base_path"], id="typo-space"
        ),
        pytest.param(["--enable_warmup"], ["--enable_model_warmup"], id="typo-bool"),
        pytest.param(["--xyzzy=1"], ["unknown flag --xyzzy", "--help lists"], id="no-match"),
        pytest.param(
            ["--ignored_flags=a"], ["unknown flag --ignored_flags"], id="not-a-flag-field"
        ),
    ],
)
def test_unknown_flag_is_an_error_with_suggestions(argv: list[str], fragments: list[str]) -> None:
    with pytest.raises(FlagError) as caught:
        parse_flags(argv)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_FLAGS))
@pytest.mark.parametrize(
    "form", [pytest.param("--{}", id="bare"), pytest.param("--{}=1", id="value")]
)
def test_unsupported_tensorflow_model_server_flag(name: str, form: str) -> None:
    with pytest.raises(FlagError) as caught:
        parse_flags(STARTABLE + [form.format(name)])
    assert str(caught.value) == (
        f"--{name} is a tensorflow_model_server flag that this server does not support"
    )


def test_contract_flags_are_either_ignored_or_unsupported() -> None:
    from_brief = {
        "platform_config_file",
        "per_process_gpu_memory_fraction",
        "mixed_precision",
        "enable_per_model_batching_parameters",
        "use_alts_credentials",
        "flush_filesystem_caches",
        "enable_profiler",
    }
    assert from_brief <= UNSUPPORTED_FLAGS | set(IGNORED_FLAGS)
    assert not UNSUPPORTED_FLAGS & set(IGNORED_FLAGS)
    # The Session thread flags were ignored once; they now set the Sessions' thread pools.
    threads = {f"tensorflow_{kind}_parallelism" for kind in ("session", "intra_op", "inter_op")}
    assert not threads & (UNSUPPORTED_FLAGS | set(IGNORED_FLAGS))
    assert threads <= {field.name for field in dataclasses.fields(ServerOptions)}


def test_ignored_flags_are_recorded_once_in_order_and_warned_about() -> None:
    argv = [
        "--remove_unused_fields_from_bundle_metagraph=false",
        "--enable_profiler=false",
        "--remove_unused_fields_from_bundle_metagraph=true",
    ]
    options = parse_flags(STARTABLE + argv + ["--port=9000"])
    assert options.ignored_flags == (
        "remove_unused_fields_from_bundle_metagraph",
        "enable_profiler",
    )
    assert options.port == 9000
    validate(options)
    messages = warnings(options)
    assert any(
        "--remove_unused_fields_from_bundle_metagraph" in m and "ignores" in m for m in messages
    )
    assert any("--enable_profiler" in m for m in messages)


def test_bare_ignored_boolean_flag_is_accepted() -> None:
    assert parse_flags(["--flush_filesystem_caches"]).ignored_flags == ("flush_filesystem_caches",)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        pytest.param(["--port=abc"], ["--port", "'abc'", "not an integer"], id="int-word"),
        pytest.param(["--port=8.5"], ["--port", "'8.5'"], id="int-float"),
        pytest.param(["--port="], ["--port", "''"], id="int-empty"),
        pytest.param(["--port=2147483648"], ["--port", "out of range"], id="int32-overflow"),
        pytest.param(
            ["--enable_batching=yes"], ["--enable_batching", "'yes'", "boolean"], id="bool"
        ),
        pytest.param(
            ["--tensorflow_session_parallelism=many"],
            ["--tensorflow_session_parallelism", "'many'"],
            id="int64-word",
        ),
        pytest.param(["--port"], ["--port needs a value"], id="missing-at-end"),
        pytest.param(
            ["--model_base_path", "--port=1"],
            ["--model_base_path needs a value"],
            id="missing-before-flag",
        ),
        pytest.param(
            ["--enable_batching", "false"],
            ["'false'", "--enable_batching=false"],
            id="bool-space-value",
        ),
        pytest.param(["-port=8500"], ["two dashes", "--port=8500"], id="single-dash"),
        pytest.param(["/models/m"], ["unexpected argument '/models/m'"], id="positional"),
    ],
)
def test_bad_arguments_name_the_flag_and_value(argv: list[str], fragments: list[str]) -> None:
    with pytest.raises(FlagError) as caught:
        parse_flags(argv)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            [],
            "Both server_options.model_base_path and server_options.model_config_file are empty!",
            id="no-model",
        ),
        pytest.param(
            STARTABLE + ["--batching_parameters_file=/b.txt"],
            "server_options.batching_parameters_file is set without setting server_options.enable_batching to true.",
            id="batching-file-without-batching",
        ),
        pytest.param(
            STARTABLE + ["--port=0"],
            "At least one of server_options.grpc_port or server_options.grpc_socket_path must be set.",
            id="no-grpc",
        ),
        pytest.param(
            STARTABLE + ["--port=65536"],
            "--port must be a port number from 0 to 65535, got 65536",
            id="port-high",
        ),
        pytest.param(
            STARTABLE + ["--rest_api_port=-1"],
            "--rest_api_port must be a port number from 0 to 65535, got -1",
            id="rest-port-negative",
        ),
        pytest.param(
            STARTABLE + ["--grpc_max_threads=0"],
            "--grpc_max_threads must be at least 1, got 0",
            id="no-grpc-threads",
        ),
        pytest.param(
            STARTABLE + ["--num_load_threads=-1"],
            "--num_load_threads must be 0 or more, got -1",
            id="negative-load-threads",
        ),
        pytest.param(
            STARTABLE + ["--max_request_bytes=0"],
            "--max_request_bytes must be at least 1, got 0",
            id="no-request-bytes",
        ),
        pytest.param(
            STARTABLE + ["--host="],
            "--host must not be empty; use 0.0.0.0 to listen on all interfaces",
            id="empty-host",
        ),
    ],
)
def test_validate_rejects(argv: list[str], message: str) -> None:
    with pytest.raises(FlagError) as caught:
        validate(parse_flags(argv))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(STARTABLE, id="base-path"),
        pytest.param(["--model_config_file=/c/models.config"], id="config-file"),
        pytest.param(
            ["--enable_batching", "--batching_parameters_file=/b.txt", *STARTABLE], id="batching"
        ),
        pytest.param(["--port=0", "--grpc_socket_path=/tmp/s.sock", *STARTABLE], id="socket-only"),
        pytest.param(["--port=65535", "--rest_api_port=8501", *STARTABLE], id="max-port"),
        pytest.param(["--rest_api_port=8500", *STARTABLE], id="port-clash-only-warns"),
    ],
)
def test_validate_accepts(argv: list[str]) -> None:
    validate(parse_flags(argv))


@pytest.mark.parametrize(
    ("argv", "enabled"),
    [
        pytest.param([], False, id="default-off"),
        pytest.param(["--rest_api_port=8501"], True, id="docker-ports"),
        pytest.param(["--rest_api_port=8500"], False, id="same-as-grpc"),
        pytest.param(["--port=0", "--rest_api_port=8501"], True, id="grpc-tcp-off"),
        pytest.param(["--port=9000", "--rest_api_port=9000"], False, id="same-custom"),
    ],
)
def test_rest_enabled(argv: list[str], enabled: bool) -> None:
    assert parse_flags(argv).rest_enabled is enabled


def test_port_clash_warns_with_tensorflow_model_server_message() -> None:
    assert PORT_CLASH in warnings(parse_flags(STARTABLE + ["--rest_api_port=8500"]))


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(
            ["--model_config_file=/c", "--model_base_path=/m"],
            "--model_base_path are ignored",
            id="base-path-with-config",
        ),
        pytest.param(
            ["--model_config_file=/c", "--model_name=x"], "--model_name and", id="name-with-config"
        ),
        pytest.param(
            [*STARTABLE, "--monitoring_config_file=/mon"],
            "--monitoring_config_file is ignored",
            id="monitoring-without-rest",
        ),
    ],
)
def test_flags_without_effect_are_warned_about(argv: list[str], fragment: str) -> None:
    assert any(fragment in message for message in warnings(parse_flags(argv)))


def test_plain_startup_has_no_warnings() -> None:
    argv = [*STARTABLE, "--rest_api_port=8501", "--monitoring_config_file=/mon"]
    assert warnings(parse_flags(argv)) == []


def test_options_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_flags([]).port = 1  # type: ignore[misc]


@pytest.mark.parametrize("field", flag_fields(), ids=lambda f: f.name)
def test_usage_lists_every_flag_with_default_and_description(field: dataclasses.Field) -> None:
    text = usage()
    default = field.default
    shown = str(default).lower() if isinstance(default, bool) else str(default) or '""'
    assert f"--{field.name}={shown}" in text
    assert field.metadata["help"] in text


def test_usage_separates_extensions_and_lists_ignored_and_rejected_flags() -> None:
    text = usage()
    standard, _, rest = text.partition("Extensions of this server")
    assert "--port=8500" in standard and "--host=" not in standard
    assert "--host=127.0.0.1" in rest and "--max_request_bytes" in rest
    assert "--version" in text and "-h" in text
    assert all(f"--{name}" in rest for name in [*IGNORED_FLAGS, *UNSUPPORTED_FLAGS])
