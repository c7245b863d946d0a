"""The command line's grammar: options, words and abbreviations as ip reads them, values, usage.

    rawns [-n NS] [-j [-p]] [-4|-6] [-br|-o] [-s] [-d] [--trace] OBJECT COMMAND ...

Invariants:
- Pure: it reads words and returns values or raises ``UsageError`` (or
  ``ShowHelp``); it prints nothing and touches no namespace.
- Abbreviations resolve as in iproute2: an exact spelling wins, else the
  first entry in table order that starts with the word.
- Cheap to import: the standard library only, loaded when needed
  (``rawns -V`` and ``rawns help`` read nothing else).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    import ipaddress
    from collections.abc import Iterable, Sequence
    from typing import Optional, Union

__all__ = [
    "PROG", "UsageError", "Reported", "ShowHelp", "Options", "parse_options",
    "resolve", "Words", "parse_int", "parse_float", "parse_ip", "verb",
    "OBJECT_TABLE", "OBJECT_MODULES", "OBJECT_COMMANDS", "USAGE", "HELP",
]

PROG = "rawns"


class UsageError(Exception):
    """The command line is not one rawns understands."""


class Reported(Exception):
    """A command that went on past its errors (as sysctl(8) does): the error
    lines, which the runner prints with its prefix (``rawns: FILE:LINE: ``
    in a batch), and the exit status."""

    def __init__(self, lines: list[str], status: int) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines
        self.status = status


class ShowHelp(Exception):
    """``help`` was asked for an object: print its usage and exit 0."""

    def __init__(self, obj: str) -> None:
        super().__init__(obj)
        self.obj = obj


class Options:
    """The global options, before OBJECT."""

    __slots__ = ("netns", "json", "pretty", "family", "trace", "help", "version",
                 "brief", "oneline", "stats", "details", "batch", "force", "all")

    def __init__(self) -> None:
        self.netns: Optional[str] = None     # -n NAME
        self.json = False                    # -j
        self.pretty = False                  # -p
        self.family: Optional[int] = None    # 4 or 6 (-4, -6)
        self.trace = False                   # --trace
        self.help = False                    # -h: print the usage, do nothing else
        self.version = False                 # -V: print the version, do nothing else
        self.brief = False                   # -br: one short line per object
        self.oneline = False                 # -o: each object on one line
        self.stats = 0                       # -s (-s -s: more): statistics
        self.details = False                 # -d: details (kind data, ...)
        self.batch: Optional[str] = None     # -batch FILE|-: commands from FILE
        self.force = False                   # -force: go on after a failed batch line
        self.all = False                     # -all: every named namespace (netns exec)


def parse_options(args: list[str]) -> Options:
    """Strip the global options off the front of ``args``. ``-h`` and ``-V``
    end the parsing (what follows them is not read), as with ip."""
    opts = Options()
    while args and args[0].startswith("-") and args[0] != "-":
        flag = args.pop(0)
        name = flag.lstrip("-")
        if name in ("n", "netns"):
            if not args:
                raise UsageError(f"option {flag} needs a namespace name")
            opts.netns = args.pop(0)
        elif flag.startswith("-n") and not flag.startswith("--") and len(flag) > 2 \
                and not "netns".startswith(name):
            opts.netns = flag[2:]  # -nNAME
        elif name in ("j", "json"):
            opts.json = True
        elif name in ("p", "pretty"):
            opts.pretty = True
        elif name == "4":
            opts.family = 4
        elif name == "6":
            opts.family = 6
        elif name in ("jp", "pj"):
            opts.json = opts.pretty = True
        elif name == "trace":
            opts.trace = True
        elif name in ("br", "brief"):
            opts.brief = True
        elif name in ("o", "oneline"):
            opts.oneline = True
        elif name in ("s", "stats", "statistics"):
            opts.stats += 1
        elif name in ("d", "details"):
            opts.details = True
        elif name in ("b", "batch"):
            if not args:
                raise UsageError(f"option {flag} needs a file name (or '-' for stdin)")
            opts.batch = args.pop(0)
        elif name == "force":
            opts.force = True
        elif name in ("a", "all"):
            opts.all = True
        elif name in ("h", "help"):
            opts.help = True
            break
        elif name in ("V", "version", "Version"):
            opts.version = True
            break
        else:
            raise UsageError(f"unknown option {flag!r} (try '{PROG} help')")
    return opts


# --- words ---------------------------------------------------------------------

def resolve(word: str, table: Sequence[tuple[str, Sequence[str]]], what: str) -> str:
    """``word`` -> canonical name, as ip resolves commands: an exact spelling
    wins; else the first entry (in table order) with a spelling that starts
    with ``word`` (so ``a`` is ``address``, ``l`` is ``link``). Spellings
    written ``"=set"`` match only in full, as ip's ``strcmp`` ones."""
    for name, spellings in table:
        if word in spellings or "=" + word in spellings:
            return name
    if word:
        for name, spellings in table:
            if any(s.startswith(word) for s in spellings if not s.startswith("=")):
                return name
    choices = ", ".join(name for name, _ in table)
    raise UsageError(f"unknown {what} {word!r}; expected one of: {choices} "
                     f"(try '{PROG} {_help_target(what)}help')")


