"""TF Serving's runtime path: a SavedModel loaded as a SavedModelBundle, signatures run by name."""

from runtime.bundle import (
    DEFAULT_SIGNATURE,
    NotATensorError,
    RunTimeout,
    SessionBundle,
    load_bundle,
)

__all__ = ["DEFAULT_SIGNATURE", "NotATensorError", "RunTimeout", "SessionBundle", "load_bundle"]
