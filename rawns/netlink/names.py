# Invariants:
# - KernelEnum and KernelFlag behave as 3.11's IntEnum and IntFlag wherever rawns,
#   its tests or its users observe them (tests/netlink/test_nl_names.py builds the
#   same classes both ways and compares them): members are ints (hash, ==, arithmetic),
#   `.name`/`.value`, aliases (the first name of a value is canonical), `Cls(value)`,
#   `Cls["NAME"]`, iteration, `__members__`, repr, str/format as the int's text,
#   flags' composite values and `|`, `&`, `^`, `~`, pickle and copy.
# - Nothing here imports a module, and a class costs a type and one int per member:
#   the whole of constants (53 classes, 843 members) runs in about 2 ms where the
#   enum module took 20 (benchmarks/RESULTS.md, "Start-up").
# - Type checkers never see these classes: constants.py names them under
#   TYPE_CHECKING as enum.IntEnum and enum.IntFlag, the semantics they mimic.
# - Composite flag values are cached per class up to _PSEUDO_LIMIT values, so that
#   hostile input cannot grow the cache without limit.
"""Light kernel enums: int members with names, made without the enum module.

    >>> class COLOUR(KernelEnum):
    ...     COLOUR_RED = 1
    ...     COLOUR_CRIMSON = 1
    >>> COLOUR(1), COLOUR.COLOUR_CRIMSON.name, str(COLOUR.COLOUR_RED)
    (<COLOUR.COLOUR_RED: 1>, 'COLOUR_RED', '1')
    >>> class BITS(KernelFlag):
    ...     BITS_A = 1
    ...     BITS_B = 2
    >>> BITS.BITS_A | BITS.BITS_B | 8
    <BITS.BITS_A|BITS_B|8: 11>
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

__all__ = ["KernelEnum", "KernelFlag"]

_PSEUDO_LIMIT = 256


def _single_bit(value: int) -> bool:
    return value != 0 and value & (value - 1) == 0


class _KernelType(type):
    """The metaclass: turns a class body's int attributes into members."""

    _member_map_: dict[str, Any]
    _member_names_: list[str]
    _value2member_map_: dict[int, Any]
    _names_: dict[int, str | None]

    def __new__(mcls, cls_name: str, bases: tuple[type, ...],
                namespace: dict[str, Any]) -> _KernelType:
        for base in bases:
            if getattr(base, "_member_names_", None):
                raise TypeError(f"{cls_name!r}: cannot extend {base.__name__!r}, "
                                "which has members")
        member_map: dict[str, Any] = {}
        names: list[str] = []
        by_value: dict[int, Any] = {}
        name_of: dict[int, str | None] = {}
        # Each member is made an instance of the base class and put in the class
        # body in place of its int, then moved into the class once the class
        # exists: cheaper than setting ~800 class attributes one by one.
        base = bases[0] if bases else int
        new: Any = int.__new__
        for name, value in list(namespace.items()):
            if type(value) is int and name[:1] != "_":
                member = by_value.get(value)
                if member is None:
                    member = by_value[value] = new(base, value)
                    name_of[value] = name
                    names.append(name)
                member_map[name] = namespace[name] = member
        # Members carry no attributes of their own (no instance dict: a member
        # is an int and nothing more); their names live in the class, by value.
        namespace["__slots__"] = ()
        namespace["_member_map_"] = member_map
        namespace["_member_names_"] = names
        namespace["_value2member_map_"] = by_value
        namespace["_names_"] = name_of
        if getattr(base, "_is_flag_", False):
            # 3.11's Flag iterates over its single-bit members only, and names a
            # composite's bits in definition order when that is not their order
            names[:] = [name for name in names if _single_bit(int(member_map[name]))]
            flag_mask = singles_mask = 0
            for value in by_value:
                flag_mask |= value
                if _single_bit(value):
                    singles_mask |= value
            canonical = [int(member_map[name]) for name in names]
            namespace.update(_flag_mask_=flag_mask, _singles_mask_=singles_mask,
                             _all_bits_=2 ** flag_mask.bit_length() - 1, _pseudo_={},
                             _pseudo_names_={}, _by_definition_=canonical != sorted(canonical))
        cls = super().__new__(mcls, cls_name, bases, namespace)
        for member in by_value.values():
            member.__class__ = cls
        return cls

    def __call__(cls, value: Any) -> Any:
        try:
            member = cls._value2member_map_.get(value)
        except TypeError:  # unhashable
            member = None
        return cls._missing_(value) if member is None else member

    def _missing_(cls, value: Any) -> Any:
        raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")

    def __getitem__(cls, name: str) -> Any:
        return cls._member_map_[name]

    def __iter__(cls) -> Iterator[Any]:
        member_map = cls._member_map_
        return (member_map[name] for name in cls._member_names_)

    def __reversed__(cls) -> Iterator[Any]:
        member_map = cls._member_map_
        return (member_map[name] for name in reversed(cls._member_names_))

    def __len__(cls) -> int:
        return len(cls._member_names_)

    def __bool__(cls) -> bool:
        return True

    def __contains__(cls, value: Any) -> bool:
        # A member: 3.11's answer.  Any other value: 3.12's (is it a member's
        # value?), where 3.11 raised TypeError.
        if isinstance(value, (KernelEnum, KernelFlag)):
            return isinstance(value, cls) and value._name_ in cls._member_map_
        try:
            return value in cls._value2member_map_
        except TypeError:
            return False

    @property
    def __members__(cls) -> Mapping[str, Any]:
        return _MappingProxy(cls._member_map_)

    def __repr__(cls) -> str:
        kind = "flag" if getattr(cls, "_is_flag_", False) else "enum"
        return f"<{kind} {cls.__name__!r}>"

    def __setattr__(cls, name: str, value: Any) -> None:
        if name in cls.__dict__.get("_member_map_", ()):
            raise AttributeError(f"cannot reassign member {name!r}")
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        if name in cls.__dict__.get("_member_map_", ()):
            raise AttributeError(f"{cls.__name__} cannot delete member {name!r}")
        super().__delattr__(name)