def _help_target(what: str) -> str:
    obj = what.split()[0]
    return "" if obj in ("object", "option") else f"{obj} "


class Words:
    """A cursor over the words of a command, for keyword-value grammars.
    ``context`` (``"link add"``) starts every error message."""

    def __init__(self, words: Iterable[str], context: str) -> None:
        self.words = list(words)
        self.context = context

    def __bool__(self) -> bool:
        return bool(self.words)

    def peek(self) -> Optional[str]:
        return self.words[0] if self.words else None

    def pop(self, what: str) -> str:
        if not self.words:
            raise UsageError(f"{self.context}: {what} is missing")
        return self.words.pop(0)

    def value(self, keyword: str) -> str:
        if not self.words:
            raise UsageError(f"{self.context}: {keyword!r} needs a value")
        return self.words.pop(0)

    def int_value(self, keyword: str, low: int = 0, high: int = 2**32 - 1) -> int:
        return parse_int(self.value(keyword), f"{self.context}: {keyword}", low, high)

    def rest(self) -> list[str]:
        words, self.words = self.words, []
        return words

    def end(self) -> None:
        if self.words:
            raise UsageError(f"{self.context}: unexpected {self.words[0]!r} "
                             f"(try '{PROG} {self.context.split()[0]} help')")


def verb(words: Words, obj: str, commands: Sequence[tuple[str, Sequence[str]]],
         default: str) -> str:
    """The command given to ``obj`` (``default`` if none), resolved as ip
    resolves abbreviations; ``help`` raises ShowHelp for the object."""
    name = resolve(words.pop("command"), commands, f"{obj} command") if words else default
    words.context = f"{obj} {name}"
    if name == "help":
        raise ShowHelp(obj)
    return name


# --- values --------------------------------------------------------------------------

def parse_int(text: str, what: str, low: int = 0, high: int = 2**32 - 1) -> int:
    """``text`` as an integer in ``low..high`` (decimal, or 0x/0o/0b)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if not low <= value <= high:
        raise UsageError(f"{what}: {value} is out of range {low}..{high}")
    return value


def parse_float(text: str, what: str) -> float:
    """``text`` as a number of seconds, not negative."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if value < 0:
        raise UsageError(f"{what}: must not be negative")
    return value


def parse_ip(text: str, what: str) -> Union[ipaddress.IPv4Address, ipaddress.IPv6Address]:
    """``text`` as an IPv4 or IPv6 address."""
    import ipaddress  # here: most commands never parse an address

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not an IPv4 or IPv6 address") from None


# --- objects and their usage ------------------------------------------------------------

