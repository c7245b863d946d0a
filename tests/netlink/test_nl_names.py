"""KernelEnum/KernelFlag against 3.11's IntEnum/IntFlag, class by class.

Every constants class is rebuilt with the enum module from its own member list
(aliases included, in order), and the two are compared on what rawns, its tests
and its users can observe: lookups, names, repr/str/format, iteration, flag
operations, pickle and copy.  Type checkers are told the constants classes are
enum's (constants.py, under TYPE_CHECKING); these tests are what makes that true.
"""

from __future__ import annotations

import copy
import enum
import pickle
from typing import Any

import pytest
from hypothesis import assume, given, settings, strategies as st

from rawns.netlink import constants
from rawns.netlink.constants import ENUMS, KernelEnum, KernelFlag


def made(name: str, base: Any, members: dict[str, int]) -> Any:
    return type(base)(name, (base,), {"__module__": __name__, "__qualname__": name, **members})


# Shapes the kernel's classes do not all have: bits defined out of order, a
# multi-bit member before its bits, a zero member, gaps, negative values.  (Not
# a multi-bit member without its single bits: there 3.11's iteration depends on
# which values were asked before, and no kernel class is so made.)
ODD = [
    made("ODD_ORDER", KernelFlag, {"O_B": 2, "O_A": 1, "O_D": 8, "O_C": 4, "O_A2": 1}),
    made("ODD_MULTI", KernelFlag, {"M_BOTH": 3, "M_NONE": 0, "M_A": 1, "M_B": 2, "M_HI": 0x40}),
    made("ODD_ENUM", KernelEnum, {"E_NEG": -1, "E_ZERO": 0, "E_BIG": 2**40, "E_ALIAS": 0}),
]
globals().update({cls.__name__: cls for cls in ODD})  # pickle finds them here

FLAGS = [cls for cls in ENUMS + tuple(ODD) if issubclass(cls, KernelFlag)]
PLAIN = [cls for cls in ENUMS + tuple(ODD) if issubclass(cls, KernelEnum)]


def twin(cls: Any) -> Any:
    """The same class made by the enum module from ``cls``'s member list."""
    base = enum.IntFlag if issubclass(cls, KernelFlag) else enum.IntEnum
    items = [(name, int(member)) for name, member in cls.__members__.items()]
    return base(cls.__name__, items, module=__name__)


def light(cls: Any) -> Any:
    """A fresh light class from the same list, as a class body would make it."""
    items = {name: int(member) for name, member in cls.__members__.items()}
    return type(cls)(cls.__name__, (KernelFlag if issubclass(cls, KernelFlag) else KernelEnum,),
                     {"__module__": __name__, "__qualname__": cls.__name__, **items})


TWINS = {cls: twin(cls) for cls in ENUMS + tuple(ODD)}


def outcome(make: Any, *args: Any) -> tuple[str, str]:
    """What a call gives, comparable across the two: the repr, or the error."""
    try:
        result = make(*args)
    except (ValueError, TypeError, KeyError) as err:
        return type(err).__name__, str(err)
    return "ok", repr(result)


def observed(value: Any) -> tuple[Any, ...]:
    """Everything a user can read off one member or value."""
    facts: list[Any] = [repr(value), str(value), format(value), format(value, "x"),
                        f"{value:>6}", "%s %d" % (value, value), int(value), hash(value),
                        bool(value), value.name, value.value, type(value.value)]
    if isinstance(value, (enum.Flag, KernelFlag)):
        facts += [[repr(one) for one in value], len(value)]
    return tuple(facts)


def test_every_flag_bit_has_its_own_member() -> None:
    for cls in FLAGS:
        assert cls._flag_mask_ == cls._singles_mask_, cls


def test_the_enum_module_is_not_what_runs() -> None:
    assert not issubclass(constants.IFLA, enum.Enum)
    assert isinstance(constants.IFLA.IFLA_IFNAME, int)
    assert not hasattr(constants.IFLA.IFLA_IFNAME, "__dict__")  # a member is an int, no more


