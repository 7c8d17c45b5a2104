"""The model-quality component: CronJobs that run the real CLIs, a Pushgateway Prometheus reads."""

from __future__ import annotations

import argparse
import importlib
import re
import tomllib
from typing import Any
from urllib.parse import urlsplit

import pytest

from deploy_checks import rules
from deploy_checks.kustomize import find_object
from deploy_checks.layout import ROOT
from monitoring.__main__ import COMMANDS
from tests.k8s.objects import container, cronjob_pod_specs
from tests.k8s.test_manifests import MODEL_NAMES

CRONJOBS = {"tfserving-model-drift": "drift", "tfserving-model-accuracy": "accuracy"}
# Seconds between runs of the two schedule shapes the component uses.
_HOURLY = re.compile(r"^\d+ \* \* \* \*$")
_DAILY = re.compile(r"^\d+ \d+ \* \* \*$")


def parse_job_args(command: str, args: list[str]) -> argparse.Namespace:
    """Parse args with the real `python -m monitoring <command>` parser.

    Raises:
        SystemExit: an argument the command does not know, or a required one missing.
    """
    module = importlib.import_module(COMMANDS[command][0])
    parser = argparse.ArgumentParser(prog=f"python -m monitoring {command}")
    module.add_arguments(parser)
    return parser.parse_args(args)


def period_seconds(schedule: str) -> int:
    if _HOURLY.match(schedule):
        return 3600
    assert _DAILY.match(schedule), f"schedule {schedule!r} is neither hourly nor daily"
    return 86400


def mounts(pod: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """{mount path: volume} of container name."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    (main,) = [c for c in pod["containers"] if c["name"] == name]
    return {m["mountPath"]: {**volumes[m["name"]], **m} for m in main["volumeMounts"]}


def test_only_prod_runs_the_model_quality_jobs(rendered) -> None:
    for overlay, objects in rendered.items():
        found = set(cronjob_pod_specs(objects))
        assert found == (set(CRONJOBS) if overlay == "prod" else set()), overlay
    kinds = [o["kind"] for o in rendered["prod"]]
    assert len(kinds) == 19
    assert (kinds.count("CronJob"), kinds.count("PersistentVolumeClaim")) == (2, 1)


@pytest.mark.parametrize(("name", "command"), list(CRONJOBS.items()))
def test_jobs_run_the_monitoring_cli_with_its_own_flags(rendered, name: str, command: str) -> None:
    objects = rendered["prod"]
    pod = cronjob_pod_specs(objects)[name]
    (job,) = pod["containers"]
    assert job["command"] == ["python", "-m", "monitoring"]
    assert job["args"][0] == command
    args = parse_job_args(command, job["args"][1:])
    if command == "drift":
        assert args.model in MODEL_NAMES
    # The gateway the Service in the same namespace answers on.
    url = urlsplit(args.pushgateway)
    service = find_object(objects, "Service", url.hostname)
    assert url.port in {p["port"] for p in service["spec"]["ports"]}
    gateway = find_object(objects, "Deployment", url.hostname)
    assert service["spec"]["selector"].items() <= (
        gateway["spec"]["template"]["metadata"]["labels"].items()
    )
    # Logs (and labels) from the request-log claim, read-only; models from the init copy.
    paths = mounts(pod, command)
    read = [args.logs] + ([args.labels.parent] if command == "accuracy" else [])
    for path in read:
        mount = paths[str(path)]
        assert mount["readOnly"] and mount["persistentVolumeClaim"]["readOnly"]
        claim = find_object(
            objects, "PersistentVolumeClaim", mount["persistentVolumeClaim"]["claimName"]
        )
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    models = paths[str(args.models_root)]
    assert "emptyDir" in models and models["readOnly"]
    (copier,) = pod["initContainers"]
    assert copier["image"] == container(objects)["image"]  # the served models, baked or not
    (copy_mount,) = copier["volumeMounts"]
    assert copy_mount["name"] == models["name"]
    assert copier["command"] == ["cp", "-R", "/models/.", f"{copy_mount['mountPath']}/"]


@pytest.mark.parametrize(("name", "command"), list(CRONJOBS.items()))
def test_jobs_neither_pile_up_nor_retry_a_finding(rendered, name: str, command: str) -> None:
    cronjob = find_object(rendered["prod"], "CronJob", name)["spec"]
    job = cronjob["jobTemplate"]["spec"]
    assert cronjob["concurrencyPolicy"] == "Forbid"
    assert 0 < cronjob["successfulJobsHistoryLimit"] <= 5
    assert 0 < cronjob["failedJobsHistoryLimit"] <= 5
    assert job["activeDeadlineSeconds"] <= period_seconds(cronjob["schedule"])
    assert 1 <= job["backoffLimit"] <= 3
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    # Exit 1 is the job's finding (drift, degraded quality), already pushed: no rerun.
    module = importlib.import_module(COMMANDS[command][0])
    finding = module.EXIT_DRIFT if command == "drift" else module.EXIT_DEGRADED
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob"
    assert rule["onExitCodes"] == {"containerName": command, "operator": "In", "values": [finding]}


def test_stale_alert_waits_two_runs_of_each_schedule(rendered) -> None:
    (expr,) = [
        e for a, e in rules.alerts(rules.load_groups()).items() if a == "ModelQualityJobStale"
    ]
    thresholds = {t.record: float(t.threshold) for t in rules.alert_terms(expr)}
    for name, command in CRONJOBS.items():
        schedule = find_object(rendered["prod"], "CronJob", name)["spec"]["schedule"]
        (record,) = [r for r in thresholds if f"_{command}_job_" in r]
        assert thresholds[record] == 2 * period_seconds(schedule), record


def test_model_quality_pods_are_locked_down(rendered) -> None:
    objects = rendered["prod"]
    gateway = find_object(objects, "Deployment", "tfserving-pushgateway")["spec"]["template"][
        "spec"
    ]
    for name, pod in [*cronjob_pod_specs(objects).items(), ("pushgateway", gateway)]:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for c in pod["containers"] + pod.get("initContainers", []):
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, c["name"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
            assert c["resources"]["limits"] and c["resources"]["requests"], c["name"]


def test_pushgateway_is_pinned_probed_and_scraped_with_its_pushed_labels(rendered) -> None:
    objects = rendered["prod"]
    pod = find_object(objects, "Deployment", "tfserving-pushgateway")["spec"]["template"]["spec"]
    (gateway,) = pod["containers"]
    assert re.fullmatch(r"prom/pushgateway:v\d+\.\d+\.\d+", gateway["image"])
    assert [p["name"] for p in gateway["ports"]] == ["http"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert gateway[probe]["httpGet"]["port"] == "http"
    monitor = find_object(objects, "ServiceMonitor", "tfserving-pushgateway")
    selected = [
        s["metadata"]["name"]
        for s in objects
        if s["kind"] == "Service"
        and monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    assert selected == ["tfserving-pushgateway"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["honorLabels"] is True and endpoint["port"] == "http"


def test_monitoring_image_installs_pyproject_ranges_and_runs_the_cli() -> None:
    dockerfile = (ROOT / "monitoring" / "Dockerfile").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(pyproject["dependencies"])
    declared |= {r for extra in pyproject["optional-dependencies"].values() for r in extra}
    install = dockerfile[dockerfile.index("RUN pip install") :].split("\n\n")[0]
    installed = set(re.findall(r'"([^"]+)"', install))
    assert installed and installed <= declared, installed - declared
    assert set(pyproject["optional-dependencies"]["monitoring"]) <= installed
    assert 'ENTRYPOINT ["python", "-m", "monitoring"]' in dockerfile
