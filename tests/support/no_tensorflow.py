"""The start of a script run in a fresh interpreter where importing TensorFlow fails: what a
service that installed only the client has."""

from __future__ import annotations

BLOCK_TENSORFLOW = """
import sys


class BlockTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"tensorflow", "tensorflow_serving"}:
            raise ImportError(f"blocked: {name}")
        return None


sys.meta_path.insert(0, BlockTensorFlow())
for blocked in ("tensorflow", "tensorflow_serving.apis"):
    try:
        __import__(blocked)
    except ImportError:
        pass
    else:
        raise SystemExit(f"the blocker let {blocked} in")
"""