_MappingProxy = type(type.__dict__)  # types.MappingProxyType, without importing types


# What KernelEnum and KernelFlag members share, written once and set in both
# classes rather than inherited from a common base: every level of a class's
# MRO makes creating each of constants' 50-odd classes dearer.

def _member_name(self: Any) -> str | None:
    return type(self)._names_[self]  # type: ignore[no-any-return]


def _member_value(self: Any) -> int:
    return int(self)


def _member_repr(self: Any) -> str:
    if self._name_ is None:
        return f"<{type(self).__name__}: {int(self)!r}>"
    return f"<{type(self).__name__}.{self._name_}: {int(self)!r}>"


def _member_reduce_ex(self: Any, protocol: Any) -> tuple[Any, tuple[int]]:
    return type(self), (int(self),)


def _member_itself(self: Any, memo: Any = None) -> Any:
    return self


class KernelEnum(int, metaclass=_KernelType):
    """A family of kernel numbers, each with its name (3.11's IntEnum, lighter)."""

    _name_ = property(_member_name)
    _value_ = property(_member_value)
    name = _name_
    value = _value_
    __repr__ = _member_repr
    # 3.11's IntEnum and IntFlag print as the int (ReprEnum)
    __str__ = int.__repr__
    __format__ = int.__format__
    __reduce_ex__ = _member_reduce_ex
    __copy__ = _member_itself
    __deepcopy__ = _member_itself


