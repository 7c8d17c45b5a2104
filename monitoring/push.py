"""Push a model-quality job's gauges to a Prometheus Pushgateway, replacing its last push."""

from __future__ import annotations

import logging
import re
import urllib.error
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.metrics_core import Metric

logger = logging.getLogger(__name__)

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# The Pushgateway sets these itself; a sample carrying one would be refused or overwritten.
_RESERVED_LABELS = frozenset({"job", "instance"})


@dataclass(frozen=True)
class Sample:
    """One gauge value: a metric name, its labels, and the HELP text for its name."""

    name: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    documentation: str = ""


class PushError(RuntimeError):
    """The Pushgateway could not be reached or refused the push; says which and why."""


def push_samples(
    gateway: str,
    job: str,
    grouping: Mapping[str, str],
    samples: Sequence[Sample],
    timeout: float = 10.0,
) -> None:
    """Replace the group (job, grouping) on the gateway with samples, all as gauges.

    An HTTP PUT: every series the group held before and samples do not name is deleted, so
    a feature that stopped drifting (or was dropped) does not linger with an old score.
    Other groups (another job, another model) are left alone. Samples of one name may carry
    different label sets.

    Raises:
        ValueError: the gateway URL, job, a grouping key, a metric or label name is invalid,
            a sample repeats another's name and labels, or contradicts the grouping.
        PushError: the gateway is unreachable or answered with an HTTP error.
    """
    url = _gateway_url(gateway)
    _check_group(job, grouping)
    registry = CollectorRegistry()
    registry.register(_SampleCollector(_families(samples, grouping)))
    try:
        push_to_gateway(url, job, registry, grouping_key=dict(grouping), timeout=timeout)
    except urllib.error.HTTPError as err:
        body = err.read().decode("utf-8", "replace").strip()
        raise PushError(
            f"Pushgateway {url} answered HTTP {err.code}: {body or err.reason}"
        ) from err
    except urllib.error.URLError as err:
        raise PushError(f"Pushgateway {url} unreachable: {err.reason}") from err
    except OSError as err:  # time-outs, resets, and prometheus_client's own status check
        raise PushError(f"Pushgateway {url}: {err}") from err
    logger.info("pushed %d samples to %s as job=%s %s", len(samples), url, job, dict(grouping))


def _gateway_url(gateway: str) -> str:
    """Return gateway without a trailing slash.

    Raises:
        ValueError: not an http(s) URL with a host, or it carries a query or fragment.
    """
    parts = urlsplit(gateway)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Pushgateway URL {gateway!r} is not http(s)://host[:port]")
    if parts.query or parts.fragment:
        raise ValueError(f"Pushgateway URL {gateway!r} must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError as err:
        raise ValueError(f"Pushgateway URL {gateway!r} has an invalid port") from err
    return gateway.rstrip("/")


def _check_group(job: str, grouping: Mapping[str, str]) -> None:
    """Check the job name and grouping keys.

    Raises:
        ValueError: empty job, or a grouping key that is not a usable label name.
    """
    if not job:
        raise ValueError("job must not be empty")
    for key in grouping:
        if not _LABEL_NAME.match(key) or key.startswith("__") or key in _RESERVED_LABELS:
            raise ValueError(f"grouping key {key!r} is not a usable label name")


def _families(samples: Sequence[Sample], grouping: Mapping[str, str]) -> list[Metric]:
    """Group samples into gauge families by name, in the order names first appear.

    Raises:
        ValueError: an invalid name, label name or value, a duplicate series, or a label
            that contradicts the grouping (the gateway would refuse the push).
    """
    families: dict[str, Metric] = {}
    seen: set[tuple[str, frozenset[tuple[str, str]]]] = set()
    for sample in samples:
        if not _METRIC_NAME.match(sample.name):
            raise ValueError(f"{sample.name!r} is not a Prometheus metric name")
        for key, label_value in sample.labels.items():
            if not _LABEL_NAME.match(key) or key.startswith("__") or key in _RESERVED_LABELS:
                raise ValueError(f"{sample.name}: {key!r} is not a usable label name")
            if key in grouping and grouping[key] != label_value:
                raise ValueError(
                    f"{sample.name}: label {key}={label_value!r} contradicts the grouping "
                    f"{key}={grouping[key]!r}"
                )
        try:
            value = float(sample.value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{sample.name}: value {sample.value!r} is not a number") from err
        series = (sample.name, frozenset((k, str(v)) for k, v in sample.labels.items()))
        if series in seen:
            raise ValueError(f"{sample.name}{dict(sample.labels)} appears twice")
        seen.add(series)
        family = families.get(sample.name)
        if family is None:
            family = Metric(sample.name, sample.documentation or sample.name, "gauge")
            families[sample.name] = family
        family.add_sample(sample.name, {k: str(v) for k, v in sample.labels.items()}, value)
    return list(families.values())


class _SampleCollector:
    """A collector that yields fixed families: the registry's way to expose them once."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families
