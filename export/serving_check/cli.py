"""`python -m export check-serving PATH...`: can the target TF Serving release load and answer
these versions as exported? A PATH is a version, a model folder (its every version) or a
models root (every model's every version). Exits 1 when any is refused, 2 on bad usage."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from exported import find_card, list_versions

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    """The check-serving subcommand, on `python -m export`'s subparsers."""
    parser = sub.add_parser(
        "check-serving",
        help="check versions load and answer in the target TF Serving release's TensorFlow",
        description=__doc__,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument(
        "--tf-serving-version",
        metavar="X.Y.Z",
        help="the release to check against (default: serving_config/tfserving_release.txt)",
    )
    parser.add_argument(
        "--static-only",
        action="store_true",
        help="only compare ops and attrs with the release's op registry (no TensorFlow run)",
    )


def version_dirs(path: Path) -> list[Path]:
    """The versions `path` stands for: itself, a model's versions, or a root's models'.

    Raises:
        ValueError: it holds no exported version.
    """
    if (path / "saved_model.pb").is_file():
        return [path]
    found = [path / str(v) for v in list_versions(path)]
    if not found and path.is_dir():
        for model in sorted(p for p in path.iterdir() if p.is_dir()):
            found.extend(model / str(v) for v in list_versions(model))
    found = [p for p in found if (p / "saved_model.pb").is_file()]
    if not found:
        raise ValueError(f"{path} is not a version, a model folder or a models root")
    return found


def _versions(count: int) -> str:
    return f"{count} version{'' if count == 1 else 's'}"


def _exported_with(version_dir: Path) -> str:
    card = find_card(version_dir)
    versions = card.data.get("exported_with", {}) if card else {}
    return f"TensorFlow {versions.get('tensorflow', 'not recorded')}"


def run(args: argparse.Namespace) -> int:
    """Check every version the paths name; print each verdict and a summary."""
    logging.getLogger("tensorflow").setLevel(logging.WARNING)  # not each restore it runs
    from export.op_registry import RegistryMissingError, load_registry
    from export.serving_check.envs import ServingEnvError
    from export.serving_check.static import static_check
    from serving_config.release import ReleaseError, serving_image, target_release

    try:
        release = args.tf_serving_version or target_release()
        registry = load_registry(release)
        versions = [v for path in args.paths for v in version_dirs(path)]
    except (RegistryMissingError, ReleaseError, ValueError, OSError) as err:
        print(f"check-serving: {err}")
        return 2
    image = serving_image(release)
    print(f"checking {_versions(len(versions))} against {image} (op registry of {release})")
    started = time.perf_counter()
    problems = {v: [r.message for r in static_check(v, registry)] for v in versions}
    kind = "static"
    if not args.static_only:
        try:
            dynamic = _dynamic(versions, release)
        except (ServingEnvError, RuntimeError, OSError) as err:
            print(f"check-serving: the dynamic check could not run: {err}")
            return 2
        for version_dir, found in dynamic.items():
            problems[version_dir].extend(found)
        kind = "static and dynamic"
    for version_dir, found in problems.items():
        verdict = "REFUSED" if found else "ok"
        print(f"{version_dir}: {verdict} ({kind}; exported with {_exported_with(version_dir)})")
        for problem in found:
            print(f"  - {problem}")
    refused = sum(bool(found) for found in problems.values())
    seconds = time.perf_counter() - started
    print(
        f"{len(versions) - refused} of {len(versions)} versions pass for {image} ({seconds:.1f}s)"
    )
    return 1 if refused else 0


def _dynamic(versions: list[Path], release: str) -> dict[Path, list[str]]:
    """Each version's problems in `release`'s TensorFlow (built once into a cached env)."""
    from export.serving_check.envs import env_dir, installed_tensorflow, tensorflow_python
    from export.serving_check.runs import Run, dynamic_check, planned_runs

    found: dict[Path, list[str]] = {v: [] for v in versions}
    plans: dict[Path, list[Run]] = {}
    for version_dir in versions:
        try:
            plans[version_dir] = planned_runs(version_dir)
        except Exception as err:  # the version fails here too: that is its verdict
            lines = str(err).strip().splitlines() or [""]
            found[version_dir].append(
                f"does not load or answer in this environment either: {type(err).__name__}:"
                f" {lines[0]}"
            )
    where = (
        "this environment's own"
        if installed_tensorflow() == release
        else f"an env of its own, {env_dir(release)}, built on first use"
    )
    print(f"running {_versions(len(plans))} in TensorFlow {release} ({where})")
    for version_dir, result in dynamic_check(plans, tensorflow_python(release)).items():
        log.info(
            "%s: %d requests replayed in TensorFlow %s", version_dir, result.runs, result.tensorflow
        )
        found[version_dir].extend(
            f"in TensorFlow {result.tensorflow}: {p}" for p in result.problems
        )
    return found
