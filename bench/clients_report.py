"""Turn client benchmark measurements into clients.json, markdown tables and target verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.clients_codec import CodecTiming
from bench.clients_grpc import GrpcPaths
from bench.clients_imports import ImportCost
from bench.tables import environment_line, verdict

IMPORT_SECONDS_TARGET = 0.3
IMPORT_MB_TARGET = 100.0
CODEC_TARGET = 1.0  # ours / TensorFlow's time, per operation and tensor
GRPC_TARGET = 1.1  # client p50 / bare stub p50
TARGETED_IMPORTS = ("clients", "grpc_client", "rest_client")
TF_FUNCTIONS = {
    "encode": "tf.make_tensor_proto",
    "decode_tensor_content": "tf.make_ndarray",
    "decode_float_val": "tf.make_ndarray",
}

Document = dict[str, Any]


@dataclass
class ClientsBenchResult:
    """Every measurement of `python -m bench clients`."""

    imports: dict[str, ImportCost]
    import_profiles: dict[str, list[dict[str, object]]]
    codec: list[CodecTiming]
    grpc: GrpcPaths
    settings: dict[str, object] = field(default_factory=dict)


def _target(name: str, value: float, limit: float, unit: str, met: bool) -> dict[str, object]:
    return {"name": name, "value": value, "limit": limit, "unit": unit, "met": met}


def _targets(result: ClientsBenchResult, grpc_ratio: float) -> list[dict[str, object]]:
    targets = []
    for key in TARGETED_IMPORTS:
        cost = result.imports[key]
        targets.append(
            _target(
                f"`{cost.statement}` in at most {IMPORT_SECONDS_TARGET} s",
                cost.import_seconds,
                IMPORT_SECONDS_TARGET,
                "s",
                cost.import_seconds <= IMPORT_SECONDS_TARGET,
            )
        )
        targets.append(
            _target(
                f"`{cost.statement}`: peak RSS at most {IMPORT_MB_TARGET:g} MB",
                cost.peak_rss_mb,
                IMPORT_MB_TARGET,
                "MB",
                cost.peak_rss_mb <= IMPORT_MB_TARGET,
            )
        )
    for timing in result.codec:
        operation = timing.operation.replace("_", " ")
        targets.append(
            _target(
                f"{operation}, {timing.tensor} float32: at least as fast as "
                f"{TF_FUNCTIONS[timing.operation]}",
                timing.ratio,
                CODEC_TARGET,
                "x",
                timing.ratio <= CODEC_TARGET,
            )
        )
    targets.append(
        _target(
            f"gRPC predict p50 through GrpcClient within {GRPC_TARGET}x of a bare stub",
            grpc_ratio,
            GRPC_TARGET,
            "x",
            grpc_ratio <= GRPC_TARGET,
        )
    )
    return targets


def to_document(result: ClientsBenchResult, env: dict[str, object]) -> Document:
    """The JSON document: import costs, codec timings, gRPC latency and target verdicts."""
    latency = result.grpc.latency
    bare = latency["bare_stub"]
    ratios = {
        name: {"p50": lat.p50_ms / bare.p50_ms, "p99": lat.p99_ms / bare.p99_ms}
        for name, lat in latency.items()
        if name != "bare_stub"
    }
    return {
        "benchmark": "clients",
        "environment": env,
        "settings": result.settings,
        "imports": {name: cost.as_dict() for name, cost in result.imports.items()},
        "import_profiles_ms": result.import_profiles,
        "codec": [timing.as_dict() for timing in result.codec],
        "grpc": {
            "model": result.settings.get("model"),
            "latency_ms": {name: lat.as_dict() for name, lat in latency.items()},
            "vs_bare_stub": ratios,
            "request_bytes": result.grpc.request_bytes,
            "response_bytes": result.grpc.response_bytes,
            "client_work_us": result.grpc.client_work_us,
            "client_profile": result.grpc.client_profile,
        },
        "targets": _targets(result, ratios["client"]["p50"]),
    }


def _value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "MB":
        return f"{value:.1f} MB"
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def import_table(doc: Document) -> str:
    lines = [
        "| Statement (fresh process) | import s | fastest s | RSS MB | peak RSS MB | process s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cost in doc["imports"].values():
        statement = cost["statement"].replace("\n", "; ")
        lines.append(
            f"| `{statement}` ({cost['note']}) | {cost['import_seconds']:.3f} "
            f"| {cost['min_import_seconds']:.3f} | {cost['rss_mb']:.1f} "
            f"| {cost['peak_rss_mb']:.1f} | {cost['process_seconds']:.2f} |"
        )
    return "\n".join(lines)


def profile_lines(doc: Document) -> str:
    lines = ["Import time by package (`python -X importtime`, one run, own ms of its modules):"]
    for name, rows in doc["import_profiles_ms"].items():
        parts = ", ".join(f"{row['package']} {row['ms']:.0f}" for row in rows)
        lines.append(f"- `{doc['imports'][name]['statement']}`: {parts}")
    return "\n".join(lines)


def codec_table(doc: Document) -> str:
    lines = [
        "| Operation | Tensor (float32) | wire.tensors us | TensorFlow us | ours / TF |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in doc["codec"]:
        lines.append(
            f"| {row['operation'].replace('_', ' ')} | {row['tensor']} | {row['ours_us']:.1f} "
            f"| {row['reference_us']:.1f} | {_value(row['ratio'], 'x')} |"
        )
    return "\n".join(lines)


def grpc_table(doc: Document) -> str:
    grpc = doc["grpc"]
    names = {
        "client": "`GrpcClient.predict` (input conversion and output decoding included)",
        "bare_stub": "bare `PredictionServiceStub`, prebuilt request, plain channel",
        "bare_stub_client_options": "bare stub on a channel with the client's options",
    }
    lines = [
        "| Path | p50 ms | p99 ms | mean ms | p50 / bare stub |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, lat in grpc["latency_ms"].items():
        ratio = grpc["vs_bare_stub"].get(name, {}).get("p50")
        shown = f"{ratio:.3f}x" if ratio is not None else ""
        lines.append(
            f"| {names.get(name, name)} | {lat['p50_ms']:.3f} | {lat['p99_ms']:.3f} "
            f"| {lat['mean_ms']:.3f} | {shown} |"
        )
    work = ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in grpc["client_work_us"].items())
    top = ", ".join(f"{row['function']} {row['own_us']:.1f}" for row in grpc["client_profile"][:6])
    return (
        "\n".join(lines)
        + f"\n\nClient work without the network, best us per call: {work}."
        + f"\nMost own time per predict under cProfile (us, profiler overhead included): {top}."
    )


def target_table(doc: Document) -> str:
    lines = ["| Target | Measured | Limit | Result |", "| --- | ---: | ---: | --- |"]
    for target in doc["targets"]:
        unit = target["unit"]
        lines.append(
            f"| {target['name']} | {_value(target['value'], unit)} "
            f"| {_value(target['limit'], unit)} | {verdict(target)} |"
        )
    return "\n".join(lines)


def markdown(doc: Document) -> str:
    """The whole report: imports, codec, gRPC, targets and where it ran."""
    settings = doc["settings"]
    return (
        "\n\n".join(
            [
                "## Client benchmark: `clients` against `tensorflow-serving-api` + TensorFlow",
                f"Imports: median of {settings.get('import_runs')} fresh processes "
                f"({settings.get('tf_import_runs')} with TensorFlow) after one untimed run; "
                "RSS read in the process after the import, nothing subtracted.",
                import_table(doc),
                profile_lines(doc),
                f"Codec: best of {settings.get('codec_repeat')} timeit samples per call, "
                "ours and TensorFlow's alternating; decoders read the same serialized bytes.",
                codec_table(doc),
                f"gRPC Predict of `{settings.get('model')}` on our server, one client on "
                f"loopback: {settings.get('requests')} timed calls per path after "
                f"{settings.get('warmup')} warmup, in {settings.get('rounds')} interleaved rounds.",
                grpc_table(doc),
                target_table(doc),
                environment_line(doc),
            ]
        )
        + "\n"
    )


def write_files(document: Document, out: Path) -> tuple[Path, Path]:
    """Write clients.json and clients.md under `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "clients.json", out / "clients.md"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    md_path.write_text(markdown(document))
    return json_path, md_path
