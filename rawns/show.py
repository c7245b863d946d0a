"""Objects as ``ip`` prints them: the text and ``-j`` JSON of ``ip link/addr/route/neigh``.

Shared by every face (the command line, the demo): whatever prints a link,
an address, a route or a neighbour the way ``ip`` does calls this module.

Invariants:
- The JSON keys and value formats of one object are written once, in its
  model's ``to_json()`` (:mod:`rawns.model`). This module adds only what
  needs more than the object itself: the link part of ``ip addr show`` with
  its ``addr_info``, ``M-DOWN`` (the lower link is down), what ``-4``/``-6``
  leave out, the object of a monitor event.
- Text is made from that JSON, never from the objects again, so the two
  forms cannot disagree.
- Pure: no I/O, no kernel, no printing; functions take objects and maps
  (ifindex -> name, nsid -> name) and return dicts, strings and lists.
"""

from __future__ import annotations

from rawns.model import INFINITY_LIFE_TIME, Address, Link, Neighbour, Route, Seconds

# json and re are imported where -j uses them: plain output needs neither (start-up)
TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Optional

    from rawns.handle import Event

__all__ = [
    "json_text", "index_names", "up_indexes",
    "link_json", "link_lines", "kind_text", "stats_lines", "link_brief_json",
    "link_brief_line", "tuntap_json", "tuntap_line", "addr_brief_json", "addr_brief_line", "addr_oneline", "addr_json", "addr_lines", "link_addr_lines",
    "route_line", "route_lines", "rule_line", "neigh_line", "SHOWN_NEIGH_STATES", "visible_neighbours",
    "event_json", "event_lines",
]

def json_text(value: Any, *, pretty: bool = False) -> str:
    """``value`` (the result of a ``*_json`` function) in the bytes ``ip -j``
    prints: compact, or laid out as ``ip -j -p`` does with ``pretty``.
    Timers (``model.Seconds``) keep ip's two decimals (``0.00``)."""
    import json
    marked, timers = _mark_timers(value)
    if pretty:
        text = _PrettyWriter().write(marked)
    else:
        text = json.dumps(marked, separators=(",", ":"))
    if timers:
        import re
        text = re.sub(_TIMER_MARK, lambda match: match.group(1), text)  # re caches it
    return text


# json writes any float with repr(): a timer travels as a marked string, unquoted after.
_TIMER_MARK = r'"\\u0000seconds:([0-9.]+)"'


