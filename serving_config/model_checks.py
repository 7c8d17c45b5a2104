"""Checks on a parsed ModelServerConfig: what TF Serving refuses at startup, and what it cannot serve."""

from __future__ import annotations

from pathlib import Path

from tensorflow_serving.config.model_server_config_pb2 import ModelConfig, ModelServerConfig

from serving_config.startup_rules import PLATFORM, Refusal, refusals
from serving_config.text_tree import Finding, TextNode, line_of
from serving_config.versions import (
    CONTAINER_MODELS_ROOT,
    describe_policy,
    find_versions,
    resolve_base_path,
    served_versions,
)


def check_model_server_config(
    config: ModelServerConfig, tree: TextNode, models_root: Path
) -> list[Finding]:
    """Return what is wrong with config; tree is the same text's field tree, for line numbers."""
    findings: list[Finding] = []
    refused = refusals(config)
    for refusal in refused:
        if refusal.model is None:  # custom_model_config: the config as a whole
            findings.append(
                (
                    line_of(tree, refusal.field),
                    "custom_model_config is not supported: tensorflow_model_server stops with "
                    f'"{refusal.message}"; use model_config_list',
                )
            )
    nodes = [node for block in tree.all("model_config_list") for node in block.all("config")]
    first_lines: dict[str, int] = {}
    for index, model in enumerate(config.model_config_list.config):
        node = nodes[index] if index < len(nodes) else None
        own = [refusal for refusal in refused if refusal.model == index]
        findings.extend(_check_identity(model, node, own, first_lines))
        findings.extend(_check_versions(model, node, models_root))
    return findings


def _check_identity(
    model: ModelConfig,
    node: TextNode | None,
    refused: list[Refusal],
    first_lines: dict[str, int],
) -> list[Finding]:
    """What TF Serving's ServerCore refuses at startup (serving_config.startup_rules) in this
    model's entry, each at its line and with advice; and a model without a name."""
    findings: list[Finding] = []
    name_line = line_of(node, "name")
    who = f'model "{model.name}"' if model.name else "model with no name"
    if not model.name:
        findings.append((line_of(node), "model has no name"))
    elif model.name not in first_lines:
        first_lines[model.name] = name_line
    for refusal in refused:
        line = line_of(node, refusal.field)
        if refusal.rule == "duplicate-name" and not model.name:
            continue  # "model has no name" says it
        if refusal.rule == "duplicate-name":
            message = (
                f"{who} is listed more than once (first at line {first_lines[model.name]}); "
                "TF Serving refuses the whole config"
            )
        elif refusal.rule == "relative-base-path" and not model.base_path:
            line, message = name_line, f"{who}: base_path is missing"
        elif refusal.rule == "relative-base-path":
            message = (
                f'{who}: base_path "{model.base_path}" is not absolute; '
                "TF Serving needs an absolute path or a URI"
            )
        elif refusal.rule == "no-platform":
            message = f'{who}: model_platform is missing; set it to "{PLATFORM}"'
        elif refusal.rule == "unknown-platform":
            message = (
                f'{who}: model_platform "{model.model_platform}" is not "{PLATFORM}", '
                "the only platform tensorflow_model_server registers"
            )
        else:  # logging-config
            message = (
                f"{who}: logging_config is not supported by the open-source "
                f'tensorflow_model_server, which fails to start with "{refusal.message}"; '
                "remove it"
            )
        findings.append((line, message))
    return findings


def _check_versions(model: ModelConfig, node: TextNode | None, models_root: Path) -> list[Finding]:
    """Version folders on disk, the version policy, and the labels that point into them."""
    if not model.base_path.startswith("/"):
        return []  # Relative paths are reported above; URIs cannot be listed from here.
    who = f'model "{model.name}"'
    path_line = line_of(node, "base_path")
    folder = resolve_base_path(model.base_path, models_root)
    where = f'base_path "{model.base_path}"'
    if folder != Path(model.base_path):
        where += f" (looked in {folder})"
    try:
        versions = find_versions(folder)
    except FileNotFoundError:
        under_root = model.base_path.startswith(CONTAINER_MODELS_ROOT + "/")
        hint = "; export the model or pass --models-root" if under_root else ""
        return [(path_line, f"{who}: {where} does not exist{hint}")]
    except NotADirectoryError:
        return [(path_line, f"{who}: {where} is not a folder")]
    if not versions:
        return [
            (
                path_line,
                f"{who}: {where} has no version folder; TF Serving loads only children "
                "named by a non-negative integer (eg. '/1/')",
            )
        ]
    policy = model.model_version_policy
    served = served_versions(policy, versions)
    on_disk = ", ".join(map(str, versions))
    findings: list[Finding] = []
    if not served:
        findings.append(
            (
                line_of(node, "model_version_policy"),
                f"{who}: version policy {describe_policy(policy)} selects none of the versions "
                f"on disk ({on_disk}); TF Serving would wait for one forever",
            )
        )
    label_nodes = {n.value_of("key"): n for n in (node.all("version_labels") if node else [])}
    for label, version in model.version_labels.items():
        line = line_of(label_nodes.get(label) or node)
        target = f'{who}: label "{label}" points at version {version}'
        if version not in versions:
            findings.append((line, f"{target}, which is not in {folder} (found: {on_disk})"))
        elif version not in served:
            findings.append(
                (line, f"{target}, which version policy {describe_policy(policy)} does not serve")
            )
    return sorted(findings)
