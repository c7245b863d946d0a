"""``rawns ping``: ICMP echo from inside a namespace, printed as ping(8) prints it.

Each echo is one call of ``rawns.ping.ping``; no ping binary is needed.
"""

from __future__ import annotations

import time
TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from typing import Optional

from rawns.cli.grammar import Options, ShowHelp, UsageError, Words, parse_float, parse_ip
from rawns.ping import ping

__all__ = ["run"]


def run(words: Words, opts: Options) -> int:
    count: Optional[int] = None
    timeout = 1.0
    interval = 1.0
    size = 56
    dest = None
    while words:
        word = words.pop("")
        if word == "-c":
            count = words.int_value("-c", 1, 2**31 - 1)
        elif word == "-W":
            timeout = parse_float(words.value("-W"), "ping -W")
        elif word == "-i":
            interval = parse_float(words.value("-i"), "ping -i")
        elif word == "-s":
            size = words.int_value("-s", 0, 65000)
        elif word in ("-h", "--help", "help"):
            raise ShowHelp("ping")
        elif word.startswith("-"):
            raise UsageError(f"ping: unknown option {word!r} (supported: -c N, -W SEC, "
                             "-i SEC, -s BYTES)")
        elif dest is None:
            dest = parse_ip(word, "ping")
        else:
            raise UsageError(f"ping: unexpected {word!r}")
    if dest is None:
        raise UsageError("ping: a destination address is required")
    if opts.family and dest.version != opts.family:
        raise UsageError(f"ping: {dest} is not an IPv{opts.family} address")
    print(f"PING {dest} {size} data bytes", flush=True)
    rtts: list[float] = []
    sent = 0
    try:
        while count is None or sent < count:
            if sent and interval:
                time.sleep(interval)
            [echo] = ping(dest, netns=opts.netns, count=1, timeout=timeout, size=size,
                          first_seq=sent % 0xFFFF + 1)
            sent += 1
            if echo.rtt is None:
                print(f"no reply from {dest}: icmp_seq={sent} (timeout {timeout:g}s)",
                      flush=True)
            else:
                rtts.append(echo.rtt)
                ttl = f" ttl={echo.ttl}" if echo.ttl is not None else ""
                print(f"{echo.size} bytes from {dest}: icmp_seq={sent}{ttl} "
                      f"time={echo.rtt * 1000:.3f} ms", flush=True)
    except KeyboardInterrupt:
        print()
    loss = 100 * (sent - len(rtts)) // sent if sent else 0
    print(f"--- {dest} ping statistics ---")
    print(f"{sent} packets transmitted, {len(rtts)} received, {loss}% packet loss")
    if rtts:
        ms = [r * 1000 for r in rtts]
        print(f"rtt min/avg/max = {min(ms):.3f}/{sum(ms) / len(ms):.3f}/{max(ms):.3f} ms")
    return 0 if rtts else 1
