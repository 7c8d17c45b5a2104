"""read_text_tree finds the line of each field whatever the text proto's layout."""

from __future__ import annotations

from serving_config.text_tree import line_of, read_text_tree

TEXT = """\
# name: "commented" { not a field
model_config_list <
  config {
    name: 'with \\'quotes\\' and { braces }'  # trailing comment }
    base_path: "/a" "/b"
    version_labels { key: "x" value: 1 };
    version_labels: { key: "y", value: 2 }
  }
  config { name: "second" }
>
[type.googleapis.com/pkg.Msg] { v: 1 }
sizes: [1,
  2]
"""


def test_fields_sit_on_their_lines_and_values_are_decoded() -> None:
    tree = read_text_tree(TEXT)
    [block] = tree.all("model_config_list")
    first, second = block.all("config")
    assert (block.line, first.line, second.line) == (2, 3, 9)
    assert first.first("name").value == "with 'quotes' and { braces }"
    assert first.value_of("base_path") == "/a/b"
    labels = first.all("version_labels")
    assert [(label.line, label.value_of("key")) for label in labels] == [(6, "x"), (7, "y")]
    assert second.value_of("name") == "second"


def test_any_expansions_and_list_elements_get_their_own_lines() -> None:
    tree = read_text_tree(TEXT)
    assert line_of(tree, "[type.googleapis.com/pkg.Msg]", "v") == 11
    assert [(node.line, node.value) for node in tree.all("sizes")] == [(12, "1"), (13, "2")]


def test_line_of_falls_back_to_the_nearest_known_field() -> None:
    tree = read_text_tree(TEXT)
    assert line_of(tree, "model_config_list", "missing") == 2
    assert line_of(None, "anything") == 1
