"""Validate rendered objects: Kubernetes kinds against their schemas, our CRD objects by shape."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate

# kubectl's version here (1.32) and the newest schemas the validator bundles: a field removed
# or renamed in a newer release fails the second.
KUBERNETES_VERSIONS = ("1.32", kubernetes_validate.latest_version())

_DURATION = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "labels": _STRING_MAP},
}

# The Prometheus Operator's CRDs are not in the Kubernetes schemas. These are the parts of
# monitoring.coreos.com/v1 that the bundle uses, with unknown fields refused, so a typo
# ("endpoint", "intervall") fails here instead of being dropped by the API server.
CUSTOM_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "type": "object",
        "required": ["metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["selector", "endpoints"],
                "additionalProperties": False,
                "properties": {
                    "selector": {
                        "type": "object",
                        "required": ["matchLabels"],
                        "properties": {"matchLabels": _STRING_MAP},
                    },
                    "namespaceSelector": {"type": "object"},
                    "jobLabel": {"type": "string"},
                    "endpoints": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["port"],
                            "additionalProperties": False,
                            "properties": {
                                "port": {"type": "string"},
                                "path": {"type": "string", "pattern": "^/"},
                                "scheme": {"enum": ["http", "https"]},
                                "interval": _DURATION,
                                "scrapeTimeout": _DURATION,
                                "honorLabels": {"type": "boolean"},
                                "relabelings": {"type": "array"},
                                "metricRelabelings": {"type": "array"},
                            },
                        },
                    },
                },
            },
        },
    },
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "required": ["metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["groups"],
                "additionalProperties": False,
                "properties": {
                    "groups": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["name", "rules"],
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string"},
                                "interval": _DURATION,
                                "rules": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["expr"],
                                        "oneOf": [
                                            {"required": ["record"]},
                                            {"required": ["alert"]},
                                        ],
                                        "additionalProperties": False,
                                        "properties": {
                                            "record": {"type": "string"},
                                            "alert": {"type": "string"},
                                            "expr": {"type": "string"},
                                            "for": _DURATION,
                                            "labels": _STRING_MAP,
                                            "annotations": _STRING_MAP,
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def describe(obj: dict[str, Any]) -> str:
    """Return 'Kind/name' for messages."""
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def validation_problems(objects: list[dict[str, Any]], version: str) -> list[str]:
    """Return one message per object that fails its schema for Kubernetes version.

    Kubernetes kinds are checked strictly (unknown fields fail) with kubernetes-validate;
    the Prometheus Operator's kinds with CUSTOM_SCHEMAS; any other kind is a problem.
    """
    problems = []
    for obj in objects:
        custom = CUSTOM_SCHEMAS.get((obj.get("apiVersion", ""), obj.get("kind", "")))
        try:
            if custom is not None:
                jsonschema.validate(obj, custom)
            else:
                kubernetes_validate.validate(obj, version, strict=True)
        except jsonschema.ValidationError as err:
            where = ".".join(str(part) for part in err.absolute_path) or "(top)"
            problems.append(f"{describe(obj)} (Kubernetes {version}): {where}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            problems.append(f"{describe(obj)}: {err.message}, and it is not one of {_known()}")
    return problems


def _known() -> str:
    return ", ".join(kind for _, kind in CUSTOM_SCHEMAS)