class _PrettyWriter:
    """ip's pretty JSON (``ip -j -p``), as its json_writer lays it out: an object's
    members one per line, indented by four per level, arrays of plain values on
    one line (``[ "UP","LOWER_UP" ]``), neighbours in an array joined ``},{``."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.depth = 0
        self.sep = ""

    def write(self, value: Any) -> str:
        import json
        self.dumps = json.dumps
        self._value(value)
        return "".join(self.parts)

    def _eor(self) -> None:
        if self.sep:
            self.parts.append(self.sep)
        self.sep = ","

    def _eol(self) -> None:
        self.parts.append("\n" + "    " * self.depth)

    def _value(self, value: Any) -> None:
        if isinstance(value, dict):
            self._eor()
            self.parts.append("{")
            self.depth += 1
            self.sep = ""
            for key, item in value.items():
                self._eor()
                self._eol()
                self.sep = ""
                self.parts.append(self.dumps(key) + ": ")
                self._value(item)
            self._end("}")
        elif isinstance(value, list):
            self._eor()
            self.parts.append("[ ")
            self.depth += 1
            self.sep = ""
            for item in value:
                self._value(item)
            if self.sep:
                self.parts.append(" ")
            self.sep = ""
            self._end("]")
        else:
            self._eor()
            self.parts.append(self.dumps(value))

    def _end(self, closing: str) -> None:
        self.depth -= 1
        if self.sep:
            self._eol()
        self.parts.append(closing)
        self.sep = ","


def _mark_timers(value: Any) -> tuple[Any, bool]:
    if isinstance(value, Seconds):
        return f"\0seconds:{value:.2f}", True
    if isinstance(value, dict):
        found = False
        out = {}
        for key, item in value.items():
            out[key], marked = _mark_timers(item)
            found = found or marked
        return (out, True) if found else (value, False)
    if isinstance(value, list):
        items = [_mark_timers(item) for item in value]
        if any(marked for _, marked in items):
            return [item for item, _ in items], True
        return value, False
    return value, False


def index_names(links: Iterable[Link]) -> dict[int, str]:
    """ifindex -> name, the map every ``*_json`` takes to name links as ip does."""
    return {link.index: link.name for link in links}


def up_indexes(links: Iterable[Link]) -> set[int]:
    """The ifindexes of the links that are up (for ``M-DOWN``)."""
    return {link.index for link in links if link.is_up}


# --- links ------------------------------------------------------------------------------

def link_json(link: Link, names: dict[int, str], *, linkmode: bool = True,
              family: Optional[int] = None, up: Optional[set[int]] = None,
              details: bool = False, stats: int = 0) -> dict[str, Any]:
    """``ip -j link show`` (or with ``linkmode=False`` the link part of
    ``ip -j addr show``). With a family (``ip -4/-6 addr show``) ip leaves out
    the link-layer line; for ``-6`` it reads links through the kernel's IPv6
    link dump, which carries only name, flags, mtu, operstate and qlen.
    ``up`` is the set of ifindexes that are up here: ip flags ``M-DOWN`` a
    link whose lower link (``link``, in this namespace) is down."""
    out = link.to_json(names, linkmode=linkmode, details=details, stats=stats)
    if up is not None and out.get("link") is not None and link.link not in up:
        out["flags"] = out["flags"] + ["M-DOWN"]
    if family is not None and not details:
        for key in ("link_type", "address", "broadcast"):
            out.pop(key, None)
    if family == 6:
        # With -d ip shows the link type and address the IPv6 dump carries, no more.
        keep = {"ifindex": out["ifindex"]}
        if link.link is not None and link.link != link.index:
            keep["link"] = names.get(link.link, f"if{link.link}")
        keep["ifname"] = out["ifname"]
        for key in ("flags", "mtu", "operstate", "txqlen", "link_type", "address"):
            if key in out:
                keep[key] = out[key]
        out = keep
    return out


def _link_head(data: dict[str, Any], *, mode: bool) -> str:
    name = data["ifname"]
    if "link" in data:  # null: ifindex 0, which ip prints as NONE
        name += "@NONE" if data["link"] is None else f"@{data['link']}"
    elif "link_index" in data:
        name += f"@if{data['link_index']}"
    text = f"{data['ifindex']}: {name}: <{','.join(data['flags'])}>"
    if "mtu" in data:
        text += f" mtu {data['mtu']}"
    if "qdisc" in data:
        text += f" qdisc {data['qdisc']}"
    if "master" in data:
        text += f" master {data['master']}"
    text += f" state {data['operstate']}"
    if mode and "linkmode" in data:
        text += f" mode {data['linkmode']}"
    if "group" in data:
        text += f" group {data['group']}"
    if "txqlen" in data:
        text += f" qlen {data['txqlen']}"
    return text


def _netns_text(data: dict[str, Any], nsids: dict[int, str]) -> str:
    if "link_netnsid" not in data:
        return ""
    nsid = data["link_netnsid"]
    return f" link-netns {nsids[nsid]}" if nsid in nsids else f" link-netnsid {nsid}"


def link_lines(data: dict[str, Any], nsids: dict[int, str], *, mode: bool = True,
               stats: int = 2) -> list[str]:
    """The lines ``ip link show`` prints for one link (from ``link_json``).
    ``nsids`` maps nsid -> namespace name (``rawns.netns.nsid_names``): a
    peer in a named namespace shows as ``link-netns NAME``, as ip shows it.
    The details (``ip -d``) and statistics (``ip -s``) are printed when the
    JSON holds them (``link_json(..., details=True, stats=2)``); ``stats`` is
    how many of the counters to print (1: ``ip -s``, 2: ``ip -s -s``)."""
    lines = [_link_head(data, mode=mode)]
    if "link_type" in data:
        second = f"    link/{data['link_type']} "
        if "address" in data:
            second += data["address"]
        if "broadcast" in data:
            second += f" brd {data['broadcast']}"
        lines.append(second + _netns_text(data, nsids))
    elif "link_netnsid" in data:
        lines[0] += _netns_text(data, nsids)
    if "promiscuity" in data:
        _details_lines(data, lines)
    if "ifalias" in data:
        lines.append(f"    alias {data['ifalias']}")
    if "stats64" in data:
        lines += stats_lines(data["stats64"], stats)
    return lines


def _details_lines(data: dict[str, Any], lines: list[str]) -> None:
    """What ``ip -d`` adds: to the link-layer line, then a line for the kind's
    data and one for the data of a port in its master."""
    text = f" promiscuity {data['promiscuity']} "
    if "allmulti" in data:
        text += f" allmulti {data['allmulti']} "
    for key, label in (("min_mtu", "minmtu"), ("max_mtu", "maxmtu")):
        if key in data:
            text += f"{label} {data[key]} "
    lines[-1] += text
    info = data.get("linkinfo", {})
    if "info_kind" in info:
        kind = info["info_kind"]
        lines.append(f"    {kind} " + kind_text(kind, info.get("info_data", {})))
    if "info_slave_kind" in info:
        kind = info["info_slave_kind"] + "_slave"
        lines.append(f"    {kind} " + kind_text(kind, info.get("info_slave_data", {})))
    tail = ""
    if "inet6_addr_gen_mode" in data:
        tail += f"addrgenmode {data['inet6_addr_gen_mode']} "
    for key, label in (("num_tx_queues", "numtxqueues"), ("num_rx_queues", "numrxqueues"),
                       ("gso_max_size", "gso_max_size"), ("gso_max_segs", "gso_max_segs"),
                       ("tso_max_size", "tso_max_size"), ("tso_max_segs", "tso_max_segs"),
                       ("gro_max_size", "gro_max_size")):
        if key in data:
            tail += f"{label} {data[key]} "
    lines[-1] += tail


def _on_off(value: Any) -> str:
    return "on" if value else "off"


# ip's words for the keys of a bridge's (and a bridge port's) data in its text.
_BRIDGE_LABELS = {"root_id": "designated_root", "group_addr": "group_address",
                  "mcast_last_member_cnt": "mcast_last_member_count",
                  "mcast_startup_query_cnt": "mcast_startup_query_count"}
_PORT_LABELS = {"id": "port_id", "no": "port_no", "bridge_id": "designated_bridge",
                "root_id": "designated_root", "multicast_router": "mcast_router"}
_TIMERS = {"hello_timer", "tcn_timer", "topology_change_timer", "gc_timer", "hold_timer",
           "message_age_timer", "forward_delay_timer"}


def kind_text(kind: str, data: dict[str, Any]) -> str:
    """The words ``ip -d link`` prints for a kind's data (``info_data`` of
    ``Link.to_json(details=True)``); each followed by a space, as ip does."""
    text = ""
    if kind == "bridge":
        for key, value in data.items():
            label = _BRIDGE_LABELS.get(key, key.replace("_intvl", "_interval"))
            text += f"{label} {value:7.2f} " if key in _TIMERS else f"{label} {value} "
    elif kind == "bridge_slave":
        for key, value in data.items():
            label = _PORT_LABELS.get(key, key)
            if key in _TIMERS:
                text += f"{label} {value:7.2f} "
            elif isinstance(value, bool):
                text += f"{label} {_on_off(value)} "
            else:
                text += f"{label} {value} "
            if key == "multicast_router" and "fastleave" in data:
                text += f"mcast_fast_leave {_on_off(data['fastleave'])} "
    elif kind == "vxlan":
        text = _vxlan_text(data)
    elif kind in ("macvlan", "macvtap"):
        if "mode" in data:
            text += f"mode {data['mode']} "
        for key in ("nopromisc", "nodst"):
            if data.get(key):
                text += f"{key} "
        for key in ("bcqueuelen", "usedbcqueuelen"):
            if key in data:
                text += f"{key} {data[key]} "
    elif kind == "tun":
        if "type" in data:
            text += f"type {data['type']} "
        for key in ("pi", "vnet_hdr"):
            if key in data:
                text += f"{key} {_on_off(data[key])} "
        if data.get("multi_queue"):
            text += "multi_queue "
            for key in ("numqueues", "numdisabled"):
                if key in data:
                    text += f"{key} {data[key]} "
        if "persist" in data:
            text += f"persist {_on_off(data['persist'])} "
        for key in ("user", "group"):
            if key in data:
                text += f"{key} {data[key]} "
    return text


def _vxlan_text(data: dict[str, Any]) -> str:
    text = ""
    for key in ("external", "vnifilter"):
        if data.get(key):
            text += f"{key} "
    if "id" in data:
        text += f"id {data['id']} "
    for key, label in (("group", "group"), ("remote", "remote"), ("group6", "group"),
                       ("remote6", "remote"), ("local", "local"), ("local6", "local"),
                       ("link", "dev")):
        if key in data:
            text += f"{label} {data[key]} "
    if "port_range" in data:
        text += f"srcport {data['port_range']['low']} {data['port_range']['high']} "
    if "port" in data:
        text += f"dstport {data['port']} "
    if data.get("learning") is False:
        text += "nolearning "
    for key in ("proxy", "rsc", "l2miss", "l3miss"):
        if data.get(key):
            text += f"{key} "
    if "tos" in data:
        text += "tos inherit " if data["tos"] == "0x1" else f"tos {data['tos']} "
    if "ttl" in data:
        text += f"ttl {data['ttl'] or 'auto'} "
    if data.get("df") in ("set", "inherit"):
        text += f"df {data['df']} "
    if "label" in data:
        text += f"flowlabel {data['label']} "
    if "ageing" in data:
        text += f"ageing {data['ageing'] or 'none'} "
    if "limit" in data:
        text += f"maxaddr {data['limit']} "
    for key, word in (("udp_csum", "udpcsum"), ("udp_zero_csum6_tx", "udp6zerocsumtx"),
                      ("udp_zero_csum6_rx", "udp6zerocsumrx")):
        if key in data:
            text += ("" if data[key] else "no") + f"{word} "
    for key, word in (("remcsum_tx", "remcsumtx"), ("remcsum_rx", "remcsumrx"),
                      ("gbp", "gbp"), ("gpe", "gpe")):
        if data.get(key):
            text += f"{word} "
    return text


def _digits(value: int) -> int:
    return len(str(value))


def stats_lines(stats: dict[str, Any], level: int = 2) -> list[str]:
    """The lines ``ip -s link`` (``level=2``: ``ip -s -s link``) prints for
    ``stats64`` of ``Link.to_json(stats=2)``: columns as wide as their widest
    number, as ip sizes them."""
    rx, tx = stats["rx"], stats["tx"]
    more = level > 1
    columns = [len("*X errors:"), len("packets"), len("errors"), len("dropped"),
               len("heartbt"), len("overrun"), len("compressed"), len("otherhost")]

    def widen(*values: int) -> None:
        for index, value in enumerate(values):
            columns[index] = max(columns[index], _digits(value))

    widen(rx["bytes"], rx["packets"], rx["errors"], rx["dropped"], rx.get("missed_errors", 0),
          rx["multicast"], rx.get("compressed", 0), rx.get("otherhost", 0))
    if more:
        widen(0, rx["length_errors"], rx["crc_errors"], rx["frame_errors"],
              rx["fifo_errors"], rx["over_errors"], rx.get("nohandler", 0))
    widen(tx["bytes"], tx["packets"], tx["errors"], tx["dropped"], tx["carrier_errors"],
          tx["collisions"], tx.get("compressed", 0))
    if more:
        widen(0, 0, tx["aborted_errors"], tx["fifo_errors"], tx["window_errors"],
              tx["heartbeat_errors"], tx.get("carrier_changes", 0))
    c = columns

    def row(values: list[int], start: int) -> str:
        return "".join(f"{value:>{c[start + i]}} " for i, value in enumerate(values))

    missed = rx["missed_errors"]
    lines = [f"    RX: {'bytes':>{c[0] - 4}} {'packets':>{c[1]}} {'errors':>{c[2]}} "
             f"{'dropped':>{c[3]}} {'missed':>{c[4]}} {'mcast':>{c[5]}} "
             f"{'compressed' if 'compressed' in rx else '':>{c[6]}}",
             "    " + row([rx["bytes"], rx["packets"], rx["errors"], rx["dropped"], missed,
                           rx["multicast"]] + ([rx["compressed"]] if "compressed" in rx
                                               else []), 0)]
    if more:
        head = (f"    RX errors: {'length':>{c[1]}} {'crc':>{c[2]}} {'frame':>{c[3]}} "
                f"{'fifo':>{c[4]}} {'overrun':>{c[5]}}")
        values = [rx["length_errors"], rx["crc_errors"], rx["frame_errors"],
                  rx["fifo_errors"], rx["over_errors"]]
        if "nohandler" in rx:
            head += f" {'nohandler':>{c[6]}}"
            values.append(rx["nohandler"])
        if "otherhost" in rx:
            head += f" {'otherhost':>{c[7]}}"
            values.append(rx["otherhost"])
        lines += [head, " " * (c[0] + 5) + row(values, 1)]
    lines += [f"    TX: {'bytes':>{c[0] - 4}} {'packets':>{c[1]}} {'errors':>{c[2]}} "
              f"{'dropped':>{c[3]}} {'carrier':>{c[4]}} {'collsns':>{c[5]}} "
              f"{'compressed' if 'compressed' in tx else '':>{c[6]}}",
              "    " + row([tx["bytes"], tx["packets"], tx["errors"], tx["dropped"],
                            tx["carrier_errors"], tx["collisions"]]
                           + ([tx["compressed"]] if "compressed" in tx else []), 0)]
    if more:
        head = (f"    TX errors: {'aborted':>{c[1]}} {'fifo':>{c[2]}} {'window':>{c[3]}} "
                f"{'heartbt':>{c[4]}}")
        values = [tx["aborted_errors"], tx["fifo_errors"], tx["window_errors"],
                  tx["heartbeat_errors"]]
        if "carrier_changes" in tx:
            head += f" {'transns':>{c[5]}}"
            values.append(tx["carrier_changes"])
        lines += [head, " " * (c[0] + 5) + row(values, 1)]
    return lines


def _brief_name(data: dict[str, Any]) -> str:
    name = str(data["ifname"])
    if "link" in data:
        name += "@NONE" if data["link"] is None else f"@{data['link']}"
    elif "link_index" in data:
        name += f"@if{data['link_index']}"
    return name


def link_brief_json(data: dict[str, Any]) -> dict[str, Any]:
    """``ip -br -j link`` of one link, from its ``link_json``."""
    out: dict[str, Any] = {key: data[key] for key in ("link", "link_index") if key in data}
    out["ifname"] = data["ifname"]
    out["operstate"] = data["operstate"]
    if "address" in data:
        out["address"] = data["address"]
    out["flags"] = data["flags"]
    return out


def link_brief_line(data: dict[str, Any]) -> str:
    """``ip -br link``'s line for one link, from ``link_brief_json``."""
    text = f"{_brief_name(data):<16} {data['operstate']:<14} "
    if "address" in data:
        text += f"{data['address']} "
    return text + f"<{','.join(data['flags'])}> "


