"""Reading the rendered TF Serving objects: the Deployment, its container, its flags."""

from __future__ import annotations

from typing import Any

from deploy_checks.kustomize import find_object

Objects = list[dict[str, Any]]


def deployment(objects: Objects) -> dict[str, Any]:
    found = find_object(objects, "Deployment", "tfserving")
    assert found is not None, "no Deployment tfserving"
    return found


def pod_spec(objects: Objects) -> dict[str, Any]:
    return deployment(objects)["spec"]["template"]["spec"]


def container(objects: Objects) -> dict[str, Any]:
    (only,) = [c for c in pod_spec(objects)["containers"] if c["name"] == "tfserving"]
    return only


def flags(args: list[str]) -> dict[str, str]:
    """{flag name: value} of --name=value arguments (the form the manifests use)."""
    parsed = {}
    for arg in args:
        assert arg.startswith("--") and "=" in arg, f"{arg!r} is not --flag=value"
        name, value = arg[2:].split("=", 1)
        parsed[name] = value
    return parsed


def probe_path(objects: Objects, probe: str) -> str:
    return container(objects)[probe]["httpGet"]["path"]


def cronjob_pod_specs(objects: Objects) -> dict[str, dict[str, Any]]:
    """{CronJob name: the pod spec of the Jobs it creates}."""
    return {
        obj["metadata"]["name"]: obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        for obj in objects
        if obj["kind"] == "CronJob"
    }
