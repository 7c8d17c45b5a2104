"""Build dist/tfserving_client-VERSION-py3-none-any.whl: the clients package and the TensorFlow-free
packages it stands on (wire, requestlog), nothing else.

    python packaging/client/build.py [--out DIR]

The version and the dependency ranges come from the repository's pyproject.toml (its
[project] dependencies are the client's), which must name exactly the client's four.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import string
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).with_name("pyproject.toml.in")
CLIENT_DEPENDENCIES = frozenset({"grpcio", "protobuf", "numpy", "requests"})
# What the wheel holds: the client and the shared wire and request-log packages it imports.
PACKAGES = ("clients", "wire", "requestlog")


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    return match.group(0).lower().replace("_", "-") if match else requirement


def render_pyproject(project: dict) -> str:
    """The wheel's pyproject.toml, from the repository's [project] table.

    Raises:
        ValueError: if the repository's dependencies are not exactly the client's.
    """
    dependencies = list(project["dependencies"])
    names = {_requirement_name(requirement) for requirement in dependencies}
    if names != CLIENT_DEPENDENCIES or len(dependencies) != len(CLIENT_DEPENDENCIES):
        raise ValueError(
            f"pyproject.toml's dependencies must be the client's {sorted(CLIENT_DEPENDENCIES)} "
            f"(one requirement each), not {dependencies}; server-side needs go in an extra"
        )
    template = string.Template(TEMPLATE.read_text())
    return template.substitute(version=project["version"], dependencies=json.dumps(dependencies))


def _left_out(folder: str, names: list[str]) -> set[str]:
    # clients/cli/examples/ holds the sample inputs `make predict` sends: repository data.
    cli_examples = {"examples"} if Path(folder).name == "cli" else set()
    return {n for n in names if n == "__pycache__" or n.endswith(".pyc")} | cli_examples


def build_wheel(out: Path) -> Path:
    """Build the wheel into out and return its path.

    Raises:
        ValueError: as render_pyproject.
        subprocess.CalledProcessError: if pip fails to build it.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = render_pyproject(project)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tfserving-client-") as staging:
        source = Path(staging)
        (source / "pyproject.toml").write_text(pyproject)
        for package in PACKAGES:
            shutil.copytree(ROOT / package, source / package, ignore=_left_out)
        # No build isolation: setuptools comes from this environment, so no network is needed.
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
        subprocess.run(
            [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
            check=True,
        )
    return out / f"tfserving_client-{project['version']}-py3-none-any.whl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="default: dist/")
    args = parser.parse_args()
    try:
        wheel = build_wheel(args.out.resolve())
    except (ValueError, subprocess.CalledProcessError) as err:
        sys.exit(f"client wheel: {err}")
    print(wheel)  # noqa: T201 (a CLI prints its result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
