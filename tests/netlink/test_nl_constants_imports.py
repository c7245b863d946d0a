"""Constants agree with the kernel headers; the package imports only stdlib + errors."""

from __future__ import annotations

import ast
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rawns.netlink import constants
from rawns.netlink.constants import KernelEnum, KernelFlag
from kernel_headers import HEADER_DIR, read_constants

HEADERS = ("netlink.h", "rtnetlink.h", "if_link.h", "if_addr.h", "neighbour.h", "veth.h",
           "net_namespace.h", "fib_rules.h", "if_arp.h", "if.h", "if_tun.h")
PACKAGE = Path(constants.__file__).parent
# Members newer than the machine's headers (see constants.py); they are
# checked by hand and only asserted absent-or-equal here.
NEWER = {"IFLA_DEVLINK_PORT", "IFLA_GSO_IPV4_MAX_SIZE", "IFLA_GRO_IPV4_MAX_SIZE",
         "IFLA_DPLL_PIN", "IFLA_MAX_PACING_OFFLOAD_HORIZON", "IFLA_NETNS_IMMUTABLE",
         "IFLA_HEADROOM", "IFLA_TAILROOM", "IFLA_BR_FDB_N_LEARNED", "IFLA_BR_FDB_MAX_LEARNED",
         "IFLA_VXLAN_LOCALBYPASS", "IFLA_VXLAN_LABEL_POLICY", "IFLA_VXLAN_RESERVED_BITS",
         "IFLA_VXLAN_MC_ROUTE", "RTA_FLOWLABEL"}
NOT_IN_THESE_HEADERS = {"AF", "NETLINK_SOCKOPT"}  # checked against socket below


@pytest.fixture(scope="module")
def kernel() -> dict[str, int]:
    missing = [h for h in HEADERS if not (HEADER_DIR / h).exists()]
    if missing:
        pytest.skip(f"kernel UAPI headers missing: {missing} (install linux-libc-dev)")
    return read_constants(*HEADERS)


def test_every_member_matches_the_headers(kernel: dict[str, int]) -> None:
    checked = 0
    for enum_class in constants.ENUMS:
        if enum_class.__name__ in NOT_IN_THESE_HEADERS:
            continue
        for name, member in enum_class.__members__.items():
            if name in kernel:
                assert int(member) == kernel[name], name
                checked += 1
            else:
                assert name in NEWER, f"{name} is neither in the headers nor marked newer"
    assert checked > 600


def test_newer_members_agree_when_headers_have_them(kernel: dict[str, int]) -> None:
    for name in NEWER:
        if name in kernel:
            assert int(getattr(constants, name)) == kernel[name]


def test_framing_constants(kernel: dict[str, int]) -> None:
    for name in ("NLA_F_NESTED", "NLA_F_NET_BYTEORDER", "NLMSG_ALIGNTO", "NLA_ALIGNTO",
                 "NETLINK_ROUTE", "IFNAMSIZ", "NETNSA_NSID_NOT_ASSIGNED"):
        assert getattr(constants, name) == kernel[name], name
    for member in constants.NLMSG:
        assert int(member) == kernel[member.name]
    for member in constants.NETLINK_SOCKOPT:
        assert int(member) == kernel[member.name]


def test_socket_options_match_the_headers() -> None:
    """The socket-level constants the socket layer takes from here."""
    generic = HEADER_DIR.parent / "asm-generic" / "socket.h"
    if not generic.exists():
        pytest.skip("asm-generic/socket.h missing (install linux-libc-dev)")
    assert constants.SO_RCVBUFFORCE == read_constants("../asm-generic/socket.h")["SO_RCVBUFFORCE"]
    # SOL_NETLINK is not in the UAPI headers; the C library defines it.
    libc = sorted(HEADER_DIR.parent.glob("*/bits/socket.h"))
    if libc:
        found = read_constants("../" + str(libc[0].relative_to(HEADER_DIR.parent)))
        assert constants.SOL_NETLINK == found["SOL_NETLINK"]


