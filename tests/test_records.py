"""A record behaves as the dataclass it replaces: each generated class shape is
made twice, once with ``@record`` and once with ``@dataclass``, and held equal in
repr, eq, hash, fields, replace, asdict, copies, frozen errors and signature."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import subprocess
import sys
import typing
from typing import Any, ClassVar

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from rawns import records
from rawns.records import field, record

NAMES = ["a", "b", "c", "d", "e", "f", "g"]
VALUES = st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none(),
                   st.tuples(st.integers(0, 2)))


@st.composite
def shapes(draw: st.DrawFn) -> dict[str, Any]:
    """A class shape: options, and fields (name, default kind, repr, compare, hash)."""
    options = {"frozen": draw(st.booleans()), "kw_only": draw(st.booleans()),
               "slots": draw(st.booleans())}
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=6))
    fields = []
    for name in names:
        fields.append({
            "name": name,
            "default": draw(st.sampled_from(["none", "value", "list", "dict"])),
            "value": draw(st.integers(-2, 2)),
            "repr": draw(st.booleans()),
            "compare": draw(st.booleans()),
            "hash": draw(st.sampled_from([None, True, False])),
        })
    if not options["kw_only"]:  # positional: no field without a default after one with
        fields.sort(key=lambda spec: spec["default"] != "none")
    base = draw(st.integers(0, len(fields)))  # fields[:base] go to a base class
    return {"options": options, "fields": fields, "base": base}


def source(shape: dict[str, Any], decorator: str, field_function: str) -> str:
    def body(specs: list[dict[str, Any]]) -> str:
        lines = ["    K: ClassVar[int] = 7"]
        for spec in specs:
            options = f"repr={spec['repr']}, compare={spec['compare']}, hash={spec['hash']}"
            if spec["default"] == "none":
                default = f" = {field_function}({options})"
            elif spec["default"] == "value":
                default = f" = {field_function}(default={spec['value']}, {options})"
            else:
                default = (f" = {field_function}(default_factory={spec['default']}, "
                           f"{options})")
            lines.append(f"    {spec['name']}: Optional[int]{default}")
        return "\n".join(lines) + "\n"
    split = shape["base"]
    return (f"@{decorator}\nclass Base:\n" + body(shape["fields"][:split])
            + f"\n@{decorator}\nclass C(Base):\n" + body(shape["fields"][split:]))


def make_pair(shape: dict[str, Any]) -> tuple[type, type]:
    options = ", ".join(f"{key}={value}" for key, value in shape["options"].items())
    made = []
    for decorator, field_function in ((f"record({options})", "field"),
                                      (f"dataclass({options})", "dfield")):
        namespace: dict[str, Any] = {
            "__name__": __name__, "record": record, "field": field,
            "dataclass": dataclasses.dataclass, "dfield": dataclasses.field,
            "ClassVar": ClassVar, "Optional": typing.Optional}
        exec("from __future__ import annotations\n" + source(shape, decorator, field_function),
             namespace)
        made.append(namespace["C"])
    return made[0], made[1]


def values_for(shape: dict[str, Any], draw: st.DataObject) -> dict[str, Any]:
    return {spec["name"]: draw.draw(VALUES) for spec in shape["fields"]
            if spec["default"] == "none" or draw.draw(st.booleans())}


def outcome(function: Any, *args: Any) -> Any:
    """What ``function(*args)`` returns, or the class and text of what it raises."""
    try:
        return function(*args)
    except Exception as err:  # noqa: BLE001 -- the exact class is compared
        return type(err), str(err)


def described(cls: type) -> list[tuple[Any, ...]]:
    return [(spec.name, spec.type, spec.default, spec.default_factory, spec.repr,
             spec.compare, spec.hash, spec.kw_only) for spec in dataclasses.fields(cls)]


@settings(max_examples=150, deadline=None)
@given(shape=shapes(), data=st.data())
def test_a_record_is_its_dataclass(shape: dict[str, Any], data: st.DataObject) -> None:
    Rec, Dc = make_pair(shape)
    assert str(inspect.signature(Rec)) == str(inspect.signature(Dc))
    assert described(Rec) == described(Dc)
    assert [spec.name for spec in records.fields(Rec)] == [
        spec.name for spec in dataclasses.fields(Dc)]
    assert Rec.__match_args__ == Dc.__match_args__
    assert dataclasses.is_dataclass(Rec) and Rec.K == Dc.K == 7
    if shape["options"]["slots"]:
        assert Rec.__slots__ == Dc.__slots__
        assert not hasattr(Rec(**values_for(shape, data)), "__dict__")
    if not shape["options"]["frozen"]:
        assert Rec.__hash__ is None and Dc.__hash__ is None

    one, two = values_for(shape, data), values_for(shape, data)
    r1, d1, r2, d2 = Rec(**one), Dc(**one), Rec(**two), Dc(**two)
    assert repr(r1) == repr(d1) and repr(r2) == repr(d2)
    assert (r1 == r2) == (d1 == d2) and (r1 != r2) == (d1 != d2)
    assert r1 == Rec(**one) and r1 != d1  # a record equals its own class only
    if shape["options"]["frozen"]:
        assert outcome(hash, r1) == outcome(hash, d1)  # a list field: both unhashable
    assert dataclasses.asdict(r1) == dataclasses.asdict(d1)
    assert dataclasses.astuple(r1) == dataclasses.astuple(d1)
    assert repr(dataclasses.replace(r1, **two)) == repr(dataclasses.replace(d1, **two))
    assert repr(records.replace(r1, **two)) == repr(dataclasses.replace(d1, **two))
    for copied in (copy.copy(r1), copy.deepcopy(r1)):
        assert type(copied) is Rec and repr(copied) == repr(r1) and copied == r1

    for name in [spec["name"] for spec in shape["fields"]] + ["zz"]:
        if name == "zz" and shape["options"]["frozen"] and shape["options"]["slots"]:
            # 3.11's frozen slotted dataclass raises TypeError here (its __setattr__
            # names the class it replaced); a record refuses as 3.12 does
            with pytest.raises(dataclasses.FrozenInstanceError):
                r1.zz = 5  # type: ignore[attr-defined]
            continue
        assert outcome(setattr, r1, name, 5) == outcome(setattr, d1, name, 5), name
        if shape["options"]["frozen"]:
            with pytest.raises(dataclasses.FrozenInstanceError) as raised:
                delattr(r1, name)
            with pytest.raises(dataclasses.FrozenInstanceError) as expected:
                delattr(d1, name)
            assert str(raised.value) == str(expected.value)


@record
class Point:
    """A module-level record: pickle finds classes by name."""
    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default=(), compare=False)


@record(frozen=False, kw_only=False, slots=False)
class Mutable:
    x: int
    items: list[int] = field(default_factory=list)


@record(frozen=False)
class MutableSlotted:
    x: int = 0


@record
class Checked:
    x: int
    doubled: int = field(default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "doubled", 2 * self.x)


@given(st.integers(), st.integers(), st.lists(st.text(max_size=2), max_size=3))
def test_records_pickle_and_copy(x: int, y: int, tags: list[str]) -> None:
    point = Point(x=x, y=y, tags=tuple(tags))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(point, protocol))
        assert back == point and back.tags == point.tags
    mutable = Mutable(x, [y])
    back_mutable = pickle.loads(pickle.dumps(mutable))
    assert back_mutable == mutable and back_mutable.items is not mutable.items
    slotted = pickle.loads(pickle.dumps(MutableSlotted(x=x)))
    assert slotted == MutableSlotted(x=x)
    slotted.x = y
    assert slotted.x == y


def test_the_variants_rawns_uses() -> None:
    mutable = Mutable(1)
    mutable.items.append(2)
    mutable.x = 3
    assert mutable == Mutable(3, [2]) and repr(mutable) == "Mutable(x=3, items=[2])"
    assert Mutable(1).items is not Mutable(1).items
    assert Mutable.__match_args__ == ("x", "items") and Point.__match_args__ == ()
    with pytest.raises(TypeError):
        Point(1)  # type: ignore[misc]
    assert Checked(x=4).doubled == 8 and repr(Checked(x=4)) == "Checked(x=4)"
    assert hash(Point(x=1, tags=("a",))) == hash(Point(x=1, tags=("b",)))
    with pytest.raises(ValueError, match="default_factory"):
        @record
        class Bad:
            items: list[int] = []
    with pytest.raises(TypeError, match="non-default argument"):
        @record(kw_only=False)
        class Order:
            a: int = 0
            b: int


def test_records_fields_and_replace_refuse_what_is_not_a_record() -> None:
    with pytest.raises(TypeError):
        records.fields(object())
    assert [spec.name for spec in records.fields(Point(x=1))] == ["x", "y", "tags"]
    assert records.replace(Point(x=1, y=2), y=5) == Point(x=1, y=5)


def test_fast_constructors_take_records_and_dataclasses() -> None:
    from rawns.netlink.fast import fast_constructor

    @dataclasses.dataclass(frozen=True, slots=True)
    class Plain:
        a: int
        b: str = ""

    assert [spec.name for spec in records.fields(Plain)] == ["a", "b"]
    assert fast_constructor(Plain)(1, "x") == Plain(1, "x")
    assert fast_constructor(Point)(1, 2, ("t",)) == Point(x=1, y=2, tags=("t",))
    assert fast_constructor(Point, keywords=True)(x=1, y=2, tags=()) == Point(x=1, y=2)


def test_type_hints_of_init_resolve_as_a_dataclass_does() -> None:
    # hypothesis' builds() reads them
    assert typing.get_type_hints(Point.__init__) == {
        "x": int, "y": int, "tags": tuple[str, ...], "return": type(None)}
    assert isinstance(find(st.builds(Point), lambda point: point.y > point.x), Point)


def test_making_records_imports_neither_dataclasses_nor_typing() -> None:
    code = ("import sys\nbefore = set(sys.modules)\n"
            "import rawns.model, rawns.netlink, rawns.nlsock\n"
            "from rawns.model import Link\nLink(index=1, name='x')\n"
            "print(' '.join(sorted(set(sys.modules) - before)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    assert not {"dataclasses", "inspect", "ast", "dis", "tokenize"} & loaded
    assert "rawns.records" in loaded


@given(names=st.lists(st.sampled_from(NAMES), unique=True, max_size=5),
       defaults=st.integers(0, 5), values=st.lists(st.integers(), min_size=5, max_size=5))
def test_the_named_tuple_is_typings(names: list[str], defaults: int, values: list[int]
                                     ) -> None:
    defaults = min(defaults, len(names))
    made = []
    for base in (records.NamedTuple, typing.NamedTuple):
        namespace = {"__module__": __name__, "__qualname__": "Pair", "__doc__": "Two.",
                     "__annotations__": {name: "int" for name in names},
                     "double": lambda self: tuple(2 * v for v in self)}
        for index, name in enumerate(names[len(names) - defaults:]):
            namespace[name] = -index
        made.append(types_new_class("Pair", base, namespace))
    ours, theirs = made
    given_values = values[:len(names) - defaults]
    one, two = ours(*given_values), theirs(*given_values)
    assert one == two and repr(one) == repr(two) and one._asdict() == two._asdict()
    assert ours._fields == theirs._fields
    assert ours._field_defaults == theirs._field_defaults
    assert ours.__doc__ == theirs.__doc__ == "Two." and one.double() == two.double()
    # typing wraps the annotations' text in ForwardRef; both resolve alike
    assert typing.get_type_hints(ours) == typing.get_type_hints(theirs)
    assert copy.deepcopy(one) == one and one._replace() == one


def types_new_class(name: str, base: Any, namespace: dict[str, Any]) -> Any:
    import types
    return types.new_class(name, (base,), {}, lambda ns: ns.update(namespace))


@given(st.text(alphabet="aZ09_.-/ é", max_size=6))
def test_cni_names_are_checked_as_the_spec_pattern(text: str) -> None:
    import re

    from rawns.cni.spec import is_spec_name
    assert is_spec_name(text) == bool(re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]*", text))
