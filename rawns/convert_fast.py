"""``convert``'s readers of addresses and neighbours, fused: header, attributes and model object in one step.

``convert.read_address`` reads a reply in three steps: the generic walk fills
a dict of attribute values through the tables, then a converter turns the
dict into a model object. Here the three are one generated function per
reply *shape* (the same attributes, in the same order, of the same sizes: a
namespace's addresses and neighbours come in a handful): one
``struct.unpack_from`` reads the whole reply, the attribute headers are
checked against the shape, and the model object is built from the values
straight away. The first reply of a shape is walked to learn it; the
function is made then (``exec``, on first use, never at import).

Invariants:
- :func:`read_address` and :func:`read_neighbour` return what
  ``convert.read_address`` and ``convert.read_neighbour`` return (equal
  model objects, None for the same replies) or raise the same DecodeError:
  ``tests/test_convert_fast.py`` holds them equal on golden captures, real
  kernel dumps and hypothesis-made hostile bytes.
- Only common shapes are generated: each attribute at most once, those the
  model reads at their usual size, others from a fixed list of plain
  (not nested) attributes, the attributes filling the reply exactly.
  Anything else, and any value the model path might refuse (a prefix
  length too long, a label that is not one NUL-terminated string), goes to
  ``convert``'s reader, which has the last word.
- Bounded: at most ``_SHAPES`` shapes per message type, and bounded caches
  of the immutable values (addresses, interfaces, names) replies repeat.
"""

from __future__ import annotations

import ipaddress
import struct
from _thread import allocate_lock  # threading.Lock, without importing threading

from rawns import convert
from rawns.model import Address, Neighbour
from rawns.netlink import Frame
from rawns.netlink.attrs import NLA_HEADER
from rawns.netlink.constants import RTM
from rawns.netlink.fast import fast_constructor
from rawns.records import fields as records_fields

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Optional

__all__ = ["read_address", "read_neighbour"]

_NLA = NLA_HEADER
_SHAPES = 256          # shapes per message type, at most
_CACHE_LIMIT = 4096    # entries per value cache, at most (then cleared)
_FOREVER = 0xFFFFFFFF  # INFINITY_LIFE_TIME: a lifetime that does not expire

_ADDRESS_SIZES = {2: 4, 10: 16}  # AF_INET, AF_INET6

# How a shape's struct reads an attribute's payload (kind of payload -> its size):
_ADDR = -1    # an IP address of the header's family
_ANY = -2     # any size, value not read (the model ignores it)
_TEXT = -3    # a NUL-terminated string, any size
_HW = -4      # a link-layer address, any size
_QUAD = -5    # four u32s (nda_cacheinfo), read as v, w, x, y

_MISS = object()   # a generated reader's answer: not my shape
_SLOW = object()   # ... my shape, but a value only convert's reader may judge


class _Slow(Exception):
    """The reply is of no common shape."""


# -- bounded caches of immutable values -------------------------------------------

_ADDRESSES: dict[bytes, Any] = {}
_INTERFACES: dict[bytes, Any] = {}
_LLADDRS: dict[bytes, str] = {}
_LABELS: dict[bytes, str] = {}
# Flag names by value: of an address's flags, a neighbour's state, its flags.
_NAMES: tuple[dict[int, frozenset[str]], ...] = ({}, {}, {})
_PREFIX = [bytes([length]) for length in range(256)]


def _address(packed: bytes) -> Any:
    address = (ipaddress.IPv4Address(packed) if len(packed) == 4
               else ipaddress.IPv6Address(packed))
    if len(_ADDRESSES) >= _CACHE_LIMIT:
        _ADDRESSES.clear()
    _ADDRESSES[packed] = address
    return address


# The state an IPv4Interface/IPv6Interface of each network shares (network,
# netmask, prefix length), by (bytes of an address, network number, prefix
# length); None until ``_cloning`` has checked that a copy of it is the
# interface (then a dict, or False if it is not: the constructor every time).
_NETWORKS: dict[tuple[int, int, int], dict[str, Any]] = {}
_CLONES: dict[int, Any] = {}  # address size -> True/False, once checked
_new_object = object.__new__


