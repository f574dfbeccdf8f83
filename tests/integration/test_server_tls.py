"""HTTPS (--ssl-key-file / --ssl-cert-file, as llama-server names them): the official
`openai` client talks to the server over TLS, checking the server's certificate against a
test CA made at test time with the `openssl` command; plain HTTP, TLS 1.1 and stalled
handshakes are refused without holding the server up; bad key files are clear errors."""
from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import time
import warnings
from pathlib import Path

import openai
import pytest
import requests

from conftest import BUILD, ServerProcess, free_port
from server_helpers import STORIES


def make_certificate(folder: Path, name: str = "server") -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1 / localhost, valid for a day."""
    key, cert = folder / f"{name}-key.pem", folder / f"{name}-cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return key, cert


def make_rsa_certificate(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "rsa-key.pem", folder / "rsa-cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return key, cert


def start_tls(key: Path, cert: Path, *args: str) -> ServerProcess:
    s = ServerProcess(["-m", str(STORIES), "--ssl-key-file", str(key), "--ssl-cert-file", str(cert), *args],
                      wait_ready=False)
    s.base = f"https://127.0.0.1:{s.port}"
    deadline = time.monotonic() + 60
    while True:
        if s.proc.poll() is not None:
            raise RuntimeError(f"server exited with {s.proc.returncode}:\n{s.log()}")
        try:
            if requests.get(s.base + "/health", verify=str(cert), timeout=2).status_code == 200:
                return s
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, s.log()
        time.sleep(0.1)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    key, cert = make_certificate(folder)
    s = start_tls(key, cert, "-np", "2")
    s.cert = cert
    yield s
    s.stop()


def test_openai_client_over_tls(tls_server):
    # The client's own HTTP stack (openai.DefaultHttpxClient), trusting only the test CA.
    ctx = ssl.create_default_context(cafile=str(tls_server.cert))
    http = openai.DefaultHttpxClient(verify=ctx)
    client = openai.OpenAI(base_url=tls_server.base + "/v1", api_key="unused", max_retries=0, timeout=60,
                           http_client=http)
    models = client.models.list()
    assert len(models.data) == 1
    chat = client.chat.completions.create(model=models.data[0].id, max_tokens=8, temperature=0,
                                          messages=[{"role": "user", "content": "Once upon a time"}])
    assert chat.choices[0].message.content
    assert chat.usage.completion_tokens == 8
    pieces = []
    for chunk in client.chat.completions.create(model="x", max_tokens=8, temperature=0, stream=True,
                                                messages=[{"role": "user", "content": "Once upon a time"}]):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    # Same greedy continuation streamed or not.
    assert "".join(pieces) == chat.choices[0].message.content
    assert "https://" in tls_server.log()


def test_certificate_is_checked_by_the_client(tls_server, tmp_path):
    # A client that trusts another CA refuses the server: it really presents our certificate.
    _, other = make_certificate(tmp_path, "other")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_server.base + "/health", verify=str(other), timeout=5)


def test_plain_http_and_old_tls_do_not_hold_the_server(tls_server):
    # Plain HTTP to the TLS port: the handshake fails and the connection closes.
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as c:
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        c.settimeout(5)
        try:
            data = c.recv(1000)
        except ConnectionResetError:
            data = b""
        assert b"200 OK" not in data
    # TLS 1.1 is refused.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python's OpenSSL cannot offer TLS 1.1")
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            ctx.wrap_socket(raw).do_handshake()
    # Stalled handshakes (a TCP connection that sends nothing) do not lock others out.
    stalled = [socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) for _ in range(30)]
    try:
        assert requests.get(tls_server.base + "/health", verify=str(tls_server.cert), timeout=5).status_code == 200
    finally:
        for c in stalled:
            c.close()


def test_rsa_key_and_sigterm_with_tls_clients(tmp_path):
    key, cert = make_rsa_certificate(tmp_path)
    s = start_tls(key, cert)
    try:
        r = requests.post(s.base + "/completion", json={"prompt": "Once", "n_predict": 4}, verify=str(cert),
                          timeout=30)
        assert r.status_code == 200 and r.json()["tokens_predicted"] == 4
        stalled = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(10)]
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=10) == 0
        for c in stalled:
            c.close()
    finally:
        s.stop()


def test_bad_key_files_are_clear_errors(tmp_path):
    key, cert = make_certificate(tmp_path)
    other_key, _ = make_certificate(tmp_path, "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a pem file\n")
    cases = [
        ([str(key), str(tmp_path / "missing.pem")], "cannot read --ssl-cert-file"),
        ([str(garbage), str(cert)], "not an unencrypted PEM private key"),
        ([str(key), str(garbage)], "not a PEM certificate"),
        ([str(other_key), str(cert)], "is not the key of the certificate"),
    ]
    for (k, c), message in cases:
        r = subprocess.run([str(BUILD / "mmojo-server"), "-m", str(STORIES), "--port", str(free_port()),
                            "--ssl-key-file", k, "--ssl-cert-file", c], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, r.stderr
        assert message in r.stderr, r.stderr
    # One of the two flags alone is an error too, not plain HTTP.
    r = subprocess.run([str(BUILD / "mmojo-server"), "-m", str(STORIES), "--port", str(free_port()),
                        "--ssl-key-file", str(key)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "needs both --ssl-key-file and --ssl-cert-file" in r.stderr
