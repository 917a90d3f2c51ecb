"""Sending one request: refused addresses are never connected to, limits hold, nothing is
followed. Real servers on loopback; the DNS resolver is stubbed to give the answers an attacker
would (the only stub in these tests)."""

import datetime
import socket
import ssl
import threading
import time
from contextlib import contextmanager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port
from tests.webhooks.receivers import Receiver
from webhooks.sender import EXCERPT_BYTES, deliver_http


def resolving_to(*addresses: str):
    """A stub of socket.getaddrinfo answering every name with `addresses`."""

    def resolve(host, port, *args, **kwargs):
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in addresses
        ]

    return resolve


@contextmanager
def listener():
    """A TCP socket on 127.0.0.1 that accepts and records connections, answering nothing."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.05)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        sock.close()


class RecordingSocket(socket.socket):
    """socket.socket that records every connect it is asked for, and makes none."""

    attempts: list = []

    def connect(self, address):
        RecordingSocket.attempts.append(address)
        raise ConnectionRefusedError("recorded, not connected")


UNSPECIFIED = "0.0.0.0"  # noqa: S104 (an address refused, not bound)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "::ffff:127.0.0.1", UNSPECIFIED, "10.1.2.3"]
)
def test_refused_addresses_are_refused_before_any_connect(settings, monkeypatch, address):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    RecordingSocket.attempts = []
    monkeypatch.setattr(socket, "socket", RecordingSocket)

    outcome = deliver_http(
        "https://hooks.example.com/in", b"{}", {}, resolver=resolving_to(address)
    )

    assert outcome.status_code is None
    assert outcome.error.startswith("refused: hooks.example.com resolves to a refused address")
    assert RecordingSocket.attempts == []


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", UNSPECIFIED])
def test_a_name_resolving_to_this_machine_reaches_no_listening_socket(settings, address):
    # 0.0.0.0 and ::ffff:127.0.0.1 both reach a socket listening on 127.0.0.1 if connected to.
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    with listener() as (port, accepted):
        outcome = deliver_http(
            f"https://hooks.example.com:{port}/in", b"{}", {}, resolver=resolving_to(address)
        )
        time.sleep(0.1)  # give a connection, had one been made, time to be accepted
        assert accepted == []
    assert outcome.error.startswith("refused:")


def test_one_refused_address_among_public_ones_refuses_the_host(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    RecordingSocket.attempts = []
    monkeypatch.setattr(socket, "socket", RecordingSocket)

    outcome = deliver_http(
        "https://hooks.example.com/in",
        b"{}",
        {},
        resolver=resolving_to("93.184.215.14", "192.168.0.5"),
    )

    assert "192.168.0.5 is a private address" in outcome.error
    assert RecordingSocket.attempts == []


def test_plain_http_is_refused_in_production(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    RecordingSocket.attempts = []
    monkeypatch.setattr(socket, "socket", RecordingSocket)

    outcome = deliver_http(
        "http://hooks.example.com/in", b"{}", {}, resolver=resolving_to("93.184.215.14")
    )

    assert outcome.error == "refused: the URL must start with https://"
    assert RecordingSocket.attempts == []


def test_the_request_goes_to_the_vetted_address_with_the_urls_host(settings):
    # The name exists nowhere but in the stub: a second lookup would fail the request.
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with Receiver(answer=lambda request: (204, b"")) as receiver:
        outcome = deliver_http(
            f"http://hooks.invalid:{receiver.port}/in?team=7",
            b'{"a":1}',
            {"webhook-id": "evt_1"},
            resolver=resolving_to("127.0.0.1"),
        )

    assert outcome.status_code == 204
    assert outcome.succeeded
    assert outcome.error == ""
    [request] = receiver.requests
    assert request.path == "/in?team=7"
    assert request.headers["host"] == f"hooks.invalid:{receiver.port}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "evt_1"
    assert request.body == b'{"a":1}'


def test_the_next_address_is_tried_when_one_refuses_the_connection(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    closed = free_port()
    with Receiver() as receiver:
        outcome = deliver_http(
            f"http://hooks.invalid:{receiver.port}/",
            b"{}",
            {},
            resolver=resolving_to("127.0.0.2", "127.0.0.1"),
        )
    assert outcome.status_code == 200, outcome.error
    assert len(receiver.requests) == 1
    # Nothing answers on the other port at all: the outcome says so, no status.
    outcome = deliver_http(
        f"http://hooks.invalid:{closed}/", b"{}", {}, resolver=resolving_to("127.0.0.1")
    )
    assert outcome.status_code is None
    assert outcome.error.startswith("could not connect (127.0.0.1:")


def test_a_redirect_is_not_followed_and_is_not_a_success(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with Receiver(answer=lambda request: (302, b"moved")) as receiver:
        outcome = deliver_http(receiver.url, b"{}", {})
    assert outcome.status_code == 302
    assert not outcome.succeeded
    assert len(receiver.requests) == 1


def test_only_the_first_kilobyte_of_the_answer_is_kept_and_decoded_lossily(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    answer = b"\xff\x00" + b"x" * 50_000
    with Receiver(answer=lambda request: (500, answer)) as receiver:
        outcome = deliver_http(receiver.url, b"{}", {})
    assert outcome.status_code == 500
    assert outcome.excerpt == "\ufffd\ufffd" + "x" * (EXCERPT_BYTES - 2)


def test_a_receiver_that_never_answers_is_given_up_at_the_deadline(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with listener() as (port, accepted):
        started = time.monotonic()
        outcome = deliver_http(f"http://127.0.0.1:{port}/", b"{}", {}, total_timeout=0.5)
        elapsed = time.monotonic() - started
        assert len(accepted) == 1
    assert outcome.status_code is None
    assert outcome.error == "waiting for the answer: no answer within 0.5 s"
    assert 0.5 <= elapsed < 10  # the deadline, not a socket default or for ever


def test_a_receiver_dripping_bytes_is_given_up_at_the_total_deadline(settings):
    # Each byte comes well within any per-read timeout; only a total deadline stops it.
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def drip() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.05):
                try:
                    connection.sendall(b"X-Slow: y\r\n")
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        outcome = deliver_http(
            f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, total_timeout=0.6
        )
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
    assert outcome.status_code is None
    assert "no answer within 0.6 s" in outcome.error
    assert elapsed < 10


def _certificate_authority(name: str):
    """A throwaway CA and a certificate for `name` it signed: (ca_pem, cert_pem, key_pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem).decode(), cert.public_bytes(pem), key_pem