def _clone(cls: Any, state: dict[str, Any], number: int) -> Any:
    """An interface of the network ``state`` describes, for address
    ``number``, without ``ipaddress``'s parsing: building one from
    ``(number, prefixlen)`` costs ~6 us, most of a reply's reading, and
    every pod has addresses of its own."""
    interface = _new_object(cls)
    interface._ip = number
    if cls is ipaddress.IPv6Interface:
        interface._scope_id = None  # what (number, prefixlen) gives
    interface.__dict__.update(state)
    return interface


def _cloning(size: int) -> bool:
    """Whether ``_clone`` makes what the constructor makes, on this Python:
    two interfaces of one network compared in every attribute (the
    constructor is used if not)."""
    cls = ipaddress.IPv4Interface if size == 4 else ipaddress.IPv6Interface
    base = (10 << 24) if size == 4 else (0xFD << 120)
    first, second = cls((base + 1, 16)), cls((base + 2, 16))
    made = _clone(cls, dict(vars(first)), base + 2)
    slots = [name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ())
             if name not in ("__dict__", "__weakref__")]
    same = (type(made) is type(second) and vars(made) == vars(second)
            and all(getattr(made, name, None) == getattr(second, name, None)
                    for name in slots)
            and made == second and hash(made) == hash(second)
            and str(made) == str(second) and repr(made) == repr(second)
            and made.network == second.network and made.ip == second.ip)
    _CLONES[size] = same
    return same


def _interface(packed: bytes, prefixlen: int) -> Any:
    """``address/prefixlen`` as an IPv4Interface or IPv6Interface (as
    ``convert``'s), kept by the bytes and the length."""
    number = int.from_bytes(packed, "big")
    size = len(packed)
    cls = ipaddress.IPv4Interface if size == 4 else ipaddress.IPv6Interface
    host_bits = size * 8 - prefixlen
    key = (size, number >> host_bits, prefixlen)
    state = _NETWORKS.get(key)
    cloning = _CLONES.get(size)
    if cloning is None:
        cloning = _cloning(size)
    if state is not None and cloning:
        interface = _clone(cls, state, number)
    else:
        interface = cls((number, prefixlen))
        if cloning:
            if len(_NETWORKS) >= _CACHE_LIMIT:
                _NETWORKS.clear()
            _NETWORKS[key] = dict(vars(interface))
    if len(_INTERFACES) >= _CACHE_LIMIT:
        _INTERFACES.clear()
    _INTERFACES[packed + _PREFIX[prefixlen]] = interface
    return interface


def _lladdr(packed: bytes) -> str:
    text = packed.hex(":")
    if len(_LLADDRS) >= _CACHE_LIMIT:
        _LLADDRS.clear()
    _LLADDRS[packed] = text
    return text


def _label(payload: bytes) -> Optional[str]:
    """The label, if ``payload`` is one NUL-terminated string; else None."""
    if payload.find(b"\0") != len(payload) - 1:
        return None
    text = payload[:-1].decode("utf-8", "surrogateescape")
    if len(_LABELS) >= _CACHE_LIMIT:
        _LABELS.clear()
    _LABELS[payload] = text
    return text


_NAMERS = (convert.address_flag_names, convert.nud_state_names,
           convert.neighbour_flag_names)


def _names(which: int, value: int) -> frozenset[str]:
    names = _NAMERS[which](value)
    known = _NAMES[which]
    if len(known) >= _CACHE_LIMIT:
        known.clear()
    known[value] = names
    return names


_NAMESPACE: dict[str, Any] = {
    "MISS": _MISS, "SLOW": _SLOW, "FOREVER": _FOREVER, "PREFIX": _PREFIX,
    "addresses": _ADDRESSES, "address": _address, "interfaces": _INTERFACES,
    "interface": _interface, "lladdrs": _LLADDRS, "lladdr": _lladdr, "labels": _LABELS,
    "label": _label, "ifa_names": _NAMES[0], "nud_names": _NAMES[1],
    "ntf_names": _NAMES[2], "name": _names, "USER_HZ": convert.USER_HZ,
    "scopes": [convert.SCOPE_NAMES.get(number, str(number)) for number in range(256)],
}


# -- shapes -------------------------------------------------------------------------

def _header_word(length: int, kind: int) -> int:
    """An attribute header (u16 nla_len, u16 nla_type) read as one u32."""
    word: int = struct.unpack("=I", _NLA.pack(length, kind))[0]
    return word


# Compiled readers by their source (shapes that differ only in sizes share one).
_CODE: dict[str, Any] = {}


