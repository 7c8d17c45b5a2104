"""Start and stop local processes on loopback: the embedded server (`python -m server`) and
the helper daemons the tests run. One home for the start / wait-until-ready / terminate-then-kill
sequence, used by every CLI's --start-server, the bench and the tests. TensorFlow-free: the
server runs as a process, never imported.
"""

from __future__ import annotations

from launcher.processes import (
    LOOPBACK,
    StartError,
    free_port,
    launch,
    log_tail,
    port_open,
    running,
    stop,
    wait_ready,
)
from launcher.server import (
    ROOT,
    RunningServer,
    add_local_server_arguments,
    ensure_server,
    process_env,
    server_answers,
    start_server,
)

__all__ = [
    "LOOPBACK",
    "ROOT",
    "RunningServer",
    "StartError",
    "add_local_server_arguments",
    "ensure_server",
    "free_port",
    "launch",
    "log_tail",
    "port_open",
    "process_env",
    "running",
    "server_answers",
    "start_server",
    "stop",
    "wait_ready",
]