@contextmanager
def tls_server(tmp_path, name: str):
    """An HTTPS server on 127.0.0.1 with a certificate for `name`; yields (port, ca, seen)."""
    ca_pem, cert_pem, key_pem = _certificate_authority(name)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    seen: dict[str, list] = {"sni": [], "requests": []}
    context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(5)
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    seen["requests"].append(tls.recv(65536))
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except (ssl.SSLError, OSError):
                continue  # the client refused the certificate

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], ca_pem, seen
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_https_names_the_host_and_checks_the_certificate_against_it(settings, tmp_path):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with tls_server(tmp_path, "hooks.example.test") as (port, ca_pem, seen):
        trusting = ssl.create_default_context(cadata=ca_pem)
        outcome = deliver_http(
            f"https://hooks.example.test:{port}/in",
            b"{}",
            {},
            resolver=resolving_to("127.0.0.1"),
            ssl_context=trusting,
        )
        assert outcome.status_code == 200, outcome.error
        assert seen["sni"] == ["hooks.example.test"]
        assert f"Host: hooks.example.test:{port}".encode() in seen["requests"][0]

        # Another name on the same address: the certificate does not match it.
        outcome = deliver_http(
            f"https://other.example.test:{port}/in",
            b"{}",
            {},
            resolver=resolving_to("127.0.0.1"),
            ssl_context=trusting,
        )
        assert outcome.status_code is None
        assert outcome.error.startswith("TLS handshake:")
        assert "certificate" in outcome.error.lower()

        # The system's trust store does not know the test CA: refused too.
        outcome = deliver_http(
            f"https://hooks.example.test:{port}/in", b"{}", {}, resolver=resolving_to("127.0.0.1")
        )
        assert outcome.status_code is None
        assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
        assert len(seen["requests"]) == 1


def test_an_internationalised_host_goes_into_the_host_header_as_dns_spells_it():
    from webhooks.sender import _request_head

    head = _request_head(host="bücher.example", port=None, target="/hooks", length=2, headers={})

    assert b"\r\nHost: xn--bcher-kva.example\r\n" in head