def tuntap_json(link: Link) -> dict[str, Any]:
    """``ip -j tuntap show`` of one tun/tap device (a ``Handle.tuntap_list`` link)."""
    data = link.info_data
    flags = [{1: "tun", 2: "tap"}.get(int(data.get("IFLA_TUN_TYPE", 0)), "tun")]
    if data.get("IFLA_TUN_PI"):
        flags.append("pi")
    if data.get("IFLA_TUN_VNET_HDR"):
        flags.append("vnet_hdr")
    if data.get("IFLA_TUN_MULTI_QUEUE"):
        flags.append("multi_queue")
    if data.get("IFLA_TUN_PERSIST"):
        flags.append("persist")
    if data.get("IFLA_TUN_PI"):
        # ip reads IFF_NOFILTER, the same bit as IFF_NO_PI, and prints "filter"
        # when it is clear: for every device with packet information.
        flags.append("filter")
    out: dict[str, Any] = {"ifname": link.name, "flags": flags}
    for key, name in (("IFLA_TUN_OWNER", "user"), ("IFLA_TUN_GROUP", "group")):
        value = data.get(key)
        if value is not None and int(value) != 0xFFFFFFFF:
            out[name] = int(value)
    return out


def tuntap_line(entry: dict[str, Any]) -> str:
    """``ip tuntap show``'s line for one device (``ip -d``: and the processes
    holding it), from ``tuntap_json``."""
    text = f"{entry['ifname']}:" + "".join(f" {flag}" for flag in entry["flags"])
    for key in ("user", "group"):
        if key in entry:
            text += f" {key} {entry[key]}"
    if entry.get("processes"):
        text += "\n\tAttached to processes:" + " ".join(
            f"{p['name']}({p['pid']})" for p in entry["processes"])
    return text


