"""The checker rejects each kind of models.config mistake at the right line, and only those."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving_config import check_file, check_text
from tests.serving_config.conftest import make_models_root

_GOOD = 'name: "tabular" base_path: "/models/tabular" model_platform: "tensorflow"'


def _config(*models: str) -> str:
    """A ModelServerConfig with one `config` block per argument, each opening on its own line."""
    blocks = "".join(f"  config {{\n{body}\n  }}\n" for body in models)
    return f"model_config_list {{\n{blocks}}}\n"


def _model(name: str, *extra: str, base: str | None = None) -> str:
    base_path = base if base is not None else f"/models/{name}"
    lines = [f'name: "{name}"', f'base_path: "{base_path}"', 'model_platform: "tensorflow"']
    return "\n".join(f"    {line}" for line in [*lines, *extra])


BAD_CONFIGS = [
    pytest.param(
        _config(_model("tabular")) + "model_config_lst {\n}\n",
        # Line 1 model_config_list, 2 config, 3-5 fields, 6-7 closing braces, 8 the typo.
        8,
        [
            'unknown field "model_config_lst" in tensorflow.serving.ModelServerConfig',
            'did you mean "model_config_list"',
        ],
        id="unknown-top-level-field",
    ),
    pytest.param(
        _config(_model("tabular", 'base_pth: "/x"')),
        6,
        ['unknown field "base_pth" in tensorflow.serving.ModelConfig', '"base_path"'],
        id="unknown-model-field",
    ),
    pytest.param(
        # The closing brace of model_config_list is missing; protobuf reports the last token.
        _config(_model("tabular")).rstrip().rstrip("}"),
        6,
        ["syntax error", 'Expected "}"'],
        id="syntax-unclosed-block",
    ),
    pytest.param(
        _config(_model("tabular"), _model("digits"), _model("tabular")),
        # Each block takes 5 lines from line 2: the third opens at 12, its name is at 13.
        13,
        ['model "tabular" is listed more than once (first at line 3)'],
        id="duplicate-name",
    ),
    pytest.param(
        _config(_model("tabular", base="models/tabular")),
        4,
        ['base_path "models/tabular" is not absolute'],
        id="relative-base-path",
    ),
    pytest.param(
        _config('    name: "tabular"\n    base_path: "/models/tabular"'),
        3,
        ['model "tabular": model_platform is missing'],
        id="missing-platform",
    ),
    pytest.param(
        _config(_model("tabular").replace('"tensorflow"', '"tflite"')),
        5,
        ['model_platform "tflite" is not "tensorflow"'],
        id="wrong-platform",
    ),
    pytest.param(
        _config(_model("missing")),
        4,
        ['base_path "/models/missing"', "does not exist", "missing"],
        id="base-path-does-not-exist",
    ),
    pytest.param(
        _config(_model("unversioned")),
        4,
        ["has no version folder", "non-negative integer"],
        id="no-numeric-version-folder",
    ),
    pytest.param(
        _config(_model("tabular", "version_labels {", '  key: "next"', "  value: 7", "}")),
        6,
        ['label "next" points at version 7', "found: 1, 2"],
        id="label-version-not-on-disk",
    ),
    pytest.param(
        _config(_model("tabular", 'version_labels { key: "a" value: 1 }')),
        6,
        ['label "a" points at version 1', "latest { num_versions: 1 } (the default)"],
        id="label-excluded-by-default-latest",
    ),
    pytest.param(
        _config(
            _model(
                "tabular",
                "model_version_policy { specific { versions: 2 } }",
                'version_labels { key: "stable" value: 1 }',
            )
        ),
        7,
        ['label "stable" points at version 1', "specific { versions: 2 }", "does not serve"],
        id="label-excluded-by-specific",
    ),
    pytest.param(
        _config(
            _model(
                "tabular",
                "model_version_policy { latest { num_versions: 1 } }",
                'version_labels { key: "old" value: 1 }',
            )
        ),
        7,
        ['label "old" points at version 1', "latest { num_versions: 1 }", "does not serve"],
        id="label-excluded-by-latest",
    ),
    pytest.param(
        _config(_model("tabular", "model_version_policy { specific { versions: 9 } }")),
        6,
        ["selects none of the versions on disk (1, 2)"],
        id="policy-selects-nothing",
    ),
    pytest.param(
        _config(
            _model("tabular", "logging_config {", "  sampling_config { sampling_rate: 1 }", "}")
        ),
        6,
        ["logging_config is not supported", "No request-logger-creator provided"],
        id="logging-config",
    ),
    pytest.param(
        "# a comment\ncustom_model_config {\n}\n",
        2,
        ["custom_model_config is not supported"],
        id="custom-model-config",
    ),
    pytest.param(
        _config('    base_path: "/models/tabular"\n    model_platform: "tensorflow"'),
        2,
        ["model has no name"],
        id="missing-name",
    ),
]


@pytest.fixture
def root(models_root: Path) -> Path:
    """The shipped layout plus a model folder whose children are not versions."""
    unversioned = models_root / "unversioned"
    (unversioned / "v1").mkdir(parents=True)
    (unversioned / "latest").mkdir()
    (unversioned / "2").write_text("a file, not a SavedModel folder")
    return models_root


@pytest.mark.parametrize(("text", "line", "fragments"), BAD_CONFIGS)
def test_bad_config_is_reported_at_its_line(
    text: str, line: int, fragments: list[str], root: Path
) -> None:
    problems = check_text(text, "models", file="models.config", models_root=root)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line) == ("models.config", line), str(problem)
    for fragment in fragments:
        assert fragment in problem.message
    assert str(problem).startswith(f"models.config:{line}: ")


GOOD_CONFIGS = [
    pytest.param(_config(_model("tabular")), id="minimal"),
    pytest.param(
        _config(
            _model(
                "tabular", "model_version_policy { all {} }", 'version_labels { key: "a" value: 1 }'
            )
        ),
        id="label-under-all",
    ),
    pytest.param(
        _config(
            _model(
                "tabular",
                "model_version_policy { latest { num_versions: 2 } }",
                'version_labels { key: "a" value: 1 }',
            )
        ),
        id="label-under-latest-two",
    ),
    pytest.param(
        _config(_model("padded", 'version_labels { key: "a" value: 2 }')),
        id="zero-padded-version-folder",
    ),
    pytest.param(_config(_model("cloud", base="gs://bucket/cloud")), id="uri-base-path"),
    pytest.param("", id="empty-config"),
]


@pytest.mark.parametrize("text", GOOD_CONFIGS)
def test_good_config_has_no_problems(text: str, root: Path) -> None:
    make_models_root(root, {"padded": ()})
    (root / "padded" / "00000002").mkdir(parents=True)
    assert check_text(text, "models", models_root=root) == []


def test_absolute_base_paths_outside_models_are_used_as_they_are(tmp_path: Path) -> None:
    model_dir = make_models_root(tmp_path / "elsewhere", {"m": (4,)}) / "m"
    text = _config(_model("m", base=str(model_dir)))
    assert check_text(text, "models", models_root=tmp_path / "no-such-root") == []


def test_every_problem_in_a_file_is_reported(root: Path) -> None:
    text = _config(_model("tabular", base="rel"), _model("tabular").replace("tensorflow", "x"))
    messages = [problem.message for problem in check_text(text, "models", models_root=root)]
    assert len(messages) == 3, messages


def test_check_file_names_an_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "models.config"
    [problem] = check_file(missing)
    assert problem.file == str(missing)
    assert "cannot read" in problem.message


def test_check_file_asks_for_a_kind_it_cannot_infer(tmp_path: Path) -> None:
    path = tmp_path / "serving.txt"
    path.write_text("")
    [problem] = check_file(path)
    assert "--kind" in problem.message
    assert check_file(path, kind="ssl") == []
