"""What each launcher runs for a trial: the embedded server's flags, the exact `docker run`
line, and the one-off Kubernetes objects rendered from k8s/base (validated offline against the
Kubernetes schemas, as tests/k8s does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from loadtest.tune.grid import BatchingConfig
from loadtest.tune.kubernetes import KubernetesLauncher
from loadtest.tune.launchers import DockerLauncher, EmbeddedLauncher
from serving_config.check import check_file
from serving_config.release import target_release

Rendered = tuple[Path, list[dict[str, Any]]]
CONFIG = BatchingConfig(32, 2000, 2, 64, "pow2")


def trial_dir(tmp_path: Path) -> Path:
    return tmp_path / "reports" / "trials" / f"03-{CONFIG.slug}"


def test_the_embedded_server_gets_the_trials_parameters_file(tmp_path: Path) -> None:
    from loadtest.tune.launchers import write_parameters

    launcher = EmbeddedLauncher(
        Path("build/models.config"), "tabular", ["--rest_api_num_threads=8"]
    )
    path = write_parameters(CONFIG, trial_dir(tmp_path))
    flags = launcher.flags(path)
    assert "--enable_batching" in flags
    assert f"--batching_parameters_file={path}" in flags
    assert flags[-1] == "--rest_api_num_threads=8"
    assert check_file(path, kind="batching") == []
    assert "max_batch_size { value: 32 }" in path.read_text()


def test_docker_runs_the_pinned_image_with_the_trials_config_mounted(tmp_path: Path) -> None:
    folder = trial_dir(tmp_path)
    launcher = DockerLauncher(tmp_path / "models", "tabular")
    launcher.prepare(CONFIG, folder)
    command = launcher.command(folder, rest_port=18501, grpc_port=18500)
    image = f"tensorflow/serving:{target_release()}"
    assert command[:3] == ["docker", "run", "--rm"]
    assert command[command.index(image) - 1] == "--entrypoint=/usr/bin/tensorflow_model_server"
    assert "--publish=127.0.0.1:18501:8501" in command
    assert "--publish=127.0.0.1:18500:8500" in command
    assert f"--volume={(tmp_path / 'models').resolve()}:/models:ro" in command
    assert f"--volume={(folder / 'config').resolve()}:/config:ro" in command
    flags = command[command.index(image) + 1 :]
    assert "--enable_batching=true" in flags
    assert "--batching_parameters_file=/config/batching_parameters.txt" in flags
    assert "--model_config_file=/config/models.config" in flags
    # What the container reads at /config: the shipped models.config and the trial's file.
    mounted = sorted(p.name for p in (folder / "config").iterdir())
    assert mounted == ["batching_parameters.txt", "models.config", "monitoring.config"]
    assert (folder / "config" / "batching_parameters.txt").read_text() == CONFIG.text()


def test_docker_on_a_gpu_takes_the_gpu_image_and_the_gpus(tmp_path: Path) -> None:
    command = DockerLauncher(tmp_path, "tabular", gpu=True).command(tmp_path / "t", 1, 2)
    assert f"tensorflow/serving:{target_release()}-gpu" in command
    assert "--gpus=all" in command


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    folder = trial_dir(tmp_path_factory.mktemp("k8s"))
    launcher = KubernetesLauncher("registry.example/tfserving-bundle:abc123", "tabular", "tune")
    objects = [doc for doc in yaml.safe_load_all(launcher.render(CONFIG, folder)) if doc]
    return folder, objects


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_the_trials_deployment_is_one_off_and_selects_only_its_own_pods(rendered: Rendered) -> None:
    folder, objects = rendered
    name = f"tfserving-tune-{folder.name}"
    (deployment,) = by_kind(objects, "Deployment")
    assert deployment["metadata"]["name"] == name
    assert deployment["metadata"]["namespace"] == "tune"
    trial = {"tfserving-bundle/tune-trial": folder.name}
    assert trial.items() <= deployment["spec"]["selector"]["matchLabels"].items()
    assert trial.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    for service in by_kind(objects, "Service"):
        assert service["metadata"]["name"].endswith(f"-tune-{folder.name}")
        assert trial.items() <= service["spec"]["selector"].items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/tfserving-bundle:abc123"
    assert "--batching_parameters_file=/config/batching_parameters.txt" in container["args"]


def test_the_trials_configmap_carries_its_parameters_and_the_base_files(rendered: Rendered) -> None:
    _, objects = rendered
    (configmap,) = by_kind(objects, "ConfigMap")
    assert configmap["data"]["batching_parameters.txt"] == CONFIG.text()
    assert {"models.config", "monitoring.config"} <= configmap["data"].keys()
    (deployment,) = by_kind(objects, "Deployment")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    mounted = [v["configMap"]["name"] for v in volumes if "configMap" in v]
    assert mounted == [configmap["metadata"]["name"]]  # the hashed name, so each trial rolls


def test_the_rendered_objects_pass_the_kubernetes_schemas(rendered: Rendered) -> None:
    from deploy_checks.schemas import validation_problems

    folder, objects = rendered
    assert validation_problems(objects, "1.32") == []
    assert (folder / "k8s" / "manifests.yaml").is_file()
    assert {o["kind"] for o in objects} == {"ConfigMap", "Deployment", "Service", "ServiceAccount"}


def test_the_kubectl_lines_apply_wait_forward_and_delete(rendered: Rendered) -> None:
    folder, _ = rendered
    launcher = KubernetesLauncher("x/y:1", "tabular", "tune")
    lines = launcher.commands(folder, rest_port=18501, grpc_port=18500)
    manifests = str(folder / "k8s" / "manifests.yaml")
    deployment = f"deployment/tfserving-tune-{folder.name}"
    assert lines["apply"] == ["kubectl", "--namespace=tune", "apply", "-f", manifests]
    assert lines["rollout"][3:5] == ["status", deployment]
    assert lines["port-forward"][-3:] == [deployment, "18501:8501", "18500:8500"]
    assert "--address=127.0.0.1" in lines["port-forward"]
    assert lines["delete"][-2:] == ["-f", manifests]


def test_without_a_cluster_the_kubernetes_launcher_refuses_before_applying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kubectl pointed at a cluster address where nothing listens (loopback, a free port)."""
    from launcher import StartError, free_port

    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "none", "cluster": {"server": f"https://127.0.0.1:{free_port()}"}}],
        "users": [{"name": "none", "user": {}}],
        "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
        "current-context": "none",
    }
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    launcher = KubernetesLauncher("x/y:1", "tabular")
    assert not launcher.cluster_answers()
    with (
        pytest.raises(StartError, match="no Kubernetes cluster"),
        launcher.serve(CONFIG, trial_dir(tmp_path)),
    ):
        pass
    assert (trial_dir(tmp_path) / "k8s" / "manifests.yaml").is_file()
    assert not (trial_dir(tmp_path) / "port-forward.log").exists()  # nothing was forwarded
