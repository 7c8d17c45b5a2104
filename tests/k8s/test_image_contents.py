"""The job images built from a package folder hold every project package their entry points
import: an image that builds but fails with ModuleNotFoundError in the cluster is caught here."""

from __future__ import annotations

import re
import tomllib

import grimp
import pytest

from tests.conftest import ROOT

IMPORT_RULES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = IMPORT_RULES["root_packages"]
# The packages an import contract keeps free of TensorFlow, which these images do not install.
TENSORFLOW_FREE = {
    package
    for contract in IMPORT_RULES["contracts"]
    if "tensorflow" in contract.get("forbidden_modules", ())
    for package in contract["source_modules"]
}
# Dockerfile -> (its own package, the modules its containers run)
IMAGES = {
    "loadtest/Dockerfile": ("loadtest", ["loadtest.locustfile"]),
    "monitoring/Dockerfile": (
        "monitoring",
        ["monitoring.__main__", "monitoring.drift.cli", "monitoring.accuracy.cli"],
    ),
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


@pytest.mark.parametrize("dockerfile", sorted(IMAGES))
def test_the_image_copies_every_package_its_entry_points_import(graph, dockerfile) -> None:
    own, entries = IMAGES[dockerfile]
    needed = {own}
    for entry in entries:
        needed |= {module.split(".")[0] for module in graph.find_upstream_modules(entry)}
    text = (ROOT / dockerfile).read_text()
    copied = set(re.findall(r"^COPY --link --from=(\w+) \. /app/\1/$", text, re.MULTILINE))
    assert f"COPY --link . /app/{own}/" in text
    assert needed - {own} <= copied, f"{dockerfile} lacks {sorted(needed - {own} - copied)}"
    documented = set(re.findall(r"--build-context (\w+)=\1\b", text))
    assert copied <= documented, f"the build command in {dockerfile} lacks {copied - documented}"
    assert needed - {own} <= TENSORFLOW_FREE, "the image has no TensorFlow"
