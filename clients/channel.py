"""gRPC channels for TF Serving: TLS/mTLS credentials, keepalive, message limits, load balancing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

__all__ = ["TlsConfig", "channel_options", "make_channel"]

Pem = bytes | str | Path


def _pem(value: Pem | None) -> bytes | None:
    """PEM bytes as given, or read from a file path."""
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


@dataclass(frozen=True)
class TlsConfig:
    """TLS towards a server started with --ssl_config_file (PEM bytes, or paths to PEM files).

    root_certificates is the CA that signed the server's certificate (the system's roots when
    None). certificate_chain and private_key are the client's certificate and key, needed
    when the server sets client_verify: true (mTLS). server_name_override checks the server's
    certificate against that name instead of the target's host (tests and IP targets only).
    """

    root_certificates: Pem | None = None
    certificate_chain: Pem | None = None
    private_key: Pem | None = None
    server_name_override: str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        """The channel credentials; reads any file paths.

        Raises:
            ValueError: if only one of certificate_chain and private_key is given.
            OSError: if a PEM file cannot be read.
        """
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("mTLS needs both certificate_chain and private_key")
        return grpc.ssl_channel_credentials(
            root_certificates=_pem(self.root_certificates),
            private_key=_pem(self.private_key),
            certificate_chain=_pem(self.certificate_chain),
        )


# Keepalive pings only while calls are in flight: a dead peer (a vanished pod, a dropped NAT
# entry) fails the call instead of leaving it hanging until its deadline. gRPC servers,
# TF Serving included, by default refuse pings more often than every 5 minutes on an idle
# connection, so no pings without calls, and 30 s is within what they allow mid-call.
# TF Serving answers messages up to 2 GiB; gRPC's client default would refuse anything over
# 4 MiB. Reconnecting quickly after a restart lets bounded retries reach the new server
# (grpc.min_reconnect_backoff_ms is left alone: gRPC uses it as the connect timeout).
DEFAULT_OPTIONS: dict[str, Any] = {
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.keepalive_permit_without_calls": 0,
    "grpc.max_receive_message_length": 2**31 - 1,
    "grpc.max_send_message_length": 2**31 - 1,
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 5_000,
}


def channel_options(
    load_balancing: str | None = None,
    tls: TlsConfig | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> list[tuple[str, Any]]:
    """The channel arguments: the defaults above, the LB policy, TLS name override, then options.

    load_balancing names a gRPC policy, e.g. "round_robin": with a "dns:///host:port" target
    that resolves to every pod (a headless Kubernetes Service) calls spread over all of
    them, where the default pick_first pins one connection to one pod.
    """
    merged = dict(DEFAULT_OPTIONS)
    if load_balancing:
        config: dict[str, Any] = {"loadBalancingConfig": [{load_balancing: {}}]}
        merged["grpc.service_config"] = json.dumps(config)
    if tls is not None and tls.server_name_override:
        merged["grpc.ssl_target_name_override"] = tls.server_name_override
    merged.update(options)
    return list(merged.items())


def make_channel(
    target: str,
    *,
    tls: TlsConfig | None = None,
    load_balancing: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
    aio: bool = False,
) -> Any:
    """A grpc.Channel (or grpc.aio.Channel when aio) to target, e.g. "host:8500", "dns:///h:8500".

    Raises:
        ValueError: for incomplete mTLS settings.
        OSError: if a PEM file cannot be read.
    """
    args = channel_options(load_balancing, tls, options)
    module: Any = grpc
    if aio:
        from grpc import aio as module  # only asyncio users pay for importing grpc.aio
    if tls is None:
        return module.insecure_channel(target, options=args)
    return module.secure_channel(target, tls.credentials(), options=args)