# --- addresses ----------------------------------------------------------------------------

_ADDR_FLAGS = ("secondary", "dynamic", "noprefixroute", "tentative", "deprecated", "nodad",
               "optimistic", "dadfailed", "home")

def _lifetime(seconds: int) -> str:
    return "forever" if seconds == INFINITY_LIFE_TIME else f"{seconds}sec"


def addr_lines(info: dict[str, Any], *, dev: Optional[str] = None) -> list[str]:
    """The two lines ``ip addr show`` prints for one element of ``addr_info``."""
    local = info["local"]
    if "address" in info:
        text = f"    {info['family']} {local} peer {info['address']}/{info['prefixlen']}"
    else:
        text = f"    {info['family']} {local}/{info['prefixlen']}"
    if "broadcast" in info:
        text += f" brd {info['broadcast']}"
    text += f" scope {info['scope']}"
    for flag in _ADDR_FLAGS:
        if info.get(flag):
            text += f" {flag}"
    if info["family"] == "inet":
        text = f"{text} {info.get('label', dev or '')}".rstrip()
    else:
        text += " "  # ip ends an IPv6 line with a space (each flag is followed by one)
    return [text,
            f"       valid_lft {_lifetime(info['valid_life_time'])} "
            f"preferred_lft {_lifetime(info['preferred_life_time'])}"]