class _Kind:
    """One message type's fused readers: its shapes, by reply length."""

    def __init__(self, mtype: int, header: str, fields: str,
                 attrs: dict[int, tuple[str, int]],
                 body: Callable[[dict[int, str], int], list[str]],
                 slow: Callable[[bytes, Frame], Any]) -> None:
        self.mtype = mtype
        self.header = header                  # the fixed header's struct format
        self.header_size = struct.calcsize(header)
        self.fields = fields                  # its fields' names in the generated code
        self.attrs = attrs                    # kind -> (name, payload size or _ADDR...)
        self.body = body                      # the code that builds the object
        self.slow = slow                      # convert's reader
        self.by_length: dict[int, list[Callable[[bytes, int], Any]]] = {}
        self.shapes = 0
        self.lock = allocate_lock()

    def reader(self) -> Callable[[bytes, Frame], Any]:
        """The reader: each reply tried against the shapes of its length,
        learnt if none fits (a closure: it runs once per object read)."""
        mtype, by_length, slow, learn = self.mtype, self.by_length, self.slow, self.learn

        def read(data: bytes, frame: Frame) -> Any:
            if frame[2] != mtype:
                return None
            pos = frame[0]
            readers = by_length.get(frame[1] - pos)
            if readers is not None:
                for reader in readers:
                    made = reader(data, pos + 16)
                    if made is not _MISS:
                        return slow(data, frame) if made is _SLOW else made
            return learn(data, frame)

        return read

    def learn(self, data: bytes, frame: Frame) -> Any:
        """Read a reply of a new shape: make its reader, if the shape is a
        common one (and the bound not reached); else convert's reader."""
        pos, end = frame[0], frame[1]
        if self.shapes >= _SHAPES:
            return self.slow(data, frame)
        try:
            family, attrs = self.shape(data, pos + 16, end)
        except _Slow:
            return self.slow(data, frame)
        reader = self.generate(family, attrs)
        with self.lock:  # read_many's readers run on one thread; Handles on any
            if self.shapes < _SHAPES:
                self.by_length.setdefault(end - pos, []).append(reader)
                self.shapes += 1
        made = reader(data, pos + 16)
        return self.slow(data, frame) if made is _SLOW or made is _MISS else made

    def shape(self, data: bytes, body: int, end: int
              ) -> tuple[Optional[int], tuple[tuple[int, int], ...]]:
        """The family (None: no address in the reply) and ``(type, nla_len)``
        of each attribute, if the reply has a common shape; else _Slow."""
        if end - body < self.header_size:
            raise _Slow
        family = data[body]
        size = _ADDRESS_SIZES.get(family)
        attrs = []
        seen = 0
        at = body + ((self.header_size + 3) & ~3)
        uses_family = False
        while at < end:
            if end - at < 4:
                raise _Slow
            length, kind = _NLA.unpack_from(data, at)
            stop = at + length
            spec = self.attrs.get(kind)
            if length < 4 or stop > end or spec is None or seen >> kind & 1:
                raise _Slow
            want = spec[1]
            if want == _ADDR:
                if size is None or length - 4 != size:
                    raise _Slow
                uses_family = True
            elif want == _TEXT:
                if length < 5:
                    raise _Slow
            elif want == _QUAD:
                if length != 20:
                    raise _Slow
            elif want >= 0 and length - 4 != want:
                raise _Slow
            seen |= 1 << kind
            attrs.append((kind, length))
            at = (stop + 3) & ~3
        if at != end:
            raise _Slow  # a gap, or the last attribute's padding missing
        return (family if uses_family else None), tuple(attrs)

    def generate(self, family: Optional[int], attrs: tuple[tuple[int, int], ...]
                 ) -> Callable[[bytes, int], Any]:
        fmt = self.header
        if (self.header_size & 3):
            fmt += f"{-self.header_size & 3}x"
        names = [self.fields]
        checks = []
        constants: dict[str, int] = {}
        value: dict[int, str] = {}
        for index, (kind, length) in enumerate(attrs):
            payload = length - 4
            pad = -length & 3
            want = self.attrs[kind][1]
            # The attribute's header read as one u32: one comparison checks both fields.
            if want == _ANY:
                fmt += f"I{payload + pad}x"
                names.append(f"h{index}")
            else:
                fmt += "I" + ("I" if want == 4 else "II8x" if want == 16
                              else "IIII" if want == _QUAD else f"{payload}s")
                fmt += f"{pad}x" if pad else ""
                more = ("w", "x", "y") if want == _QUAD else ("w",) if want == 16 else ()
                names.append(", ".join([f"h{index}", f"v{index}"]
                                       + [f"{letter}{index}" for letter in more]))
                value[kind] = f"v{index}"
            # The expected words are globals of the function, not literals:
            # shapes that differ only in sizes (a label's, a link-layer
            # address's) then share one compiled code object.
            checks.append(f"h{index} != H{index}")
            constants[f"H{index}"] = _header_word(length, kind)
        if family is not None:
            checks.append("family != FAMILY")
            constants["FAMILY"] = family
        lines = [f"    {', '.join(names)}, = unpack(data, body)"]
        if checks:
            lines += [f"    if {' or '.join(checks)}:", "        return MISS"]
        lines += self.body(value, family or 0)
        source = "def read(data, body):\n" + "\n".join(lines) + "\n"
        code = _CODE.get(source)
        if code is None:  # compiling costs ~0.3 ms: a process's first replies pay it
            code = compile(source, f"<fused reader of {self.mtype}>", "exec")
            if len(_CODE) < 4 * _SHAPES:
                _CODE[source] = code
        namespace = dict(_NAMESPACE, unpack=struct.Struct(fmt).unpack_from,
                         new_address=_new_address, new_neighbour=_new_neighbour, **constants)
        exec(code, namespace)
        made: Callable[[bytes, int], Any] = namespace["read"]
        return made


