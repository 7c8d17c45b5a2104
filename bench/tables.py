"""Render a server benchmark document (server.json's content) as markdown tables."""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]


def verdict(target: dict[str, Any]) -> str:
    return "target met" if target["met"] else "target missed"


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _x(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def latency_table(doc: Document) -> str:
    lat, floor, ratios = doc["latency_ms"], doc["floor_ms"], doc["ratios"]
    rows = [
        ("gRPC Predict, our server", lat["grpc_predict"], ratios["grpc_vs_floor"]),
        ("gRPC floor = grpcio echo + Session run", floor["grpc"], None),
        ("grpcio echo server", lat["grpc_echo"], None),
        (
            "grpcio echo running the Session run per request",
            floor["grpc_composed"],
            ratios["grpc_vs_composed_floor"],
        ),
        ("REST Predict, our server", lat["rest_predict"], ratios["rest_vs_floor"]),
        ("REST floor = HTTP echo + Session run", floor["rest"], None),
        ("asyncio HTTP/1.1 echo server", lat["http_echo"], None),
        (
            "HTTP echo running the Session run per request",
            floor["rest_composed"],
            ratios["rest_vs_composed_floor"],
        ),
        ("Session run by tensor names, in-process", lat["signature_call"], None),
        ("TF2 object loader's signature call, in-process", lat["tf2_signature_call"], None),
        ("FastAPI + Keras model.predict, REST", lat["fastapi_predict"], None),
    ]
    lines = [
        "| Path | p50 ms | p99 ms | our p50 / this | our p99 / this |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, numbers, ratio in rows:
        p50 = _x(ratio["p50"]) if ratio else ""
        p99 = _x(ratio["p99"]) if ratio else ""
        lines.append(
            f"| {name} | {_ms(numbers['p50_ms'])} | {_ms(numbers['p99_ms'])} | {p50} | {p99} |"
        )
    return "\n".join(lines)


def target_table(doc: Document) -> str:
    lines = ["| Target | Measured | Result |", "| --- | ---: | --- |"]
    for target in doc["targets"]:
        lines.append(f"| {target['name']} | {_x(target['value'])} | {verdict(target)} |")
    return "\n".join(lines)


def throughput_table(doc: Document) -> str:
    tp = doc["throughput"]
    clients = tp["batching_off"]["clients"]
    lines = [
        f"| gRPC Predict, {clients} concurrent clients | requests/s | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in ("batching_off", "batching_on"):
        run = tp[name]
        lines.append(
            f"| {name.replace('_', ' ')} | {run['requests_per_second']:.0f} "
            f"| {_ms(run['latency']['p50_ms'])} | {_ms(run['latency']['p99_ms'])} |"
        )
    lines.append(f"| batching on / off | {_x(tp['batching_on_vs_off'])} | | |")
    return "\n".join(lines)


def _load(value: object) -> str:
    return "/".join(f"{v:.1f}" for v in value) if isinstance(value, list | tuple) else "?"


def environment_line(doc: Document) -> str:
    env, settings = doc["environment"], doc["settings"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    load = (
        f"load average (1/5/15 min) {_load(settings.get('load_average_at_start'))} at start, "
        f"{_load(settings.get('load_average_at_end'))} at end"
    )
    return (
        f"{env['date']}, {env['usable_cpus']} of {env['cpu_count']} CPUs, {load}; "
        f"Python {env['python']}, {versions}. Command: `{env['command']}`"
    )


def markdown(doc: Document) -> str:
    """The whole report: latency, targets, throughput and where it ran."""
    settings = doc["settings"]
    title = f"## Server benchmark: `{settings.get('model', '?')}`, batch 1, one client on loopback"
    counts = (
        f"{settings.get('requests')} timed requests per path after "
        f"{settings.get('warmup')} warmup; FastAPI {settings.get('baseline_requests')}. "
        "Paths are timed in interleaved rounds. Floor = echo server + in-process signature "
        "call, p50s added (p99s added likewise, which overstates the floor's p99 and so "
        "flatters our p99 ratio); the targets are against it. The echoes running the Session "
        "run per request (in a gRPC worker thread; on the HTTP event loop, where our server "
        "answers a lone keep-alive connection) show what composing the two costs beyond "
        "their sum: our ratio against them is the part our own per-request code adds."
    )
    return (
        "\n\n".join(
            [
                title,
                counts,
                latency_table(doc),
                target_table(doc),
                throughput_table(doc),
                environment_line(doc),
            ]
        )
        + "\n"
    )