def addr_json(links: Iterable[Link], addresses: Iterable[Address], names: dict[int, str],
              family: Optional[int], up: Optional[set[int]] = None, *,
              details: bool = False) -> list[dict[str, Any]]:
    """``ip -j [-4|-6] addr show``: each link with its ``addr_info``. Without
    a family every link is listed; with one, only links holding an address
    of that family, as ip does. ip shows a link's alias in ``link show``
    only, so it is left out here."""
    by_index: dict[int, list[Address]] = {}
    for address in addresses:
        by_index.setdefault(address.index, []).append(address)
    out = []
    for link in links:
        mine = by_index.get(link.index, [])
        if family is not None and not mine:
            continue
        entry = link_json(link, names, linkmode=False, family=family, up=up, details=details)
        if not details:  # as ip: the alias shows in 'addr show' only with -d
            entry.pop("ifalias", None)
        entry["addr_info"] = [a.to_json() for a in mine]
        out.append(entry)
    return out


def addr_brief_json(entry: dict[str, Any]) -> dict[str, Any]:
    """``ip -br -j addr`` of one link, from one element of ``addr_json``."""
    out: dict[str, Any] = {key: entry[key] for key in ("link", "link_index") if key in entry}
    out["ifname"] = entry["ifname"]
    out["operstate"] = entry["operstate"]
    out["addr_info"] = [{"local": info["local"], "prefixlen": info["prefixlen"]}
                        for info in entry["addr_info"]]
    return out