# -- addresses ------------------------------------------------------------------------

# The models' constructors take their fields in order (``fast_constructor``);
# the generated code passes them in the order the classes declare.
_new_address: Callable[..., Address] = fast_constructor(Address)
_new_neighbour: Callable[..., Neighbour] = fast_constructor(Neighbour)


def _construct(constructor: str, model: type, values: dict[str, str]) -> str:
    """``return constructor(value, ...)``, every field of ``model`` given, in
    field order (read on first use: code is generated then)."""
    fields = [field.name for field in records_fields(model)]
    if sorted(fields) != sorted(values):
        raise AssertionError(f"{constructor}: fields {fields}, values for {sorted(values)}")
    return f"    return {constructor}({', '.join(values[name] for name in fields)})"

_IFA_ADDRESS, _IFA_LOCAL, _IFA_LABEL, _IFA_BROADCAST, _IFA_CACHEINFO, _IFA_FLAGS = (
    1, 2, 3, 4, 6, 8)


def _address_body(value: dict[int, str], family: int) -> list[str]:
    """The code that makes an Address, as ``convert._address`` does."""
    local, remote = value.get(_IFA_LOCAL), value.get(_IFA_ADDRESS)
    own = local or remote
    if own is None:
        return ["    return SLOW"]  # convert refuses it
    bits = 32 if family == 2 else 128
    lines = [f"    if prefixlen > {bits}:", "        return SLOW",
             f"    key = {own} + PREFIX[prefixlen]",
             "    own = interfaces.get(key)",
             "    if own is None:",
             f"        own = interface({own}, prefixlen)"]
    peer = "None"
    if local is not None and remote is not None:
        lines += [f"    if {remote} == {local}:", "        peer = None", "    else:",
                  f"        peer = interfaces.get({remote} + PREFIX[prefixlen])",
                  "        if peer is None:",
                  f"            peer = interface({remote}, prefixlen)"]
        peer = "peer"
    label = "None"
    if _IFA_LABEL in value:
        text = value[_IFA_LABEL]
        lines += [f"    text = labels.get({text})", "    if text is None:",
                  f"        text = label({text})", "        if text is None:",
                  "            return SLOW"]
        label = "text"
    broadcast = "None"
    if _IFA_BROADCAST in value:
        lines += [f"    broadcast = addresses.get({value[_IFA_BROADCAST]})",
                  "    if broadcast is None:",
                  f"        broadcast = address({value[_IFA_BROADCAST]})"]
        broadcast = "broadcast"
    flags = value.get(_IFA_FLAGS, "hflags")
    lines += [f"    flag_names = ifa_names.get({flags})", "    if flag_names is None:",
              f"        flag_names = name(0, {flags})"]
    valid = preferred = "None"
    if _IFA_CACHEINFO in value:
        cache = value[_IFA_CACHEINFO]  # v: ifa_prefered, w: ifa_valid
        preferred = f"(None if {cache} == FOREVER else {cache})"
        valid = f"(None if {cache.replace('v', 'w')} == FOREVER else {cache.replace('v', 'w')})"
    return lines + [_construct("new_address", Address, dict(
        index="index", address="own", scope="scopes[scope]", label=label,
        broadcast=broadcast, peer=peer, flags="flag_names", valid_lft=valid,
        preferred_lft=preferred))]