#: (name, spellings) of each OBJECT, in the order ip resolves abbreviations.
OBJECT_TABLE: list[tuple[str, Sequence[str]]] = [
    ("addr", ["address", "addr"]),
    ("route", ["route"]),
    ("rule", ["rule"]),
    ("neigh", ["neighbour", "neighbor", "neigh"]),
    ("link", ["link"]),
    ("tuntap", ["tuntap", "tap"]),
    ("monitor", ["monitor"]),
    ("netns", ["netns"]),
    ("ping", ["ping"]),
    ("demo", ["demo"]),
    ("explain", ["explain"]),
    ("up", ["up"]),
    ("down", ["down"]),
    ("show", ["show"]),
    ("graph", ["graph"]),
    ("sysctl", ["sysctl"]),
    ("help", ["help"]),
]

#: The module (``rawns.cli.NAME``) of each OBJECT whose module is not named after it.
OBJECT_MODULES: dict[str, str] = {"up": "topology", "down": "topology", "show": "topology",
                                  "graph": "topology"}

#: The commands addr, route and neigh share, with ip's spellings.
OBJECT_COMMANDS: list[tuple[str, Sequence[str]]] = [
    ("add", ["add"]),
    ("replace", ["replace"]),
    ("delete", ["delete", "del"]),
    ("show", ["show", "list", "lst", "ls"]),
    ("help", ["help"]),
]

USAGE = f"""\
Usage: {PROG} [OPTIONS] OBJECT {{ COMMAND | help }}
OBJECT := {{ link | addr | route | rule | neigh | tuntap | netns | monitor | ping
           | sysctl | demo | explain | up | down | show | graph }}
OPTIONS := {{ -n[etns] NAME | -j[son] | -p[retty] | -4 | -6 | -br[ief] | -o[neline] |
             -s[tats] | -d[etails] | -b[atch] FILE | -force | -a[ll] | --trace |
             -h[elp] | -V }}

  -n NAME   act inside the named network namespace (no thread of {PROG} moves)
  -j        print JSON with the keys of 'ip -j'; -p indents it
  -4, -6    only IPv4 / IPv6 (addr, route, neigh, rule)
  -br       brief: one short line per link or address (link, addr)
  -o        one line per object (link, addr, route)
  -s        statistics (link, addr; neigh and route: ages, probes, use counts);
            -s -s more of them
  -d        details: the kind's data of a link, every field of a route
  -batch F  run the commands of file F ('-': stdin), one per line, in one process;
            a line may start with '-n NS'; -force goes on after a failed line
  -all      with 'netns exec': run the command in every named namespace
  --trace   print every netlink message sent and received, decoded, on stderr

Objects and commands may be abbreviated as with ip: '{PROG} a' is 'addr show',
'{PROG} l s' is 'link show'. '{PROG} OBJECT help' explains one object.
'{PROG} demo' walks through the container-networking setup, step by step;
'{PROG} explain FILE' names every byte of netlink messages captured elsewhere.
'{PROG} up FILE' makes a containerlab topology of namespaces ('{PROG} up help').
"""

_TOPOLOGY_HELP = f"""\
Usage: {PROG} [-n HOST] up FILE       make a containerlab topology: all of it, or nothing
       {PROG} [-n HOST] down FILE     remove what FILE names (nothing else)
       {PROG} [-n HOST] [-j [-p]] show FILE   its nodes, interfaces, states, addresses
       {PROG} graph FILE [dot|mermaid]        the topology as Graphviz DOT or Mermaid
         FILE is containerlab's format (YAML needs PyYAML; or JSON). Linux nodes
         are namespaces named clab-LAB-NODE; HOST is the namespace standing for
         the host (host links, bridges), by default the one {PROG} runs in.
"""