def addr_brief_line(entry: dict[str, Any]) -> str:
    """``ip -br addr``'s line for one link, from ``addr_brief_json``."""
    text = f"{_brief_name(entry):<16} {entry['operstate']:<14} "
    for info in entry["addr_info"]:
        text += f"{info['local']}/{info['prefixlen']} "
    return text


def addr_oneline(entry: dict[str, Any]) -> list[str]:
    """``ip -o addr``: one line per address, ``N: NAME`` before it, its two
    lines joined by a backslash."""
    return [f"{entry['ifindex']}: {entry['ifname']}" + "\\".join(
        addr_lines(info, dev=entry["ifname"])) for info in entry["addr_info"]]


def link_addr_lines(entry: dict[str, Any], nsids: dict[int, str], *, stats: int = 2
                    ) -> list[str]:
    """The lines ``ip addr show`` prints for one link (one element of ``addr_json``);
    ``stats64`` in it (``ip -s addr``) comes after the addresses, ``stats`` of its
    levels (see ``link_lines``)."""
    lines = link_lines({k: v for k, v in entry.items() if k != "stats64"}, nsids, mode=False)
    for info in entry["addr_info"]:
        lines += addr_lines(info, dev=entry["ifname"])
    if "stats64" in entry:
        lines += stats_lines(entry["stats64"], stats)
    return lines


# --- routes and neighbours ------------------------------------------------------------------

def route_line(data: dict[str, Any]) -> str:
    """One line of ``ip route show`` (from ``Route.to_json``), byte for byte:
    with ip's trailing space, which only IPv6's ``pref`` goes without."""
    parts = []
    if "type" in data:
        parts.append(data["type"])
    parts.append(data["dst"])
    if "gateway" in data:
        parts += ["via", data["gateway"]]
    if "dev" in data:
        parts += ["dev", data["dev"]]
    if "table" in data:
        parts += ["table", str(data["table"])]
    if "protocol" in data:
        parts += ["proto", data["protocol"]]
    if "scope" in data:
        parts += ["scope", data["scope"]]
    if "prefsrc" in data:
        parts += ["src", data["prefsrc"]]
    if "metric" in data:
        parts += ["metric", str(data["metric"])]
    parts += data.get("flags", [])
    if "pref" in data:  # ip ends every other word with a space, this one not
        return " ".join(parts + ["pref", data["pref"]])
    return " ".join(parts) + " "


