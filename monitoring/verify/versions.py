"""Which version the server answers with: the one asked for, a label's, or the latest available."""

from __future__ import annotations

from typing import Any

__all__ = ["latest_available", "resolve_served_versions"]

AVAILABLE = "AVAILABLE"


def latest_available(client: Any, model: str) -> int:
    """The newest version the server reports AVAILABLE.

    Raises:
        ServingClientError: (a subclass) the server does not know the model or did not answer.
        ValueError: no version is AVAILABLE.
    """
    states = client.get_model_status(model)
    available: list[int] = [status.version for status in states if status.state == AVAILABLE]
    if not available:
        listed = ", ".join(f"{s.version} {s.state}" for s in states) or "none"
        raise ValueError(f"no version of {model} is AVAILABLE (versions: {listed})")
    return max(available)


def resolve_served_versions(
    hosts: dict[str, str], model: str, version: int | None, label: str | None, timeout: float
) -> dict[str, int]:
    """The version each transport's server answers with for the version or label.

    Raises:
        ServingClientError: (a subclass) the server refused (unknown label or version) or
            did not answer.
    """
    from clients import connect
    from clients.retry import NO_RETRY

    served = {}
    for transport, host in hosts.items():
        kind = "grpc" if transport == "grpc" else "rest"
        with connect(kind, host, timeout=timeout, retry=NO_RETRY) as client:
            served[transport] = client.describe_model(model, version=version, label=label).version
    return served
