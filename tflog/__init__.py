"""TensorFlow's start-up noise on a machine without a GPU, silenced in one place.

Every entry point calls `quiet()` before TensorFlow is imported. On a CPU-only machine,
TensorFlow then starts without the lines that read as failures but are not: the CUDA probe
(`Could not find cuda drivers`, `failed call to cuInit`), the cuDNN/cuFFT/cuBLAS factory
registrations, the TensorRT probe, the oneDNN and CPU-instructions notices. Every other
warning and error, TensorFlow's C++ ones and Python's, is still shown.

What TensorFlow 2.21 prints on such a machine, and what silences each part:

* C++ INFO lines after start-up (e.g. the CPU-instructions notice): TF_CPP_MIN_LOG_LEVEL=1,
  which keeps WARNING and ERROR (2 would hide every warning, 3 every error too).
* `failed call to cuInit` (an ERROR line, so no log level hides it without hiding real
  errors): it comes from the GPU device factory probing CUDA. When no CUDA driver
  (libcuda.so.1) can be loaded, no GPU can be used anyway, and TF_ENABLED_DEVICE_TYPES=CPU,
  which TensorFlow honours when its device factories register, means the probe never runs.
  It is left unset where a driver is present (a cuInit failure there is a real problem worth
  seeing), where a pluggable-device plugin is installed (a `tensorflow-plugins` folder, which
  TF_ENABLED_DEVICE_TYPES=CPU would disable), and off Linux.
* The lines printed while TensorFlow's libraries load (`oneDNN custom operations are on`,
  `Could not find cuda drivers`, absl's `All log messages before absl::InitializeLog()`,
  the factory registrations): they are written before TensorFlow reads any setting, so no
  environment variable hides them. While `tensorflow` itself is imported (and only then),
  file descriptor 2 is redirected to an unnamed temporary file; after the import it is
  restored and every captured line that is not one of these known lines is written back, in
  order. A file rather than a pipe: a pipe needs a reader thread, and the libraries load
  while the importing thread holds the GIL, so output beyond the pipe's buffer would
  deadlock the import; a file never blocks and loses nothing. Output of other threads during
  the import is delayed until its end, not lost. Only a hard crash inside the import (the
  process killed before the file is written back) would lose captured lines; set
  TFLOG_SHOW_ALL=1 to see everything TensorFlow prints, unfiltered.

Settings already in the environment win over these defaults. Child processes inherit the
environment settings (`environment()` gives them to a process started with its own env);
the import filter is per process, so a child that is itself an entry point calls `quiet()`.

This package imports nothing from TensorFlow.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["SHOW_ALL", "environment", "filtered_stderr", "is_startup_noise", "quiet"]

SHOW_ALL = "TFLOG_SHOW_ALL"  # set to 1: change nothing, show everything TensorFlow prints

# absl's notice, printed by each of TensorFlow's libraries before its logging is initialized.
_ABSL_NOTICE = (
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
)
# Messages of TensorFlow's C++ log lines ("I0000 00:00:1796280096.939908   25719 file.cc:31] ")
# that are known start-up noise on a CPU-only machine. Matched on the message, not the source
# file, so any other line from the same file still shows.
_NOISE_MESSAGES = (
    r"oneDNN custom operations are on\.",
    r"Could not find cuda drivers on your machine, GPU will not be used\.",
    r"failed call to cuInit: ",
    r"Unable to register cu(?:DNN|FFT|BLAS) factory: Attempting to register factory for plugin",
    r"computation placer already registered\.",
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"TF-TRT Warning: Could not find TensorRT",
    r"Device factory '\w+' disabled by TF_ENABLED_DEVICE_TYPES environment variable\.",
)
_NOISE = re.compile(
    (
        rf"(?:{_ABSL_NOTICE}"
        r"|[IWE]\d{4} [^\]\n]*\] (?:" + "|".join(_NOISE_MESSAGES) + r")"
        # The second line of the CPU-instructions notice.
        r"|To enable the following instructions: .*, in other operations, rebuild TensorFlow"
        r" with the appropriate compiler flags\.)"
    ).encode()
)

_lock = threading.Lock()
_installed = False


def is_startup_noise(line: bytes) -> bool:
    """Whether line (one line of stderr, with or without its newline) is known start-up noise."""
    return _NOISE.match(line.rstrip(b"\r\n")) is not None


def _cuda_driver_loadable() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def _pluggable_devices_installed(paths: Sequence[str]) -> bool:
    return any((Path(entry or ".") / "tensorflow-plugins").is_dir() for entry in paths)


@functools.cache
def _no_gpu_possible() -> bool:
    """Whether TensorFlow cannot use a GPU here, so that its CUDA probe only makes noise."""
    return (
        sys.platform.startswith("linux")
        and not _pluggable_devices_installed(sys.path)
        and not _cuda_driver_loadable()
    )


def _defaults() -> dict[str, str]:
    defaults = {"TF_CPP_MIN_LOG_LEVEL": "1"}
    if _no_gpu_possible():
        defaults["TF_ENABLED_DEVICE_TYPES"] = "CPU"
    return defaults


def environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """base (os.environ by default) plus the start-up settings it does not already have: the
    environment of a child process that may import TensorFlow."""
    env = dict(os.environ if base is None else base)
    if env.get(SHOW_ALL) == "1":
        return env
    return {**_defaults(), **env}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Inside: file descriptor 2 goes to a temporary file. After: it is restored and what was
    written there, minus the known start-up noise lines, is written to it, in order."""
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to filter
        yield
        return
    try:
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield
            finally:
                if sys.stderr is not None:
                    with contextlib.suppress(OSError, ValueError):
                        sys.stderr.flush()
                os.dup2(saved, 2)
                capture.seek(0)
                kept = [
                    line
                    for line in capture.read().splitlines(keepends=True)
                    if not is_startup_noise(line)
                ]
                _write_all(2, b"".join(kept))
    finally:
        os.close(saved)


class _FilteredLoader(importlib.abc.Loader):
    """The tensorflow package's own loader, its module executed inside filtered_stderr()."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> object:
        return getattr(self._loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            with filtered_stderr():
                self._loader.exec_module(module)
        finally:  # leave no trace: the module's loader is its own again
            module.__loader__ = self._loader
            if module.__spec__ is not None:
                module.__spec__.loader = self._loader


class _TensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` with the other finders and wraps its loader, once."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)  # one import only; never found again by this finder
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _FilteredLoader(spec.loader)
        return spec


def quiet() -> None:
    """Silence TensorFlow's known start-up noise in this process and its children. Call before
    TensorFlow is imported; calling it again, or after the import, does no harm."""
    global _installed
    if os.environ.get(SHOW_ALL) == "1":
        return
    with _lock:
        for name, value in _defaults().items():
            os.environ.setdefault(name, value)
        if _installed or "tensorflow" in sys.modules:
            return
        _installed = True
        sys.meta_path.insert(0, _TensorFlowFinder())
