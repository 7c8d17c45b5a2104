"""Verify a live server against the exported version: predictions, the card's metrics, p99.

result = verify_deployment({"rest": "http://127.0.0.1:8501"}, VerifySettings("tabular"))
print(result.text()); result.passed
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from exported import version_path
from monitoring.verify.compare import card_metrics, compare_outputs
from monitoring.verify.savedmodel import run_saved_model
from monitoring.verify.served import ServedRun, send_batches
from monitoring.verify.verdict import VerifyCheck, VerifyResult
from monitoring.verify.versions import latest_available, resolve_served_versions

__all__ = ["TRANSPORTS", "VerifySettings", "verify_deployment"]

logger = logging.getLogger(__name__)

TRANSPORTS = ("rest", "grpc")


@dataclass(frozen=True)
class VerifySettings:
    """What to verify and how strictly. version and label: at most one (neither: the latest
    version the server reports AVAILABLE)."""

    model: str
    models_root: Path = Path("models")
    version: int | None = None
    label: str | None = None
    batch_size: int = 32
    slo_p99_ms: float = 250.0
    rtol: float = 1e-5  # served floats against the in-process SavedModel's
    atol: float = 1e-6
    metrics_rtol: float = 1e-6  # recomputed metrics against the card's
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.version is not None and self.label is not None:
            raise ValueError("give a version or a label, not both")
        if self.batch_size < 1:
            raise ValueError(f"the batch size must be at least 1, not {self.batch_size}")
        if min(self.slo_p99_ms, self.rtol, self.atol, self.metrics_rtol) < 0:
            raise ValueError("the SLO and the tolerances must not be negative")


def _client(transport: str, host: str, timeout: float) -> Any:
    from clients import connect

    return connect("grpc" if transport == "grpc" else "rest", host, timeout=timeout)


def _version_check(served: dict[str, int], version: int, reference: Any) -> VerifyCheck:
    """Every transport answers with version, and the exported card there names it."""
    agree = set(served.values()) == {version} and reference.version == version
    answered = ", ".join(f"{t} {v}" for t, v in served.items())
    detail = f"served {answered}; card of {reference.version_dir} names {reference.version}"
    return VerifyCheck("served version is the exported one", "all", detail, agree)


def _transport_checks(
    run: ServedRun, local: dict[str, Any], reference: Any, settings: VerifySettings
) -> tuple[list[VerifyCheck], dict[str, float]]:
    transport = run.transport
    compared = compare_outputs(run.outputs, local, settings.rtol, settings.atol)
    detail = f"{compared.mismatched_rows}/{compared.rows} rows differ, worst abs diff "
    detail += f"{compared.worst_abs_diff:.2e}" + "".join(f"; {p}" for p in compared.problems)
    checks = [VerifyCheck("predictions match the SavedModel", transport, detail, compared.matches)]
    served_metrics: dict[str, float] = {}
    baseline = reference.test_metrics
    if reference.task in ("classifier", "regressor") and baseline:
        try:
            served_metrics = card_metrics(reference.task, run.outputs, reference.test_labels)
        except ValueError as err:
            checks.append(VerifyCheck("metrics equal the card", transport, str(err), False))
        else:
            differing = [
                f"{name} {served_metrics[name]:.6g} vs {value:.6g}"
                for name, value in sorted(baseline.items())
                if name in served_metrics
                and abs(served_metrics[name] - value)
                > settings.metrics_rtol * max(abs(value), 1e-9)
            ]
            shown = ", ".join(f"{n} {served_metrics[n]:.4f}" for n in sorted(served_metrics))
            detail = "card differs: " + "; ".join(differing) if differing else shown
            checks.append(VerifyCheck("metrics equal the card", transport, detail, not differing))
    else:
        detail = f"not checked: a {reference.task} model card without test metrics"
        checks.append(VerifyCheck("metrics equal the card", transport, detail, None))
    p99 = run.p99_ms
    detail = f"p99 {p99:.2f} ms over {len(run.latencies_ms)} calls (SLO {settings.slo_p99_ms:g} ms)"
    checks.append(VerifyCheck("p99 within SLO", transport, detail, p99 <= settings.slo_p99_ms))
    return checks, served_metrics


def verify_deployment(hosts: dict[str, str], settings: VerifySettings) -> VerifyResult:
    """Send the version's held-out test split to each host ({"rest": URL, "grpc": HOST:PORT})
    and check the answers against the in-process SavedModel and the model card.

    Raises:
        ValueError: no host, an unknown transport, or no AVAILABLE version.
        ServingClientError: (a subclass) a server refused or did not answer.
        ReferenceError: the exported version's card or test split cannot be read.
        SavedModelError: the exported SavedModel cannot be run.
    """
    from monitoring.reference import load_reference

    unknown = sorted(set(hosts) - set(TRANSPORTS))
    if not hosts or unknown:
        raise ValueError(f"give a REST URL and/or a gRPC target (unknown: {unknown})")
    first = next(iter(hosts))
    if settings.version is None and settings.label is None:
        with _client(first, hosts[first], settings.timeout) as client:
            settings = replace(settings, version=latest_available(client, settings.model))
    served = resolve_served_versions(
        hosts, settings.model, settings.version, settings.label, settings.timeout
    )
    version = served[first]
    version_dir = version_path(settings.models_root, settings.model, version)
    reference = load_reference(version_dir)
    inputs = reference.test_inputs
    local = run_saved_model(version_dir, reference.signature, inputs, settings.batch_size)
    checks = [_version_check(served, version, reference)]
    metrics: dict[str, dict[str, float]] = {"card": dict(reference.test_metrics)}
    for transport, host in hosts.items():
        with _client(transport, host, settings.timeout) as client:
            run = send_batches(
                client,
                transport,
                settings.model,
                inputs,
                settings.batch_size,
                version=settings.version,
                label=settings.label,
                signature=reference.signature,
            )
        transport_checks, metrics[transport] = _transport_checks(run, local, reference, settings)
        checks += transport_checks
    rows = len(reference.test_labels)
    return VerifyResult(settings.model, version, settings.label, version_dir, rows, checks, metrics)