@pytest.mark.parametrize("cls", ENUMS + tuple(ODD), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("make", [lambda cls: cls, light], ids=["constants", "fresh"])
def test_classes_agree(cls: Any, make: Any) -> None:
    mine, theirs = make(cls), TWINS[cls]
    assert repr(mine) == repr(theirs)
    assert mine.__name__ == theirs.__name__
    assert len(mine) == len(theirs)
    assert [repr(m) for m in mine] == [repr(m) for m in theirs]
    assert [repr(m) for m in reversed(mine)] == [repr(m) for m in reversed(theirs)]
    assert list(mine.__members__) == list(theirs.__members__)
    for name, member in mine.__members__.items():
        assert observed(member) == observed(theirs.__members__[name])
        assert getattr(mine, name) is member is mine[name]
        assert (member in mine) == (theirs[name] in theirs)
        assert mine(int(member)) is mine(member) is mine[member.name]  # the canonical one
        assert member == int(member) and member == theirs[name]
    assert outcome(mine.__getitem__, "NOPE") == outcome(theirs.__getitem__, "NOPE")


@pytest.mark.parametrize("cls", ENUMS + tuple(ODD), ids=lambda cls: cls.__name__)
def test_members_pickle_and_copy_to_themselves(cls: Any) -> None:
    for member in cls.__members__.values():
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(member, protocol)) is member
        assert copy.copy(member) is member and copy.deepcopy(member) is member


@settings(max_examples=300, deadline=None)
@given(cls=st.sampled_from(PLAIN),
       value=st.one_of(st.integers(-5, 300), st.integers(), st.sampled_from([2.0, "2", None])))
def test_enum_lookups_agree(cls: Any, value: Any) -> None:
    assert outcome(cls, value) == outcome(TWINS[cls], value)
    if outcome(cls, value)[0] == "ok":
        assert observed(cls(value)) == observed(TWINS[cls](value))
    assert outcome(constants.as_enum, cls, value if isinstance(value, int) else 0) == \
        outcome(constants.as_enum, TWINS[cls], value if isinstance(value, int) else 0)


def flag_values(cls: Any) -> Any:
    """Values made of the class's bits, some bits it lacks, and negatives."""
    bits = [int(member) for member in cls.__members__.values()]
    known = st.lists(st.sampled_from(bits), max_size=6).map(
        lambda chosen: sum(set(chosen)))
    return st.one_of(known, st.integers(0, cls._all_bits_ * 4 + 3),
                     st.integers(-cls._all_bits_ * 4 - 3, -1), st.integers(-2**70, 2**70),
                     known.flatmap(lambda v: st.integers(0, 40).map(lambda s: v | 1 << s)))


@st.composite
def flag_cases(draw: Any) -> tuple[Any, int, int]:
    cls = draw(st.sampled_from(FLAGS))
    return cls, draw(flag_values(cls)), draw(flag_values(cls))


@settings(max_examples=400, deadline=None)
@given(case=flag_cases())
def test_flag_values_and_operations_agree(case: tuple[Any, int, int]) -> None:
    cls, a, b = case
    theirs = TWINS[cls]
    assert outcome(cls, a) == outcome(theirs, a)
    mine_a, their_a = cls(a), theirs(a)
    mine_b, their_b = cls(b), theirs(b)
    assert observed(mine_a) == observed(their_a)
    for op in (lambda x, y: x | y, lambda x, y: x & y, lambda x, y: x ^ y):
        assert observed(op(mine_a, mine_b)) == observed(op(their_a, their_b))
        assert observed(op(mine_a, b)) == observed(op(their_a, b))  # with a plain int
        assert observed(op(b, mine_a)) == observed(op(b, their_a))  # reflected
        assert type(op(mine_a, mine_b)) is cls
    assert observed(~mine_a) == observed(~their_a)
    assert (mine_b in mine_a) == (their_b in their_a)
    assert outcome(mine_a.__contains__, b) == outcome(their_a.__contains__, b)
    assert observed(pickle.loads(pickle.dumps(mine_a))) == observed(their_a)
    assert repr(constants.as_flag(cls, a)) == repr(their_a)
    assert constants.flag_names(cls, a) == constants.flag_names(theirs, a)


@settings(max_examples=100, deadline=None)
@given(cls=st.sampled_from(FLAGS), value=st.sampled_from([2.0, "1", None, b"\x01"]))
def test_flag_lookups_of_what_is_not_an_int_agree(cls: Any, value: Any) -> None:
    # 3.11 finds a float equal to a composite value only once that composite
    # has been made (its pseudo-members join _value2member_map_): an answer that
    # depends on the process's history, so only a defined member's value is asked.
    assume(not isinstance(value, float) or int(value) in cls._names_)
    assert outcome(cls, value) == outcome(TWINS[cls], value)


def test_a_class_with_members_cannot_be_extended() -> None:
    with pytest.raises(TypeError):
        type(constants.AF)("MORE", (constants.AF,), {"MORE_X": 99})
    with pytest.raises(AttributeError):
        constants.AF.AF_INET = 3  # type: ignore[misc]