def _route_head(data: dict[str, Any]) -> str:
    """The first line of a route as ip prints it: each field followed by a space,
    but ``pref`` (IPv6), which ip prints last and without one."""
    text = ""
    if "type" in data:
        text += f"{data['type']} "
    text += f"{data['dst']} "
    if "from" in data:
        text += f"from {data['from']} "
    if "tos" in data:
        text += f"tos {data['tos']} "
    if "gateway" in data:
        text += f"via {data['gateway']} "
    if "dev" in data:
        text += f"dev {data['dev']} "
    if "table" in data:
        text += f"table {data['table']} "
    if "protocol" in data:
        text += f"proto {data['protocol']} "
    if "scope" in data:
        text += f"scope {data['scope']} "
    if "prefsrc" in data:
        text += f"src {data['prefsrc']} "
    if "metric" in data:
        text += f"metric {data['metric']} "
    for flag in data.get("flags", ()):
        text += f"{flag} "
    if "mark" in data:
        mark = data["mark"]
        text += f"mark {mark:#x} " if mark >= 16 else f"mark {mark} "
    if "uid" in data:
        text += f"uid {data['uid']} "
    if "cache" in data:
        flags = ",".join(data["cache"])
        text += "\n    cache " + (f"<{flags}> " if flags else "")
    if "expires" in data:
        text += f"expires {data['expires']}sec "
    if "users" in data:
        text += f"users {data['users']} "
    if "used" in data:
        text += f"used {data['used']} "
    if "age" in data:
        text += f"age {data['age']}sec "
    return text


def _route_metrics(data: dict[str, Any], locked: frozenset[str]) -> str:
    text = ""
    for values in data.get("metrics", ()):
        for name, value in values.items():
            label = "congctl" if name == "congestion" else name
            text += f"{label} " + ("lock " if label in locked else "")
            if label in ("rtt", "rttvar", "rto_min"):
                text += f"{value:g}s " if isinstance(value, float) else f"{value}ms "
            else:
                text += f"{value} "
    return text


def route_lines(data: dict[str, Any], *, locked: frozenset[str] = frozenset(),
                oneline: bool = False) -> list[str]:
    """The lines ``ip route show`` (and ``ip route get``) print for one route
    (from ``Route.to_json``): next hops of a multipath route each on a line of
    their own, ``cache`` of a looked-up route on the second. ``locked`` are
    the metrics given with ``lock`` (``Route.locked``), which ``-j`` leaves
    out. ``oneline`` (``ip -o``) joins the lines with a backslash, as ip does."""
    text = _route_head(data) + _route_metrics(data, locked)
    if "iif" in data:
        text += f"iif {data['iif']} "
    if "pref" in data:
        text += f"pref {data['pref']}"
    for hop in data.get("nexthops", ()):
        text += "\n\tnexthop "
        if "gateway" in hop:
            text += f"via {hop['gateway']} "
        if "dev" in hop:
            text += f"dev {hop['dev']} "
        text += f"weight {hop['weight']} "
        for flag in hop.get("flags", ()):
            text += f"{flag} "
    if oneline:
        return [text.replace("\n", "\\")]
    return text.split("\n")


def neigh_line(data: dict[str, Any]) -> str:
    """One line of ``ip neigh show`` (from ``Neighbour.to_json``), byte for
    byte: each word followed by a space, and with ``-s`` (``to_json(stats=True)``)
    ip's ``ref N``, ``used U/C/U`` and ``probes N``, spaced as ip spaces them
    (``used 1/1/1probes 4``)."""
    text = f"{data['dst']} "
    if "dev" in data:
        text += f"dev {data['dev']} "
    if "lladdr" in data:
        text += f"lladdr {data['lladdr']} "
    for flag in ("router", "proxy", "extern_learn", "offload"):
        if flag in data:
            text += f"{flag} "
    if "refcnt" in data:
        text += f" ref {data['refcnt']}"
    if "used" in data:
        text += f" used {data['used']}/{data['confirmed']}/{data['updated']}"
    if "probes" in data:
        text += f"probes {data['probes']} "
    for state in data.get("state", ()):
        text += f"{state} "
    return text


