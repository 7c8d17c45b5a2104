"""The programs the checks run (kubectl, promtool, prometheus) and how to get them."""

from __future__ import annotations

import os
import shutil

_HOW_TO_GET = {
    "kubectl": "install kubectl 1.27 or newer (it bundles kustomize v5)",
    "promtool": "run `make system-deps` (installs Debian's prometheus package)",
    "prometheus": "run `make system-deps` (installs Debian's prometheus package)",
}


class ToolMissing(RuntimeError):
    """A program the checks need is not installed; the message says how to install it."""


def find_tool(name: str) -> str:
    """Return the path of program name; $KUBECTL, $PROMTOOL or $PROMETHEUS override PATH.

    Raises:
        ToolMissing: the program is neither named by its variable nor on PATH.
    """
    path = shutil.which(os.environ.get(name.upper()) or name)
    if not path:
        raise ToolMissing(f"{name} not found on PATH: {_HOW_TO_GET.get(name, 'install it')}")
    return path
