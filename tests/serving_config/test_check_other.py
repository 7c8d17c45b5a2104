"""Batching, monitoring and SSL configs: the checker's rules, and how it tells the kinds apart."""

from __future__ import annotations

import pytest

from serving_config import check_text
from serving_config.check import infer_kind

BAD_BATCHING = [
    pytest.param(
        "max_batch_size { value: 32 }\nallowed_batch_sizes: [4, 16,\n  8, 32]\n",
        3,
        ["strictly increasing", "8 follows 16"],
        id="sizes-decreasing",
    ),
    pytest.param(
        "max_batch_size { value: 8 }\nallowed_batch_sizes: 4\nallowed_batch_sizes: 4\n"
        "allowed_batch_sizes: 8\n",
        3,
        ["strictly increasing", "4 follows 4"],
        id="sizes-repeated",
    ),
    pytest.param(
        "max_batch_size { value: 32 }\nallowed_batch_sizes: 4\nallowed_batch_sizes: 16\n",
        3,
        ["last allowed_batch_sizes entry 16", "max_batch_size 32"],
        id="last-size-below-max",
    ),
    pytest.param(
        "allowed_batch_sizes: [8, 32]\n",
        1,
        ["entry 32", "default max_batch_size 1000"],
        id="last-size-vs-default-max",
    ),
    pytest.param(
        "max_batch_size { value: 4 }\nallowed_batch_sizes: [-4, 4]\n",
        2,
        ["entry -4 must be positive"],
        id="size-not-positive",
    ),
    pytest.param(
        "# threads\nnum_batch_threads { value: 0 }\n",
        2,
        ["num_batch_threads must be positive; got 0"],
        id="no-threads",
    ),
    pytest.param(
        "max_enqueued_batches {\n  value: -1\n}\n",
        1,
        ["max_enqueued_batches must be positive; got -1"],
        id="negative-queue",
    ),
    pytest.param(
        "batch_timeout_micros { value: -5 }\n",
        1,
        ["batch_timeout_micros must be >= 0"],
        id="negative-timeout",
    ),
    pytest.param(
        "max_batch_size { value: 32 }\nmax_batch_sise { value: 32 }\n",
        2,
        ['unknown field "max_batch_sise"', 'did you mean "max_batch_size"'],
        id="unknown-field",
    ),
    pytest.param(
        "\nmax_batch_size: 32\n",
        2,
        ["syntax error", "max_batch_size { value: 32 }"],
        id="wrapper-written-as-scalar",
    ),
]


@pytest.mark.parametrize(("text", "line", "fragments"), BAD_BATCHING)
def test_bad_batching_parameters_are_reported_at_their_line(
    text: str, line: int, fragments: list[str]
) -> None:
    problems = check_text(text, "batching", file="batching.txt")
    assert len(problems) == 1, problems
    assert problems[0].line == line, str(problems[0])
    for fragment in fragments:
        assert fragment in problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty-means-defaults"),
        pytest.param("batch_timeout_micros { value: 0 }", id="zero-timeout"),
        pytest.param(
            "max_batch_size { value: 16 } allowed_batch_sizes: [2, 16] "
            'thread_pool_name { value: "pool" } enable_large_batch_splitting { value: true } '
            "max_execution_batch_size { value: 16 }",
            id="every-field",
        ),
    ],
)
def test_good_batching_parameters_pass(text: str) -> None:
    assert check_text(text, "batching") == []


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param(
            'prometheus_config {\n  enable: true\n  path: "metrics"\n}\n',
            3,
            'path "metrics" must start with "/"',
            id="relative-path",
        ),
        pytest.param(
            "prometheus_config {\n  enabled: true\n}\n",
            2,
            'unknown field "enabled" in tensorflow.serving.PrometheusConfig',
            id="unknown-field",
        ),
    ],
)
def test_bad_monitoring_config_is_reported(text: str, line: int, fragment: str) -> None:
    [problem] = check_text(text, "monitoring", file="monitoring.config")
    assert (problem.line, fragment in problem.message) == (line, True), str(problem)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("prometheus_config { enable: true }", id="default-path"),
    ],
)
def test_good_monitoring_config_passes(text: str) -> None:
    assert check_text(text, "monitoring") == []


def test_ssl_config_is_checked_against_its_schema() -> None:
    good = 'server_key: "-----BEGIN KEY-----"\nserver_cert: "x"\ncustom_ca: ""\nclient_verify: true'
    assert check_text(good, "ssl") == []
    [problem] = check_text('server_key: "k"\nclient_verfy: true\n', "ssl")
    assert problem.line == 2
    assert 'unknown field "client_verfy" in tensorflow.serving.SSLConfig' in problem.message


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        pytest.param("models.config", "models", id="models"),
        pytest.param("staging_model_config.txt", "models", id="model-config"),
        pytest.param("batching_parameters.txt", "batching", id="batching"),
        pytest.param("monitoring.config", "monitoring", id="monitoring"),
        pytest.param("ssl.pbtxt", "ssl", id="ssl"),
        pytest.param("/etc/Models.Config", "models", id="case-insensitive"),
        pytest.param("server.yaml", None, id="unknown"),
    ],
)
def test_kind_is_inferred_from_the_file_name(name: str, kind: str | None) -> None:
    assert infer_kind(name) == kind
