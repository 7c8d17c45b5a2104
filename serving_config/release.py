"""The TF Serving release this bundle targets: one file, read by everything that depends on it.

`tfserving_release.txt` holds one version, e.g. `2.21.0`. The serving image
(`tensorflow/serving:<release>`, `-gpu` for GPUs), the TensorFlow the models are exported
with (the same minor release: TF Serving is built on the TensorFlow of its own version) and
the op registry that `python -m export check-serving` reads all follow it.
`python -m deploy_checks release` checks the files that repeat it; `... release set X.Y.Z`
rewrites them.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "IMAGE_REPOSITORY",
    "RELEASE_FILE",
    "ReleaseError",
    "parse_release",
    "serving_image",
    "target_release",
    "tensorflow_requirement",
]

RELEASE_FILE = Path(__file__).with_name("tfserving_release.txt")
IMAGE_REPOSITORY = "tensorflow/serving"
_RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class ReleaseError(ValueError):
    """A release string that is not MAJOR.MINOR.PATCH."""


def parse_release(text: str) -> tuple[int, int, int]:
    """MAJOR.MINOR.PATCH as numbers.

    Raises:
        ReleaseError: when text is not three dot-separated numbers.
    """
    match = _RELEASE.match(text.strip())
    if not match:
        raise ReleaseError(f"{text.strip()!r} is not a TF Serving release (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def target_release(path: Path = RELEASE_FILE) -> str:
    """The release in tfserving_release.txt, e.g. "2.21.0".

    Raises:
        ReleaseError: when the file does not hold one MAJOR.MINOR.PATCH line.
        OSError: when it cannot be read.
    """
    text = path.read_text().strip()
    parse_release(text)
    return text


def serving_image(release: str, gpu: bool = False) -> str:
    """The stock image of a release: tensorflow/serving:2.21.0 (or 2.21.0-gpu)."""
    return f"{IMAGE_REPOSITORY}:{release}{'-gpu' if gpu else ''}"


def tensorflow_requirement(release: str, package: str = "tensorflow") -> str:
    """The pip requirement that keeps exports on the release's TensorFlow minor version."""
    major, minor, _ = parse_release(release)
    return f"{package}>={major}.{minor},<{major}.{minor + 1}"
