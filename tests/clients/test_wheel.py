"""The tfserving-client wheel: clients/ and the packages it imports (wire/, requestlog/), four
runtime dependencies, works without TensorFlow."""

from __future__ import annotations

import email.parser
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.serverproc import free_port
from tests.support.no_tensorflow import BLOCK_TENSORFLOW

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
DIST_INFO = f"tfserving_client-{VERSION}.dist-info"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("client-wheel")
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "client" / "build.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path == out / f"tfserving_client-{VERSION}-py3-none-any.whl"
    return path


def read_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        return email.parser.Parser().parsestr(archive.read(f"{DIST_INFO}/METADATA").decode())


def test_metadata_names_exactly_the_four_runtime_dependencies(wheel) -> None:
    metadata = read_metadata(wheel)
    assert metadata["Name"] == "tfserving-client"
    assert metadata["Version"] == VERSION
    assert metadata["Requires-Python"] == ">=3.10"
    requirements = metadata.get_all("Requires-Dist")
    names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in requirements}
    assert names == {"grpcio", "protobuf", "numpy", "requests"}
    assert len(requirements) == 4
    for requirement in requirements:  # a compatible range: a floor and a major-version cap
        assert ">=" in requirement and "<" in requirement.replace("<=", ""), requirement
        assert ";" not in requirement, f"{requirement} is conditional (an extra or a marker)"
    assert metadata.get_all("Provides-Extra") is None  # no optional TensorFlow either


PACKAGES = ("clients", "wire", "requestlog")


def test_wheel_holds_only_the_clients_packages(wheel) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(f"{DIST_INFO}/entry_points.txt").decode()
    package = [n for n in names if not n.startswith(f"{DIST_INFO}/")]
    assert package and all(n.split("/")[0] in PACKAGES for n in package), package
    assert all(n.endswith(".py") for n in package), "data files or bytecode in the wheel"
    sources = {p.relative_to(ROOT).as_posix() for d in PACKAGES for p in ROOT.glob(f"{d}/**/*.py")}
    assert set(package) == sources
    assert "tfserving-client = clients.__main__:main" in entry_points


SCRIPT = (
    BLOCK_TENSORFLOW
    + """
import json, pkgutil
import clients, requestlog, wire
from clients import GrpcClient, RestClient
from clients.__main__ import main

modules = [
    m.name
    for package in (clients, wire, requestlog)
    for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
]
for name in modules:
    __import__(name)
with GrpcClient("127.0.0.1:1") as grpc_client, RestClient("http://127.0.0.1:1") as rest_client:
    built = [type(grpc_client).__name__, type(rest_client).__name__]
exit_status = main(["status", "--model", "m", "--target", sys.argv[1], "--timeout", "1"])
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in {"tensorflow", "tensorflow_serving"})
result = {"file": clients.__file__, "modules": modules, "built": built, "exit": exit_status}
print(json.dumps({**result, "loaded": loaded}))
"""
)


def test_installed_wheel_works_without_tensorflow(wheel, tmp_path) -> None:
    target, elsewhere = tmp_path / "site", tmp_path / "cwd"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True,
        timeout=120,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    dead = f"127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), dead],
        cwd=elsewhere,  # not the repository, whose clients/ would be imported instead
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).is_relative_to(target)
    assert {
        "clients.grpc_client",
        "clients.cli.commands",
        "wire.protos",
        "requestlog.writer",
    } <= set(result["modules"])
    assert result["built"] == ["GrpcClient", "RestClient"]
    assert result["exit"] == 1  # the CLI ran and reported the missing server
    assert "error: ServerUnavailableError" in done.stderr
    assert result["loaded"] == []