class KernelFlag(int, metaclass=_KernelType):
    """A set of kernel flag bits (3.11's IntFlag, lighter): composite values are
    members too, named by their bits; unknown bits are kept."""

    _is_flag_ = True
    _value_ = property(_member_value)
    value = _value_
    __repr__ = _member_repr
    __str__ = int.__repr__
    __format__ = int.__format__
    __reduce_ex__ = _member_reduce_ex
    __copy__ = _member_itself
    __deepcopy__ = _member_itself
    _flag_mask_: int
    _singles_mask_: int
    _all_bits_: int
    _by_definition_: bool
    _pseudo_: dict[int, KernelFlag]
    _pseudo_names_: dict[int, str | None]

    @property
    def _name_(self) -> str | None:
        names = type(self)._names_
        if self in names:
            return names[self]
        return type(self)._composite_name(int(self))

    name = _name_

    @classmethod
    def _iter_bits(cls, value: int) -> list[KernelFlag]:
        """The members of ``value``'s known bits (3.11's ``_iter_member_``)."""
        by_value = cls._value2member_map_
        members: list[Any] = []
        value &= cls._flag_mask_
        while value:
            bit = value & -value
            members.append(by_value.get(bit))
            value ^= bit
        if cls._by_definition_:
            members.sort(key=lambda member: cls._member_names_.index(member._name_))
        return members

    @classmethod
    def _composite_name(cls, value: int) -> str | None:
        """3.11's name of a composite value: its members' names joined by ``|``,
        then the unknown bits in decimal; None when no known member is in it."""
        known = cls._pseudo_names_
        if value in known:
            return known[value]
        name = cls._compose_name(value)
        if len(known) < _PSEUDO_LIMIT:
            known[value] = name
        return name

    @classmethod
    def _compose_name(cls, value: int) -> str | None:
        singles_mask = cls._singles_mask_
        aliases = value & ~singles_mask
        member_value = value & singles_mask
        if not (member_value or aliases):
            return None
        members = cls._iter_bits(member_value)
        combined = 0
        for one in members:
            combined |= int(one)
        if aliases:
            # multi-bit members (NLM_F_DUMP) whose bits are all in value
            for one in cls._member_map_.values():
                if one not in members and one and one & value == one:
                    members.append(one)
                    combined |= int(one)
        if not combined:
            return None
        name = "|".join([str(one._name_) for one in members])
        unknown = value ^ combined
        return f"{name}|{unknown!r}" if unknown else name

    @classmethod
    def _missing_(cls, value: Any) -> KernelFlag:
        """A composite value: unknown bits are kept, a negative value is read as
        3.11 reads it (within the class's bits, or the next power of two)."""
        if not isinstance(value, int):
            raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")
        pseudo = cls._pseudo_
        member = pseudo.get(value)
        if member is not None:
            return member
        asked = value
        all_bits = cls._all_bits_
        if value < 0:
            if value < ~all_bits or value & (all_bits ^ cls._flag_mask_):
                value = max(all_bits + 1, 2 ** value.bit_length()) + value
            if value < 0:
                value = all_bits + 1 + value
        member = cls._value2member_map_.get(value)
        if member is None:
            member = int.__new__(cls, value)
        if len(pseudo) < _PSEUDO_LIMIT:
            pseudo[asked] = member
        return member

    def __contains__(self, other: Any) -> bool:
        if not isinstance(other, type(self)):
            raise TypeError(f"unsupported operand type(s) for 'in': "
                            f"{type(other).__qualname__!r} and {type(self).__qualname__!r}")
        return int(other) & int(self) == int(other)

    def __iter__(self) -> Iterator[KernelFlag]:
        return iter(self._iter_bits(int(self)))

    def __len__(self) -> int:
        return int(self).bit_count()

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, int):
            return NotImplemented
        return type(self)(int(self) | int(other))

    def __and__(self, other: Any) -> Any:
        if not isinstance(other, int):
            return NotImplemented
        return type(self)(int(self) & int(other))

    def __xor__(self, other: Any) -> Any:
        if not isinstance(other, int):
            return NotImplemented
        return type(self)(int(self) ^ int(other))

    __ror__ = __or__
    __rand__ = __and__
    __rxor__ = __xor__

    def __invert__(self) -> Any:
        return type(self)(~int(self))
