"""The built-in ICMP echo, between namespaces made with iproute2."""

import struct

import pytest

from rawns import Handle
from rawns.ping import checksum, ping
from conftest import run_ip


@pytest.fixture
def pair(ns):
    """Two namespaces joined by a veth pair: 192.168.10.1 and .2, fd00::1 and ::2."""
    a, b = ns(), ns()
    run_ip("-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", b)
    run_ip("-n", a, "addr", "add", "192.168.10.1/24", "dev", "v0")
    run_ip("-n", b, "addr", "add", "192.168.10.2/24", "dev", "v1")
    run_ip("-n", a, "addr", "add", "fd00::1/64", "dev", "v0", "nodad")
    run_ip("-n", b, "addr", "add", "fd00::2/64", "dev", "v1", "nodad")
    run_ip("-n", a, "link", "set", "v0", "up")
    run_ip("-n", b, "link", "set", "v1", "up")
    # v0's queue starts a moment after v1 gives it a carrier; a packet sent
    # before is dropped (the first echo of about 1 ping in 30, more on a busy
    # machine)
    with Handle(a) as handle:
        handle.link_wait("v0")
    return a, b


def test_checksum_matches_rfc1071_example():
    # RFC 1071 section 3 example words: 0001 f203 f4f5 f6f7 -> sum ddf2, checksum 220d
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    packet = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"abc"
    value = checksum(packet)
    assert checksum(packet[:2] + struct.pack("!H", value) + packet[4:]) == 0


def test_echo_ipv4_between_namespaces(pair):
    a, _ = pair
    echoes = ping("192.168.10.2", netns=a, count=3)
    assert [e.seq for e in echoes] == [1, 2, 3]
    assert all(e.rtt is not None and e.rtt < 1 for e in echoes)
    assert echoes[0].ttl == 64 and echoes[0].size == 64


def test_echo_ipv6_between_namespaces(pair):
    a, _ = pair
    echoes = ping("fd00::2", netns=a, count=2, timeout=2)
    assert any(e.rtt is not None for e in echoes)


def test_silent_address_times_out(pair):
    a, _ = pair
    [echo] = ping("192.168.10.77", netns=a, timeout=0.2)
    assert echo.rtt is None


def test_no_route_is_a_kernel_error(pair):
    a, _ = pair
    with pytest.raises(OSError) as info:
        ping("10.99.99.99", netns=a)
    assert "Network is unreachable" in str(info.value)
    assert "10.99.99.99" in str(info.value)


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError):
        ping("not-an-address")
    with pytest.raises(ValueError):
        ping("127.0.0.1", count=0)


def test_probes_carry_the_sequence_numbers_asked_for(pair):
    a, _ = pair
    echoes = ping("192.168.10.2", netns=a, count=2, first_seq=41)
    assert [e.seq for e in echoes] == [41, 42]
    assert all(e.rtt is not None for e in echoes)
    with pytest.raises(ValueError):
        ping("192.168.10.2", netns=a, count=2, first_seq=0xFFFF)
