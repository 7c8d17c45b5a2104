"""Run an exported version's SavedModel in process (TensorFlow), batch by batch."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

__all__ = ["SavedModelError", "run_saved_model"]

logger = logging.getLogger(__name__)


class SavedModelError(ValueError):
    """The SavedModel cannot be loaded, lacks the signature, or refuses the inputs."""


def run_saved_model(
    version_dir: Path, signature: str, inputs: dict[str, np.ndarray], batch_size: int
) -> dict[str, np.ndarray]:
    """The signature's outputs for every row of inputs (batch first), batch_size rows per call.

    Raises:
        SavedModelError: the SavedModel cannot be loaded, has no such signature, or a call fails.
    """
    import tflog

    tflog.quiet()
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(version_dir))
    except (OSError, ValueError, tf.errors.OpError) as err:
        raise SavedModelError(f"cannot load the SavedModel at {version_dir}: {err}") from err
    if signature not in loaded.signatures:
        raise SavedModelError(
            f"{version_dir} has no signature {signature!r} (has {sorted(loaded.signatures)})"
        )
    function = loaded.signatures[signature]
    rows = len(next(iter(inputs.values())))
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, rows, batch_size):
        batch = {name: tf.constant(a[start : start + batch_size]) for name, a in inputs.items()}
        try:
            outputs = function(**batch)
        except (TypeError, ValueError, tf.errors.OpError) as err:
            raise SavedModelError(f"{version_dir} {signature} failed: {err}") from err
        for name, tensor in outputs.items():
            parts.setdefault(name, []).append(tensor.numpy())
    logger.info("ran %d rows through %s in process", rows, version_dir)
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}