def test_address_families_match_the_socket_module() -> None:
    for member in constants.AF:
        if hasattr(socket, member.name):
            assert int(member) == getattr(socket, member.name)
    assert constants.SOL_NETLINK == getattr(socket, "SOL_NETLINK", 270)


def test_flags_are_kernel_flags_and_enums_kernel_enums() -> None:
    assert issubclass(constants.IFF, KernelFlag) and issubclass(constants.NUD, KernelFlag)
    assert issubclass(constants.IFLA, KernelEnum)
    assert not issubclass(constants.IFF, KernelEnum) and not issubclass(constants.IFLA, KernelFlag)
    assert constants.flag_names(constants.NUD, 0x82) == ["NUD_REACHABLE", "NUD_PERMANENT"]
    assert constants.nlm_flag_names(18, 0x301) == ["NLM_F_REQUEST", "NLM_F_DUMP"]
    assert constants.nlm_flag_names(16, 0x605) == [
        "NLM_F_REQUEST", "NLM_F_ACK", "NLM_F_EXCL", "NLM_F_CREATE"]
    assert constants.nlm_flag_names(2, 0x300) == ["NLM_F_CAPPED", "NLM_F_ACK_TLVS"]


def test_flag_cache_is_bounded() -> None:
    for value in range(1 << 20, (1 << 20) + 3000):
        constants.as_flag(constants.IFF, value)
        assert constants.IFF(value + 5000).name
    assert len(constants.IFF._value2member_map_) < 600
    assert len(constants.IFF._pseudo_) <= 256 and len(constants.IFF._pseudo_names_) <= 256
    assert len(constants.flag_cache(constants.IFF)) <= 4096


def test_a_name_two_classes_share_means_one_number() -> None:
    """Every member is also a module-level name, which must not change its meaning."""
    seen: dict[str, int] = {}
    for enum_class in constants.ENUMS:
        for name, member in enum_class.__members__.items():
            assert seen.setdefault(name, int(member)) == int(member), name
            assert int(getattr(constants, name)) == int(member), name
            assert name in constants.__all__
    assert len(seen) > 700


def test_constants_load_neither_enum_nor_typing() -> None:
    """The light kernel enums are the point: constants (and names, below it)
    import no module at all, so a command that needs them pays for them only."""
    code = (
        "import importlib.util, sys, types\n"
        "before = set(sys.modules)\n"
        f"package = types.ModuleType('rawns.netlink'); package.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['rawns'] = types.ModuleType('rawns')\n"
        "sys.modules['rawns.netlink'] = package\n"
        "import rawns.netlink.constants as c\n"
        "assert c.IFLA.IFLA_IFNAME == 3\n"
        "print(sorted(set(sys.modules) - before - {'__future__'}))\n"
    )
    # (__future__ is the compiler's directive in every module; an editable
    # install's site has loaded it before the test, a wheel's has not)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "['rawns', 'rawns.netlink', 'rawns.netlink.constants', " \
        "'rawns.netlink.names']", out


# the base layer: the exceptions, and the decorator that makes the value classes
ALLOWED_RAWNS = {"rawns.errors", "rawns.records"}


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_imports_only_stdlib_and_errors(path: Path) -> None:
    tree = ast.parse(path.read_text())
    stdlib = sys.stdlib_module_names
    forbidden_stdlib = {"socket", "os", "threading", "subprocess", "select", "ctypes"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside rawns.netlink
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top == "rawns":
                assert name in ALLOWED_RAWNS, f"{path.name} imports {name}"
            else:
                assert top in stdlib, f"{path.name} imports non-stdlib {name}"
                assert top not in forbidden_stdlib, f"{path.name} does I/O via {name}"
    assert "__all__" in path.read_text(), f"{path.name} has no __all__"
