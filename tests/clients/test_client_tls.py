"""TLS and mTLS with certificates made at test time: gRPC to servers started with --ssl_config_file,
REST through a small https reverse proxy (TF Serving's REST port is plain HTTP)."""

from __future__ import annotations

import asyncio
import http.client
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from clients import (
    AsyncGrpcClient,
    GrpcClient,
    RestClient,
    RetryPolicy,
    ServerUnavailableError,
    TlsConfig,
)
from tests.clients.conftest import STABLE, start_servers, write_models_config
from tests.support.certs import Certificates, make_certificates, write_ssl_config

ONCE = RetryPolicy(max_attempts=1)
X = {"x": [2.0]}


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> tuple[Certificates, Path]:
    folder = tmp_path_factory.mktemp("certs")
    made = make_certificates()
    for name, pem in [
        ("ca.pem", made.ca),
        ("client.pem", made.client_cert),
        ("client.key", made.client_key),
        ("server.pem", made.server_cert),
        ("server.key", made.server_key),
    ]:
        (folder / name).write_bytes(pem)
    return made, folder


@pytest.fixture(scope="module")
def tls_servers(certs, served_models, tmp_path_factory):
    """Two servers of half_plus_two: TLS (client_verify false) and mTLS (client_verify true)."""
    made, _ = certs
    folder = tmp_path_factory.mktemp("tls")
    config = write_models_config(folder, served_models[:1])
    flags = [f"--model_config_file={config}", "--allow_version_labels_for_unavailable_models"]
    runs = [
        ([*flags, f"--ssl_config_file={write_ssl_config(folder, made, verify)}"], folder, name)
        for name, verify in [("tls", False), ("mtls", True)]
    ]
    with start_servers(*runs) as (tls, mtls):
        yield tls, mtls


def test_tls(tls_servers, certs) -> None:
    made, folder = certs
    tls, _ = tls_servers
    for roots in (made.ca, folder / "ca.pem", str(folder / "ca.pem")):
        with GrpcClient(tls.grpc, tls=TlsConfig(roots)) as client:
            assert client.predict("half_plus_two", X, version=STABLE)["y"].tolist() == [3.0]
    port = tls.grpc.rsplit(":", 1)[1]
    named = TlsConfig(made.ca, server_name_override="localhost")
    with GrpcClient(f"127.0.0.1:{port}", tls=named) as client:
        assert client.get_model_status("half_plus_two")[0].state == "AVAILABLE"


@pytest.mark.parametrize(
    "tls",
    [
        pytest.param(None, id="plaintext"),
        pytest.param(TlsConfig(), id="system-roots"),
    ],
)
def test_tls_server_refuses(tls_servers, tls) -> None:
    with (
        GrpcClient(tls_servers[0].grpc, tls=tls, retry=ONCE) as client,
        pytest.raises(ServerUnavailableError),
    ):
        client.get_model_status("half_plus_two", timeout=5)


def test_mtls(tls_servers, certs) -> None:
    made, folder = certs
    _, mtls = tls_servers
    mutual = TlsConfig(made.ca, folder / "client.pem", folder / "client.key")
    with GrpcClient(mtls.grpc, tls=mutual) as client:
        assert client.predict("half_plus_two", X, label="stable")["y"].tolist() == [3.0]

    async def use_async() -> list[float]:
        async with AsyncGrpcClient(mtls.grpc, tls=mutual) as client:
            return await client.regress("half_plus_two", [{"x": 2.0}], signature="regress_x_to_y")

    assert asyncio.run(use_async()) == [4.0]
    no_client_certificate = TlsConfig(made.ca)
    with (
        GrpcClient(mtls.grpc, tls=no_client_certificate, retry=ONCE) as client,
        pytest.raises(ServerUnavailableError),
    ):
        client.get_model_status("half_plus_two", timeout=5)


def test_mtls_needs_both_halves(certs) -> None:
    made, _ = certs
    with pytest.raises(ValueError, match="both"):
        GrpcClient("localhost:1", tls=TlsConfig(made.ca, certificate_chain=made.client_cert))


def https_proxy(upstream: str, certs_folder: Path, client_verify: bool) -> ThreadingHTTPServer:
    """An https server on 127.0.0.1 that forwards each request to upstream's plain HTTP."""
    target = urlsplit(upstream)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            connection.request(self.command, self.path, body)
            answer = connection.getresponse()
            content = answer.read()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.getheader("Content-Type", "text/plain"))
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            connection.close()

        do_GET = do_POST = forward

        def log_message(self, *args) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs_folder / "server.pem", certs_folder / "server.key")
    if client_verify:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs_folder / "ca.pem")
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    proxy.socket = context.wrap_socket(proxy.socket, server_side=True)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    return proxy


@pytest.fixture(scope="module")
def https_urls(server, certs):
    _, folder = certs
    proxies = [https_proxy(server.rest, folder, verify) for verify in (False, True)]
    yield [f"https://localhost:{proxy.server_address[1]}" for proxy in proxies]
    for proxy in proxies:
        proxy.shutdown()
        proxy.server_close()


def test_https_rest(https_urls, certs) -> None:
    _, folder = certs
    tls_url, mtls_url = https_urls
    ca = str(folder / "ca.pem")
    with RestClient(tls_url, verify=ca) as client:
        assert client.predict("half_plus_two", X, version=STABLE)["y"].tolist() == [3.0]
    client_cert = (str(folder / "client.pem"), str(folder / "client.key"))
    with RestClient(mtls_url, verify=ca, cert=client_cert) as client:
        assert client.get_model_status("half_plus_two", version=STABLE)[0].state == "AVAILABLE"


@pytest.mark.parametrize(
    ("which", "verify", "with_cert"),
    [
        pytest.param(0, True, False, id="untrusted-server"),
        pytest.param(1, "ca", False, id="no-client-certificate"),
    ],
)
def test_https_rest_refuses(https_urls, certs, which, verify, with_cert) -> None:
    _, folder = certs
    verify = str(folder / "ca.pem") if verify == "ca" else verify
    with (
        RestClient(https_urls[which], verify=verify, retry=ONCE) as client,
        pytest.raises(ServerUnavailableError, match="SSL|ssl|EOF|reset"),
    ):
        client.get_model_status("half_plus_two", timeout=5)
