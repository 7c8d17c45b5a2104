"""TensorFlow op registries kept as data, one per release: what a TF Serving release can load.

`export/op_registries/tensorflow-<release>.json.gz` holds every op the release registers with
its attrs, written by export/op_registry/dump.py running in that release's own TensorFlow:

    python -m export.op_registry dump [--release X.Y.Z]   (default: the target release)
    python -m export.op_registry diff 2.20.0 2.21.0        (ops and attrs added between two)

Comparing the registries held tells in which release an op or attr first appears.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving_config.release import parse_release

log = logging.getLogger(__name__)

REGISTRY_DIR = Path(__file__).parent.parent / "op_registries"
DUMP_SCRIPT = Path(__file__).with_name("dump.py")
_PREFIX, _SUFFIX = "tensorflow-", ".json.gz"


class RegistryMissingError(LookupError):
    """No registry is held for a release; the message says how to generate it."""


@dataclass(frozen=True)
class OpRegistry:
    """One release's ops: op name -> attr name -> {"type", "default"?, "allowed"?}."""

    release: str
    generated: str
    ops: dict[str, dict[str, dict[str, Any]]]

    def attr(self, op: str, attr: str) -> dict[str, Any] | None:
        return self.ops.get(op, {}).get(attr)


def registry_path(release: str) -> Path:
    return REGISTRY_DIR / f"{_PREFIX}{release}{_SUFFIX}"


def held_releases() -> list[str]:
    """The releases with a registry in REGISTRY_DIR, oldest first."""
    names = (p.name[len(_PREFIX) : -len(_SUFFIX)] for p in REGISTRY_DIR.glob(f"*{_SUFFIX}"))
    return sorted(names, key=parse_release)


@functools.cache
def load_registry(release: str) -> OpRegistry:
    """The held registry of `release`.

    Raises:
        RegistryMissingError: none is held for it.
        ValueError: the file is not a registry of that release.
    """
    path = registry_path(release)
    if not path.is_file():
        raise RegistryMissingError(
            f"no op registry for TensorFlow {release} in {REGISTRY_DIR} (held: "
            f"{', '.join(held_releases()) or 'none'}); generate it with"
            f" `python -m export.op_registry dump --release {release}`"
        )
    data = json.loads(gzip.decompress(path.read_bytes()))
    if data.get("tensorflow_version") != release:
        raise ValueError(f"{path} records TensorFlow {data.get('tensorflow_version')!r}")
    ops = {name: op["attrs"] for name, op in data["ops"].items()}
    return OpRegistry(release, data["generated"], ops)


def first_seen(op: str, attr: str | None = None) -> tuple[str | None, str | None]:
    """(release, oldest held release) where `release` is the oldest held registry with the op
    (or the op's attr); None when no held registry has it."""
    releases = held_releases()
    for release in releases:
        registry = load_registry(release)
        if op in registry.ops and (attr is None or attr in registry.ops[op]):
            return release, releases[0]
    return None, releases[0] if releases else None


def added_between(old: OpRegistry, new: OpRegistry) -> tuple[list[str], list[tuple[str, str]]]:
    """Ops in `new` but not `old`, and (op, attr) pairs new to ops both have."""
    ops = sorted(set(new.ops) - set(old.ops))
    attrs = [
        (op, attr)
        for op in sorted(set(new.ops) & set(old.ops))
        for attr in sorted(set(new.ops[op]) - set(old.ops[op]))
    ]
    return ops, attrs


def dtypes_allowed_between(old: OpRegistry, new: OpRegistry) -> list[tuple[str, str, list[str]]]:
    """(op, attr, dtypes) where `new` lets an attr both have take dtypes `old` refuses."""
    widened = []
    for op in sorted(set(new.ops) & set(old.ops)):
        for attr in sorted(set(new.ops[op]) & set(old.ops[op])):
            before = old.ops[op][attr].get("allowed")
            after = new.ops[op][attr].get("allowed")
            if before and (not after or set(after) - set(before)):
                widened.append((op, attr, sorted(set(after or ["any"]) - set(before))))
    return widened


def dump(release: str) -> Path:
    """Write `release`'s registry by running the dump script in that release's TensorFlow.

    Raises:
        ServingEnvError: the release's env could not be built.
        RuntimeError: the dump script failed.
    """
    from export.serving_check.envs import run_quietly, tensorflow_python

    python = tensorflow_python(release)
    REGISTRY_DIR.mkdir(exist_ok=True)
    target = registry_path(release)
    partial = target.with_name(f".{target.name}.partial")
    done = run_quietly([str(python), str(DUMP_SCRIPT), str(partial)])
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{DUMP_SCRIPT} failed in {python}: {done.stderr[-2000:]}")
    log.info("%s", done.stdout.strip())
    partial.rename(target)
    load_registry.cache_clear()
    load_registry(release)  # refuses a file of another release
    return target