def rule_line(data: dict[str, Any]) -> str:
    """One line of ``ip rule show`` (from ``Rule.to_json``)."""
    text = f"{data['priority']}:\t"
    if "not" in data:
        text += "not "
    text += f"from {data['src']}"
    if "srclen" in data:
        text += f"/{data['srclen']}"
    if "dst" in data:
        text += f" to {data['dst']}"
        if "dstlen" in data:
            text += f"/{data['dstlen']}"
    if "tos" in data:
        text += f" tos {data['tos']}"
    if "fwmark" in data:
        text += f" fwmark {data['fwmark']}"
        if "fwmask" in data:
            text += f"/{data['fwmask']}"
    for key in ("iif", "oif"):
        if key in data:
            text += f" {key} {data[key]}"
            if f"{key}_detached" in data:
                text += " [detached]"
    if "l3mdev" in data:
        text += " lookup [l3mdev-table]"
    if "uid_start" in data:
        text += f" uidrange {data['uid_start']}-{data['uid_end']}"
    if "ipproto" in data:
        text += f" ipproto {data['ipproto']}"
    for key in ("sport", "dport"):
        if key in data:
            text += f" {key} {data[key]}"
        elif f"{key}_start" in data:
            text += f" {key} {data[key + '_start']}-{data[key + '_end']}"
    if "table" in data:
        text += f" lookup {data['table']}"
    if "suppress_prefixlen" in data:
        text += f" suppress_prefixlength {data['suppress_prefixlen']}"
    if "suppress_ifgroup" in data:
        text += f" suppress_ifgroup {data['suppress_ifgroup']}"
    if "flow_to" in data:
        text += " realms " + (f"{data['flow_from']}/" if "flow_from" in data else "")
        text += data["flow_to"]
    if "goto" in data:
        text += f" goto {data['goto']}"
        if "unresolved" in data:
            text += " [unresolved]"
    if "nop" in data:
        text += " nop"
    if "action" in data:
        text += f" {data['action']}"
    if "protocol" in data:
        text += f" proto {data['protocol']}"
    return text


#: NUD states ``ip neigh show`` lists by default: all but NOARP (and NONE).
SHOWN_NEIGH_STATES = frozenset({"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE",
                                "FAILED", "PERMANENT"})


def visible_neighbours(neighbours: Iterable[Neighbour],
                       states: Optional[set[str] | frozenset[str]] = None
                       ) -> list[Neighbour]:
    """The entries ``ip neigh show`` prints: by default every state but
    NOARP/NONE (the kernel's multicast and loopback entries), plus proxy and
    externally learned ones; ``states`` (``nud STATE``) chooses others."""
    wanted = SHOWN_NEIGH_STATES if states is None else states
    return [n for n in neighbours
            if (n.state & wanted) or ({"proxy", "ext_learned"} & n.flags)
            or (not n.state and "NONE" in wanted)]


# --- monitor events ---------------------------------------------------------------------------

def _event_object(event: Event, names: dict[int, str]) -> tuple[dict[str, Any], list[str]]:
    """The JSON and the text lines of the object a monitor event carries."""
    obj = event.obj
    if isinstance(obj, Link):
        data = link_json(obj, names)
        return data, link_lines(data, {})
    if isinstance(obj, Address):
        data = obj.to_json()
        data["ifindex"] = obj.index
        data["dev"] = names.get(obj.index, f"if{obj.index}")
        head, second = addr_lines(data, dev=data["dev"])
        return data, [f"{obj.index}: {data['dev']}{head}", second]
    if isinstance(obj, Route):
        data = obj.to_json(names)
        return data, [route_line(data)]
    data = obj.to_json(names)
    return data, [neigh_line(data)]


def event_json(event: Event, names: dict[int, str]) -> dict[str, Any]:
    """One event of ``ip -j monitor``: ``event`` (new/del), ``object`` (its
    kind), the object's own keys, and ``deleted`` for a removal."""
    data, _ = _event_object(event, names)
    out = {"event": event.action, "object": event.kind, **data}
    if event.action == "del":
        out["deleted"] = True
    return out


def event_lines(event: Event, names: dict[int, str], *, labels: bool) -> list[str]:
    """The lines ``ip monitor`` prints for one event: ``Deleted`` before a
    removal, and ``[LINK]``-style labels when several kinds are watched."""
    _, lines = _event_object(event, names)
    if event.action == "del":
        lines[0] = "Deleted " + lines[0]
    if labels:
        lines[0] = f"[{event.kind.upper()}]" + lines[0]
    return lines