_ADDRESSES_KIND = _Kind(
    int(RTM.RTM_NEWADDR), "=BBBBI", "family, prefixlen, hflags, scope, index",
    {1: ("IFA_ADDRESS", _ADDR), 2: ("IFA_LOCAL", _ADDR), 3: ("IFA_LABEL", _TEXT),
     4: ("IFA_BROADCAST", _ADDR), 5: ("IFA_ANYCAST", _ANY), 6: ("IFA_CACHEINFO", 16),
     7: ("IFA_MULTICAST", _ANY), 8: ("IFA_FLAGS", 4), 9: ("IFA_RT_PRIORITY", _ANY),
     10: ("IFA_TARGET_NETNSID", _ANY), 11: ("IFA_PROTO", _ANY)},
    _address_body, convert.read_address)


def _neighbour_body(value: dict[int, str], family: int) -> list[str]:
    """The code that makes a Neighbour, as ``convert._neighbour`` does."""
    dst = value.get(1)  # NDA_DST
    if dst is None:
        return ["    return None"]  # no neighbour to ip either (convert: needs=NDA_DST)
    lines = [f"    dst = addresses.get({dst})", "    if dst is None:",
             f"        dst = address({dst})"]
    hw = "None"
    if 2 in value:  # NDA_LLADDR
        lines += [f"    hw = lladdrs.get({value[2]})", "    if hw is None:",
                  f"        hw = lladdr({value[2]})"]
        hw = "hw"
    used = confirmed = updated = probes = "None"
    refcnt = "0"
    if 3 in value:  # NDA_CACHEINFO: v confirmed, w used, x updated, y refcnt (ticks)
        cache = value[3]
        confirmed = f"{cache} // USER_HZ"
        used, updated = (f"{cache.replace('v', letter)} // USER_HZ" for letter in "wx")
        refcnt = cache.replace("v", "y")
    if 4 in value:  # NDA_PROBES
        probes = value[4]
    lines += ["    state_names = nud_names.get(state)", "    if state_names is None:",
              "        state_names = name(1, state)",
              "    flag_names = ntf_names.get(nflags)", "    if flag_names is None:",
              "        flag_names = name(2, nflags)",
              _construct("new_neighbour", Neighbour, dict(
                  index="ifindex", dst="dst", lladdr=hw, state="state_names",
                  flags="flag_names", used=used, confirmed=confirmed, updated=updated,
                  refcnt=refcnt, probes=probes))]
    return lines


_NEIGHBOURS_KIND = _Kind(
    int(RTM.RTM_NEWNEIGH), "=BxxxiHBB", "family, ifindex, state, nflags, ntype",
    {1: ("NDA_DST", _ADDR), 2: ("NDA_LLADDR", _HW), 3: ("NDA_CACHEINFO", _QUAD),
     4: ("NDA_PROBES", 4), 5: ("NDA_VLAN", _ANY), 6: ("NDA_PORT", _ANY),
     7: ("NDA_VNI", _ANY), 8: ("NDA_IFINDEX", _ANY), 9: ("NDA_MASTER", _ANY),
     10: ("NDA_LINK_NETNSID", _ANY), 11: ("NDA_SRC_VNI", _ANY), 12: ("NDA_PROTOCOL", _ANY),
     13: ("NDA_NH_ID", _ANY), 15: ("NDA_FLAGS_EXT", _ANY), 16: ("NDA_NDM_STATE_MASK", _ANY),
     17: ("NDA_NDM_FLAGS_MASK", _ANY)},
    _neighbour_body, convert.read_neighbour)

#: ``convert.read_address``, fused: an Address from an RTM_NEWADDR reply's bytes.
read_address: Callable[[bytes, Frame], Optional[Address]] = _ADDRESSES_KIND.reader()
#: ``convert.read_neighbour``, fused: a Neighbour from an RTM_NEWNEIGH reply's bytes.
read_neighbour: Callable[[bytes, Frame], Optional[Neighbour]] = _NEIGHBOURS_KIND.reader()
