"""The SSRF rules: which URLs and resolved addresses may receive webhooks."""

import ipaddress
import socket

import pytest

from webhooks.addresses import AddressRefused, ip_refusal, url_refusal, vetted_addresses

REFUSED_ALWAYS = [
    "169.254.169.254",  # cloud metadata
    "::ffff:169.254.169.254",
    "fd00:ec2::254",
    "0.0.0.0",  # noqa: S104 (an address refused, not bound)
    "::",
    "10.0.0.7",
    "172.16.5.4",
    "192.168.1.1",
    "fc00::1",
    "fe80::1",
    "169.254.10.10",
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "::ffff:10.0.0.1",
]
LOOPBACK = ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "2002:7f00:1::1"]
PUBLIC = ["93.184.215.14", "2606:4700::1111"]


@pytest.mark.parametrize("text", REFUSED_ALWAYS)
@pytest.mark.parametrize("allow_loopback", [False, True])
def test_private_link_local_and_metadata_addresses_are_refused(text, allow_loopback):
    assert ip_refusal(ipaddress.ip_address(text), allow_loopback=allow_loopback)


@pytest.mark.parametrize("text", LOOPBACK)
def test_loopback_is_refused_unless_allowed(text):
    assert "loopback" in ip_refusal(ipaddress.ip_address(text), allow_loopback=False)
    assert ip_refusal(ipaddress.ip_address(text), allow_loopback=True) is None


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_allowed(text):
    assert ip_refusal(ipaddress.ip_address(text), allow_loopback=False) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://example.com/hook", "https"),
        ("ftp://example.com/", "https"),
        ("https://user:pw@example.com/", "user name"),
        ("https:///hook", "no host"),
        ("https://example.com:0/", "port"),
        ("https://example.com:70000/", "cannot be parsed"),
        ("https://10.1.1.1/hook", "private"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://example.com/" + "a" * 2000, "longer"),
    ],
)
def test_url_refusals_say_why(url, words):
    assert words in url_refusal(url, allow_loopback=False)


def test_plain_http_is_allowed_only_with_loopback_allowed():
    assert url_refusal("https://example.com/hook", allow_loopback=False) is None
    assert url_refusal("http://127.0.0.1:9000/hook", allow_loopback=True) is None


def _resolver(*texts):
    def resolve(host, port, type=0):
        return [
            (socket.AF_INET6 if ":" in text else socket.AF_INET, type, 6, "", (text, port))
            for text in texts
        ]

    return resolve


def test_a_host_resolving_to_one_refused_address_is_refused():
    with pytest.raises(AddressRefused, match="10.0.0.1 is a private address"):
        vetted_addresses(
            "mixed.example",
            443,
            allow_loopback=False,
            resolver=_resolver("93.184.215.14", "10.0.0.1"),
        )


def test_vetted_addresses_are_the_resolved_ones_in_order_without_repeats():
    resolve = _resolver("93.184.215.14", "2606:4700::1111", "93.184.215.14")
    assert [
        str(a) for a in vetted_addresses("ok.example", 443, allow_loopback=False, resolver=resolve)
    ] == [
        "93.184.215.14",
        "2606:4700::1111",
    ]


def test_a_name_that_does_not_resolve_is_refused():
    def fail(host, port, type=0):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(AddressRefused, match="does not resolve"):
        vetted_addresses("nowhere.invalid", 443, allow_loopback=False, resolver=fail)
