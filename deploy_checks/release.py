"""Every file that repeats the target TF Serving release must agree with tfserving_release.txt.

The image tags (Dockerfile, k8s base, CronJobs, GPU overlay, docs) and the TensorFlow pins
in pyproject.toml are written out in full so each file reads on its own; this module finds
every such mention, reports the ones that disagree, and rewrites them all to a new release.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from deploy_checks.layout import ROOT
from serving_config.release import parse_release, target_release

__all__ = ["Mention", "disagreements", "mentions", "set_release"]

# Build output, environments, exported models and the tests (which name other releases on
# purpose) are not the project's statements of its release.
_SKIPPED_DIRS = {"build", "models", "reports", "dist", "tests", "node_modules"}
_SCANNED_SUFFIXES = {".md", ".yaml", ".yml", ".toml", ".py", ".txt", ""}


def _minor(release: str) -> str:
    major, minor, _ = parse_release(release)
    return f"{major}.{minor}"


def _next_minor(release: str) -> str:
    major, minor, _ = parse_release(release)
    return f"{major}.{minor + 1}"


@dataclass(frozen=True)
class _Pattern:
    """A way a file states the release, and what it should say for a given release."""

    regex: re.Pattern[str]
    expected: Callable[[str], str]


_PATTERNS = (
    # the image, CPU or GPU: tensorflow/serving, a colon, then X.Y.Z or X.Y.Z-gpu
    _Pattern(re.compile(r"tensorflow/serving:(\d+\.\d+\.\d+)"), lambda r: r),
    # the GPU tag on its own (the GPU overlay's newTag, the docs): X.Y.Z-gpu
    _Pattern(re.compile(r"\b(\d+\.\d+\.\d+)-gpu\b"), lambda r: r),
    # pyproject.toml's pins of tensorflow and tensorflow-serving-api to the release's minor
    _Pattern(re.compile(r'"tensorflow(?:-serving-api)?>=(\d+\.\d+),'), _minor),
    _Pattern(re.compile(r'"tensorflow(?:-serving-api)?>=\d+\.\d+,<(\d+\.\d+)"'), _next_minor),
)


@dataclass(frozen=True)
class Mention:
    """One statement of the release in a file: where, what it says, what it should say."""

    path: Path
    line: int
    found: str
    expected: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: says {self.found}, tfserving_release.txt makes it {self.expected}"


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.is_dir():
            hidden = path.name.startswith(".") or path.name.endswith(".egg-info")
            if path.name not in _SKIPPED_DIRS and not hidden:
                yield from _files(path)
        elif path.suffix in _SCANNED_SUFFIXES or path.name == "Dockerfile":
            yield path


def mentions(root: Path = ROOT, release: str | None = None) -> list[Mention]:
    """Every statement of the release under root, each with the value the release file gives."""
    release = release or target_release()
    found = []
    for path in _files(root):
        try:
            lines = path.read_text().splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for number, text in enumerate(lines, 1):
            for pattern in _PATTERNS:
                for match in pattern.regex.finditer(text):
                    found.append(
                        Mention(
                            path.relative_to(root),
                            number,
                            match.group(1),
                            pattern.expected(release),
                        )
                    )
    return found


def disagreements(root: Path = ROOT, release: str | None = None) -> list[Mention]:
    """The mentions that do not say what the release file says."""
    return [m for m in mentions(root, release) if m.found != m.expected]


def _replaced(match: re.Match[str], value: str) -> str:
    """The matched text with its version group (only) replaced by value."""
    start, end = match.start(1) - match.start(0), match.end(1) - match.start(0)
    return match.group(0)[:start] + value + match.group(0)[end:]


def set_release(new: str, root: Path = ROOT) -> list[Path]:
    """Rewrite the release file and every mention to `new`; returns the files changed.

    Raises:
        ReleaseError: when new is not MAJOR.MINOR.PATCH.
    """
    parse_release(new)
    changed = []
    for path in {m.path for m in mentions(root, new) if m.found != m.expected}:
        text = (root / path).read_text()
        for pattern in _PATTERNS:
            text = pattern.regex.sub(partial(_replaced, value=pattern.expected(new)), text)
        (root / path).write_text(text)
        changed.append(path)
    release_file = root / "serving_config" / "tfserving_release.txt"
    release_file.write_text(new + "\n")
    return sorted(changed) + [release_file.relative_to(root)]
