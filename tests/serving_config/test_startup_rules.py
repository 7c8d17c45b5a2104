"""TF Serving's start-up refusals, the one list the server and the checker both read."""

from __future__ import annotations

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving_config.startup_rules import refusals


def _config(text: str) -> model_server_config_pb2.ModelServerConfig:
    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


def test_every_refusal_in_tf_servings_order_with_its_code_and_message() -> None:
    config = _config(
        """
        model_config_list {
          config { name: "a" base_path: "/m/a" model_platform: "tensorflow" }
          config { name: "a" base_path: "m/a" model_platform: "tflite" }
          config { name: "b" base_path: "s3://bucket/b"
                   logging_config { sampling_config { sampling_rate: 1 } } }
        }
        """
    )
    found = [(r.rule, r.code, r.model, r.field) for r in refusals(config)]
    assert found == [
        ("duplicate-name", "INVALID_ARGUMENT", 1, "name"),
        ("relative-base-path", "INVALID_ARGUMENT", 1, "base_path"),
        ("unknown-platform", "NOT_FOUND", 1, "model_platform"),
        ("no-platform", "INVALID_ARGUMENT", 2, "name"),
        ("logging-config", "INVALID_ARGUMENT", 2, "logging_config"),
    ]
    messages = [r.message for r in refusals(config)]
    assert messages[0] == "Illegal to list model a multiple times in config list"
    assert messages[1] == "Expected model a to have an absolute path or URI; got base_path()=m/a"
    assert messages[2] == "Model a requested unsupported platform tflite"
    assert messages[4] == "No request-logger-creator provided."


def test_the_request_logging_extension_allows_logging_config() -> None:
    config = _config(
        'model_config_list { config { name: "b" base_path: "/m/b" model_platform: "tensorflow"'
        " logging_config { sampling_config { sampling_rate: 1 } } } }"
    )
    assert [r.rule for r in refusals(config)] == ["logging-config"]
    assert refusals(config, request_logging=True) == []


def test_custom_model_config_is_refused_as_a_whole() -> None:
    (refusal,) = refusals(_config("custom_model_config {}"))
    assert (refusal.code, refusal.model) == ("UNIMPLEMENTED", None)
    assert refusal.message == "ModelServer does not yet support custom model config."
