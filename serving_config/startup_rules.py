"""What TF Serving refuses in a ModelServerConfig before it loads any model (at start-up and on
a reload alike), each with the status code and message TF Serving answers with.

One home for these rules: the embedded server refuses a config with the first refusal, the
checker (`python -m serving_config check`) reports every one at its line, with advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PLATFORM", "Refusal", "refusals"]

# The only platform tensorflow_model_server registers.
PLATFORM = "tensorflow"


@dataclass(frozen=True)
class Refusal:
    """One reason TF Serving refuses a config.

    rule names the check ("custom-model-config", "duplicate-name", "relative-base-path",
    "no-platform", "unknown-platform", "logging-config"); code is the canonical status code's
    name; model is the model's position in model_config_list (None: the config as a whole);
    field is the field at fault.
    """

    rule: str
    code: str
    message: str
    model: int | None
    field: str


def refusals(config: Any, *, request_logging: bool = False) -> list[Refusal]:
    """Every refusal of config (a ModelServerConfig), in the order TF Serving checks them.

    A logging_config is refused unless request_logging (the embedded server's extension) is on:
    the open-source tensorflow_model_server has no request logger.
    """
    if config.WhichOneof("config") == "custom_model_config":
        message = "ModelServer does not yet support custom model config."
        return [
            Refusal("custom-model-config", "UNIMPLEMENTED", message, None, "custom_model_config")
        ]
    found: list[Refusal] = []
    seen: set[str] = set()
    for index, entry in enumerate(config.model_config_list.config):
        name = entry.name
        if name in seen:
            message = f"Illegal to list model {name} multiple times in config list"
            found.append(Refusal("duplicate-name", "INVALID_ARGUMENT", message, index, "name"))
        seen.add(name)
        if not (entry.base_path.startswith("/") or "://" in entry.base_path):
            message = (
                f"Expected model {name} to have an absolute path or URI; "
                f"got base_path()={entry.base_path}"
            )
            found.append(
                Refusal("relative-base-path", "INVALID_ARGUMENT", message, index, "base_path")
            )
        if not entry.model_platform:
            message = (
                "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
                f"ModelServerConfig::model_platform, model name is {name}"
            )
            found.append(Refusal("no-platform", "INVALID_ARGUMENT", message, index, "name"))
        elif entry.model_platform != PLATFORM:
            message = f"Model {name} requested unsupported platform {entry.model_platform}"
            found.append(Refusal("unknown-platform", "NOT_FOUND", message, index, "model_platform"))
        if entry.HasField("logging_config") and not request_logging:
            # As TF Serving's open-source build, which supplies no request-logger creator.
            message = "No request-logger-creator provided."
            found.append(
                Refusal("logging-config", "INVALID_ARGUMENT", message, index, "logging_config")
            )
    return found