#: What ``rawns OBJECT help`` prints.
HELP = {
    "netns": f"""\
Usage: {PROG} netns list                 named namespaces (with their nsid here)
       {PROG} netns add NAME             create /run/netns/NAME (unshare + bind mount)
       {PROG} netns delete NAME
       {PROG} netns exec NAME CMD...     run CMD inside NAME (as 'ip netns exec')
       {PROG} -all netns exec CMD...     run CMD in every named namespace in turn
       {PROG} netns pids NAME            the processes whose namespace is NAME
       {PROG} netns attach NAME PID      name the namespace of process PID
       {PROG} netns identify [PID]       the names of PID's namespace
       {PROG} [-n NS] netns set NAME NSID|auto   give NAME an id inside NS
       {PROG} [-n NS] netns list-id      the ids NS has given
""",
    "link": f"""\
Usage: {PROG} [-n NS] link add [name] NAME [link DEV] [link-netnsid N] [mtu N]
                 [address MAC] type KIND [ARGS]
         KIND := veth peer [name] PEER [netns NS|PID] [address MAC]
               | bridge [stp_state 0|1]
               | vxlan id VNI [remote ADDR | group ADDR dev DEV] [local ADDR]
                       [dstport PORT] [ttl N] [learning|nolearning] [dev DEV]
               | macvlan|macvtap [mode private|vepa|bridge|passthru [nopromisc]|source]
                       [bcqueuelen N]                        (needs link DEV)
               | vlan id VID [protocol 802.1Q|802.1ad]       (needs link DEV)
               | ipvlan [mode l2|l3|l3s] [bridge|private|vepa] (needs link DEV)
               | bond [mode MODE] [miimon MS] | vrf table T | dummy | ifb | wireguard
         (link-netnsid N: a veth's peer goes to the namespace with nsid N here)
       {PROG} [-n NS] link set [dev] DEV [up|down] [mtu N] [name NEW] [address MAC]
                 [master BR | nomaster] [netns NS|PID] [alias TEXT] [txqlen N]
       {PROG} [-n NS] link delete [dev] DEV
       {PROG} [-n NS] [-j] [-br|-o] [-s [-s]] [-d] link show [[dev] DEV] [type KIND]
                 [master BR] [up]
""",
    "addr": f"""\
Usage: {PROG} [-n NS] addr add|replace ADDR/PLEN dev DEV [broadcast ADDR|+]
                 [label LABEL] [scope SCOPE] [peer ADDR] [nodad]
       {PROG} [-n NS] addr delete ADDR/PLEN dev DEV
       {PROG} [-n NS] [-j] [-br|-o] [-s [-s]] [-d] [-4|-6] addr show [[dev] DEV]
""",
    "route": f"""\
Usage: {PROG} [-n NS] [-4|-6] route add|replace|delete [TYPE] PREFIX|default
                 [via ADDR] [dev DEV] [metric N] [table T] [proto P] [scope S]
                 [src ADDR] [mtu [lock] N] [advmss N] [onlink]
                 [nexthop via ADDR dev DEV weight W ...]
         TYPE := unicast | local | broadcast | multicast | throw | unreachable
               | prohibit | blackhole
       {PROG} [-n NS] [-j] [-o] [-s] [-d] [-4|-6] route show|flush
                 [[root|match|exact] PREFIX|default] [table T|all] [dev DEV]
                 [proto P] [scope S] [type TYPE] [via ADDR] [metric N] [cache]
       {PROG} [-n NS] [-j] [-s] [-d] route get ADDR [from ADDR] [iif DEV] [oif DEV]
                 [mark M]
         (IPv4 and the main table unless told otherwise, as ip; -s adds the
          kernel's use counts: 'users N', 'used N', 'age Nsec'; 'cache': the
          exception routes (path MTU, redirects); 'flush cache' empties IPv4's
          whole, as ip, and removes the IPv6 ones the selectors pick with -6)
""",
    "tuntap": f"""\
Usage: {PROG} [-n NS] tuntap add|del [dev] NAME mode tun|tap [user U] [group G]
                 [multi_queue] [pi] [vnet_hdr] [one_queue]
       {PROG} [-n NS] [-j] [-d] tuntap show
         through /dev/net/tun opened inside NS; add makes the device persistent,
         del makes it not (it goes when no process holds it); -d: who holds it
""",
    "rule": f"""\
Usage: {PROG} [-n NS] [-4|-6] rule add|delete [not] [from PREFIX|all] [to PREFIX]
                 [iif DEV] [oif DEV] [fwmark MARK[/MASK]] [tos TOS] [priority N]
                 [lookup TABLE | goto N | nop | blackhole | unreachable | prohibit]
                 [suppress_prefixlength N] [suppress_ifgroup G] [realms [FROM/]TO]
                 [uidrange A-B] [ipproto P] [sport P[-Q]] [dport P[-Q]] [protocol P]
       {PROG} [-n NS] [-j] [-d] [-4|-6] rule show|flush [not] [from PREFIX] [to PREFIX]
                 [iif DEV] [oif DEV] [fwmark MARK[/MASK]] [table T] [priority N]
                 [protocol P]
         (IPv4 unless -6, as ip; flush spares only the rule of priority 0, so it
          removes the 'main' and 'default' lookups too unless a selector spares them)
""",
    "neigh": f"""\
Usage: {PROG} [-n NS] neigh add|replace ADDR lladdr MAC dev DEV
                 [nud permanent|noarp|reachable|stale]
       {PROG} [-n NS] neigh delete ADDR dev DEV
       {PROG} [-n NS] [-j] [-s] [-4|-6] neigh show [dev DEV] [nud STATE|all]
         (NOARP entries are hidden unless asked for, as ip; -s adds what ip -s
          adds: 'ref N', 'used USED/CONFIRMED/UPDATED' seconds ago, 'probes N')
""",
    "sysctl": f"""\
Usage: {PROG} [-n NS] [-j [-p]] sysctl [-n|-N|-b] [-e] [-q] [-w] KEY[=VALUE] ...
       {PROG} [-n NS] sysctl -a [-r PATTERN] [--deprecated]
         sysctl(8)'s grammar for the network sysctls (net.*) of NS, without a
         fork: KEY prints 'KEY = VALUE' (a directory: every key below it),
         KEY=VALUE writes; KEY as net.ipv4.ip_forward or net/ipv4/ip_forward
         (net.ipv4.conf.eth0/5.forwarding names eth0.5). -n: values only,
         -N: names only, -b: values without a newline, -e: no error for a
         missing key, -q: nothing printed for a write, -w: every argument is
         a write, -a: every net.* key (-r: those whose name matches PATTERN).
         Output, errors and exit status are sysctl's; -j: one JSON object.
""",
    "monitor": f"""\
Usage: {PROG} [-n NS] [-j] monitor [link] [addr] [route] [neigh] [all]
         prints each change as it happens, until Ctrl-C
""",
    "ping": f"""\
Usage: {PROG} [-n NS] ping [-c COUNT] [-W TIMEOUT] [-i INTERVAL] [-s SIZE] ADDR
         ICMP echo over a raw socket opened inside NS (no ping binary needed);
         without -c it runs until Ctrl-C. Exit status 0 if any reply came.
""",
    "demo": f"""\
Usage: {PROG} demo [--verbose] [--keep] [--delay SECONDS]
         two namespaces joined by a veth pair, addressed, pinged and shown,
         with the netlink messages of each step; everything is removed after
         (--keep leaves it for exploring with '{PROG} -n NAME ...').
""",
    "explain": f"""\
Usage: {PROG} [-j [-p]] explain [FILE | -] [-j]
         every byte of the netlink messages in FILE (or standard input) named:
         each header field by field, each attribute with its offset, kernel
         name, value and bytes.  FILE holds hex text (what '{PROG} --trace'
         prints, xxd, hexdump -C, tcpdump -X, bare hex), raw bytes, or a pcap
         or pcapng capture of an nlmon device (link type NETLINK).  -j: the
         same as JSON.  Exit status 1 if anything did not decode.
""",
    "up": _TOPOLOGY_HELP,
    "down": _TOPOLOGY_HELP,
    "show": _TOPOLOGY_HELP,
    "graph": _TOPOLOGY_HELP,
    "help": USAGE,
}
