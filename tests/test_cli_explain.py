"""``rawns explain``: reads what ``--trace`` printed, xxd, binary and pcap; ``-j``
says what the text says; bad input is one line and exit status 1."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from rawns.netlink.explain import annotate, render

DATA = Path(__file__).parent / "netlink" / "data"
ANSWER = (DATA / "addr_dump.bin").read_bytes()
ERROR = (DATA / "error_policy.bin").read_bytes()


def rawns(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "rawns", *args], input=stdin,
                            capture_output=True, timeout=30)
    text = subprocess.CompletedProcess(result.args, result.returncode,
                                       result.stdout.decode(), result.stderr.decode())
    assert "Traceback" not in text.stderr, text.stderr
    return text


def views(stdout: str) -> list[str]:
    """The annotated views of a text output, without their title lines."""
    chunks = stdout.rstrip("\n").split("\n\n")
    return ["\n".join(line for line in chunk.splitlines() if not line.startswith(("===",
                                                                                  "    note")))
            for chunk in chunks]


def test_binary_file_text_and_json_say_the_same(tmp_path: Path) -> None:
    path = tmp_path / "error.bin"
    path.write_bytes(ERROR)
    text = rawns("explain", str(path))
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("=== datagram 1 of binary input: 156 bytes\n")
    assert views(text.stdout) == [render(annotate(ERROR))]
    for args in (("-j", "explain", str(path)), ("explain", str(path), "-j")):
        document = json.loads(rawns(*args).stdout)
        (datagram,) = document["datagrams"]
        assert bytes.fromhex(datagram["bytes"]) == ERROR
        assert render(datagram["explain"]) == views(text.stdout)[0]


def test_xxd_on_standard_input() -> None:
    dump = subprocess.run(["xxd"], input=ANSWER, capture_output=True, check=True).stdout
    result = rawns("explain", "-", stdin=dump)
    assert result.returncode == 0, result.stderr
    assert views(result.stdout) == [render(annotate(ANSWER))]


def test_a_pcap_of_an_nlmon_device(tmp_path: Path) -> None:
    frames = [struct.pack("!HHH8sH", kind, 824, 0, bytes(8), 0) + data
              for kind, data in ((7, ERROR[20:20 + 68]), (6, ANSWER))]
    path = tmp_path / "nlmon.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 253) + b"".join(
        struct.pack("<IIII", 1700000000, 0, len(f), len(f)) + f for f in frames))
    result = rawns("explain", str(path))
    assert result.returncode == 0, result.stderr
    assert "=== datagram 1 of pcap input: 68 bytes, to the kernel, 2023-11-14 22:13:20" \
        in result.stdout
    assert "=== datagram 2 of pcap input: 1212 bytes, to user space" in result.stdout \
        or "datagram 2 of pcap input" in result.stdout
    assert views(result.stdout) == [render(annotate(ERROR[20:20 + 68])),
                                    render(annotate(ANSWER))]


def test_a_datagram_that_stops_decoding_is_shown_then_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    path.write_bytes(ANSWER[:100])
    result = rawns("explain", str(path))
    assert result.returncode == 1
    assert "decoding stopped at byte 76" in result.stdout


@pytest.mark.parametrize("content, message", [
    (b"", "no input: 0 bytes"),
    (b"hello\n", "line 1 is neither hex bytes"),
    (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + bytes(16), "pcap link type 0, not NETLINK"),
    (bytes(range(256)) * 2, "no netlink message in"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    result = rawns("explain", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert result.stderr.startswith("rawns: explain: ")


def test_usage_mistakes() -> None:
    missing = rawns("explain", "/nonexistent/file")
    assert missing.returncode == 1
    assert missing.stderr == ("rawns: explain: cannot read /nonexistent/file: "
                              "No such file or directory\n")
    two = rawns("explain", "a", "b")
    assert two.returncode == 1 and "one input only" in two.stderr
    assert "pcapng" in rawns("explain", "help").stdout
    assert rawns("-n", "x", "explain", "f").returncode == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_what_trace_printed_reads_back(ns) -> None:
    name = ns()
    traced = rawns("-n", name, "--trace", "link", "add", "br7", "type", "bridge")
    assert traced.returncode == 0, traced.stderr
    result = rawns("explain", stdin=traced.stderr.encode())
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("=== datagram") == traced.stderr.count(" bytes\n0000: ")
    assert "to the kernel" in result.stdout and "to user space" in result.stdout
    # The views are the ones the trace printed, byte for byte.
    for view in views(result.stdout):
        assert view in traced.stderr
