"""Where the served config comes from: --model_config_file (optionally re-read) or single-model flags."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from tensorflow_serving.config import model_server_config_pb2

from server.errors import Code, ServingError
from server.flags import ServerOptions
from serving_config.model_config import ConfigLoadError, load_model_server_config

log = logging.getLogger(__name__)


def initial_config(options: ServerOptions) -> model_server_config_pb2.ModelServerConfig:
    """The config to start with.

    Raises:
        ServingError: the config file does not exist or does not parse.
    """
    if options.model_config_file:
        return read_config_file(options.model_config_file)
    config = model_server_config_pb2.ModelServerConfig()
    entry = config.model_config_list.config.add()
    entry.name = options.model_name
    entry.base_path = options.model_base_path
    entry.model_platform = "tensorflow"
    return config


def read_config_file(path: str) -> model_server_config_pb2.ModelServerConfig:
    try:
        return load_model_server_config(path)
    except (ConfigLoadError, OSError) as err:
        raise ServingError(
            Code.INVALID_ARGUMENT,
            f"Error parsing text-format tensorflow.serving.ModelServerConfig: {err}",
        ) from err


class ConfigFileWatcher:
    """Re-reads the config file every N seconds and applies it when its bytes change.

    Whatever the file holds (nothing, bytes that are not UTF-8, half a config, a config the
    server refuses) the old config stays, the reason is logged once per content, and polling
    goes on: the poller never dies of a bad file.
    """

    def __init__(
        self,
        path: str,
        interval: float,
        apply: Callable[[model_server_config_pb2.ModelServerConfig], None],
    ) -> None:
        self._path = Path(path)
        self._interval = interval
        self._apply = apply
        self._stop = threading.Event()
        self._last: bytes | None = self._read_bytes()
        self._unreadable = False
        self._thread = threading.Thread(target=self._loop, name="config-poll", daemon=True)

    def _read_bytes(self) -> bytes | None:
        try:
            return self._path.read_bytes()
        except OSError:
            return None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check_once(self) -> None:
        """Apply the file if its bytes changed since the last look; log why not otherwise."""
        data = self._read_bytes()
        if data is None:
            if not self._unreadable:  # deleted or unreadable for a moment: say so once
                log.warning("cannot read the model config %s; keeping the old one", self._path)
            self._unreadable = True
            return
        self._unreadable = False
        if data == self._last:
            return
        self._last = data
        try:
            self._apply(read_config_file(str(self._path)))
            log.info("applied the new model config from %s", self._path)
        except ServingError as err:
            log.error(
                "rejected the new model config in %s; keeping the old one: %s",
                self._path,
                err.message,
            )

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.check_once()
            except Exception:  # a poller that dies never applies a good config again
                log.exception("the model config poll failed; keeping the old config, polling on")
