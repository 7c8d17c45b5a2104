"""Invariants of every rendered overlay: image, probes, ports, security, config, flags, scale."""

from __future__ import annotations

import re

import pytest

from deploy_checks.kustomize import RenderError, find_object, render_overlay
from deploy_checks.layout import ROOT, SERVING_CONFIG, overlays
from deploy_checks.schemas import KUBERNETES_VERSIONS, validation_problems
from serving_config.model_config import load_model_server_config
from serving_config.release import target_release
from serving_config.schema import MonitoringConfig, parse_text
from tests.k8s.objects import container, cronjob_pod_specs, deployment, flags, pod_spec

TFS_IMAGE = "tensorflow/serving"
PINNED = target_release()
CONFIG_FILES = ("models.config", "batching_parameters.txt", "monitoring.config")
MODELS_CONFIG = load_model_server_config(SERVING_CONFIG / "models.config")
MODEL_NAMES = {model.name for model in MODELS_CONFIG.model_config_list.config}
METRICS_PATH = parse_text(
    MonitoringConfig, (SERVING_CONFIG / "monitoring.config").read_text()
).prometheus_config.path
OVERLAYS = [pytest.param(name, id=name) for name in overlays()]


def test_the_overlays_exist() -> None:
    assert overlays() == ["dev", "gpu", "loadtest", "prod"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_overlay_is_valid_kubernetes(rendered, overlay: str, version: str) -> None:
    assert validation_problems(rendered[overlay], version) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_image_is_pinned_tf_serving(rendered, overlay: str) -> None:
    images = [c["image"] for c in pod_spec(rendered[overlay])["containers"]]
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name == TFS_IMAGE and tag and tag != "latest", image
    variant = "-gpu" if overlay == "gpu" else ""
    assert container(rendered[overlay])["image"] == f"{TFS_IMAGE}:{PINNED}{variant}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deploy_swaps_in_the_baked_image_and_nothing_else(rendered, overlay: str) -> None:
    """`make deploy IMAGE=... TAG=...` runs the image `make image` built, otherwise unchanged."""
    image = "registry.example.com:5000/ml/tfserving-bundle:3"
    swapped = render_overlay(overlay, image)
    assert container(swapped)["image"] == image
    container(swapped)["image"] = container(rendered[overlay])["image"]
    # The model-quality jobs copy the models out of the same image (prod): swapped too.
    for pod in cronjob_pod_specs(swapped).values():
        (copier,) = pod["initContainers"]
        assert copier["image"] == image
        copier["image"] = container(rendered[overlay])["image"]
    assert swapped == rendered[overlay]


@pytest.mark.parametrize("image", ["tfserving-bundle", "two words:1"])
def test_deploy_refuses_an_image_without_a_tag(image: str) -> None:
    with pytest.raises(RenderError, match="tag or digest"):
        render_overlay("dev", image)


def test_dockerfile_builds_from_the_deployed_release() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"ARG TFS_IMAGE={TFS_IMAGE}:{PINNED}\n" in dockerfile


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes(rendered, overlay: str) -> None:
    tfs = container(rendered[overlay])
    ready, live, startup = (tfs[p] for p in ("readinessProbe", "livenessProbe", "startupProbe"))
    match = re.fullmatch(r"/v1/models/([^/]+)/metadata", ready["httpGet"]["path"])
    assert match and match[1] in MODEL_NAMES, "readiness must read a served model's metadata"
    assert live["httpGet"]["path"] == startup["httpGet"]["path"] == f"/v1/models/{match[1]}"
    for probe in (ready, live, startup):
        assert probe["httpGet"]["port"] == "http"
    # Loading and warming up every model may take minutes; liveness must not start before.
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    assert budget >= 120, f"startup budget {budget}s"
    liveness_patience = live["periodSeconds"] * live["failureThreshold"]
    assert liveness_patience >= 30


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_are_named_and_services_use_the_names(rendered, overlay: str) -> None:
    objects = rendered[overlay]
    ports = {p["name"]: p["containerPort"] for p in container(objects)["ports"]}
    assert ports == {"grpc": 8500, "http": 8501}
    args = flags(container(objects)["args"])
    assert (args["port"], args["rest_api_port"]) == ("8500", "8501")
    rest = find_object(objects, "Service", "tfserving")
    grpc = find_object(objects, "Service", "tfserving-grpc")
    assert [(p["name"], p["targetPort"]) for p in rest["spec"]["ports"]] == [("http", "http")]
    assert [(p["name"], p["targetPort"]) for p in grpc["spec"]["ports"]] == [("grpc", "grpc")]
    assert grpc["spec"]["clusterIP"] == "None"  # headless: one DNS record per ready pod
    pod_labels = deployment(objects)["spec"]["template"]["metadata"]["labels"]
    for service in (rest, grpc):
        assert service["spec"]["selector"].items() <= pod_labels.items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_security_context(rendered, overlay: str) -> None:
    objects = rendered[overlay]
    pod = pod_spec(objects)["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    tfs = container(objects)["securityContext"]
    assert tfs["readOnlyRootFilesystem"] is True
    assert tfs["allowPrivilegeEscalation"] is False
    assert tfs["capabilities"] == {"drop": ["ALL"]}
    tmp = {m["name"] for m in container(objects)["volumeMounts"] if m["mountPath"] == "/tmp"}
    volumes = {v["name"]: v for v in pod_spec(objects)["volumes"]}
    assert "emptyDir" in volumes[tmp.pop()]
    account = find_object(objects, "ServiceAccount", pod_spec(objects)["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False
    assert pod_spec(objects)["automountServiceAccountToken"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budget_only_with_two_or_more_replicas(rendered, overlay: str) -> None:
    objects = rendered[overlay]
    hpa = find_object(objects, "HorizontalPodAutoscaler")
    if hpa:
        # The HPA owns the count; a replicas field would undo its scaling on every apply.
        assert "replicas" not in deployment(objects)["spec"]
        assert hpa["spec"]["scaleTargetRef"]["name"] == "tfserving"
        replicas = hpa["spec"]["minReplicas"]
    else:
        replicas = deployment(objects)["spec"].get("replicas", 1)
    assert (find_object(objects, "PodDisruptionBudget") is not None) == (replicas >= 2)


def test_prod_runs_three_replicas_with_every_opt_in_piece(rendered) -> None:
    objects = rendered["prod"]
    assert find_object(objects, "HorizontalPodAutoscaler")["spec"]["minReplicas"] == 3
    for kind in ("PodDisruptionBudget", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"):
        assert find_object(objects, kind), kind
    assert deployment(rendered["dev"])["spec"]["replicas"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_map_is_serving_config_with_a_content_hash(rendered, overlay: str) -> None:
    objects = rendered[overlay]
    config_maps = [
        o for o in objects if o["kind"] == "ConfigMap" and "models.config" in o.get("data", {})
    ]
    (config_map,) = config_maps
    assert re.fullmatch(r"tfserving-config-[a-z0-9]{10}", config_map["metadata"]["name"])
    assert config_map["data"] == {f: (SERVING_CONFIG / f).read_text() for f in CONFIG_FILES}
    volumes = [v for v in pod_spec(objects)["volumes"] if "configMap" in v]
    assert [v["configMap"]["name"] for v in volumes] == [config_map["metadata"]["name"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_flags_match_serving_config(rendered, overlay: str) -> None:
    objects = rendered[overlay]
    tfs = container(objects)
    (mount,) = [m for m in tfs["volumeMounts"] if m["name"] == "config"]
    config_keys = set(find_object(objects, "ConfigMap")["data"])
    args = flags(tfs["args"])
    for flag, file_name in [
        ("model_config_file", "models.config"),
        ("monitoring_config_file", "monitoring.config"),
        ("batching_parameters_file", "batching_parameters.txt"),
    ]:
        assert args[flag] == f"{mount['mountPath']}/{file_name}"
        assert file_name in config_keys
    # TF Serving refuses a batching file without batching, and labels in the start-up config
    # without this flag.
    assert args["enable_batching"] == "true"
    if any(model.version_labels for model in MODELS_CONFIG.model_config_list.config):
        assert args["allow_version_labels_for_unavailable_models"] == "true"
    assert tfs["command"] == ["/usr/bin/tensorflow_model_server"]


def test_dockerfile_runs_the_deployment_flags(rendered) -> None:
    """`make image` and `make serve-docker` start TF Serving exactly as the cluster does."""
    text = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*?\])$", text, re.MULTILINE | re.DOTALL)[1]
    docker_args = [a.strip().strip('"') for a in cmd.replace("\\\n", "").strip("[]").split(",")]
    deployed = [a for a in container(rendered["prod"])["args"] if "$(CPU_LIMIT)" not in a]
    assert docker_args == deployed
    assert 'ENTRYPOINT ["/usr/bin/tensorflow_model_server"]' in text


def test_gpu_overlay_asks_for_a_gpu_node(rendered) -> None:
    pod = pod_spec(rendered["gpu"])
    assert container(rendered["gpu"])["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"]
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
    assert "nvidia.com/gpu" not in container(rendered["prod"])["resources"]["limits"]


def test_service_monitor_scrapes_the_metrics_page(rendered) -> None:
    objects = rendered["prod"]
    monitor = find_object(objects, "ServiceMonitor")
    selected = [
        s
        for s in objects
        if s["kind"] == "Service"
        and monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    assert [s["metadata"]["name"] for s in selected] == ["tfserving"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in selected[0]["spec"]["ports"]}
    assert endpoint["path"] == METRICS_PATH


def test_network_policy_admits_clients_and_prometheus_only(rendered) -> None:
    objects = rendered["prod"]
    policy = find_object(objects, "NetworkPolicy")["spec"]
    pod_labels = deployment(objects)["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    named = {p["name"] for p in container(objects)["ports"]}
    sources = {}
    for rule in policy["ingress"]:
        assert {p["port"] for p in rule["ports"]} <= named
        for peer in rule["from"]:
            label = next(iter(peer["podSelector"]["matchLabels"].items()))
            sources[label] = {p["port"] for p in rule["ports"]}
    assert sources == {
        ("tfserving-bundle/client", "true"): {"grpc", "http"},
        ("app.kubernetes.io/name", "prometheus"): {"http"},
    }
