"""Record classes: rawns' value classes, as dataclasses make them, without importing dataclasses.

``@record`` is ``@dataclass(frozen=True, kw_only=True, slots=True)``;
``@record(frozen=..., kw_only=..., slots=...)`` the variants.

Why not ``dataclasses``: importing it loads ``inspect``, ``ast``, ``dis``,
``tokenize``, ``re`` and ``typing`` (about 30 ms), and it builds every method of
every class with its own ``exec`` (about 1 ms a class). rawns has some sixty
value classes on its command paths, and a command has about 20 ms in all.

A record behaves as the dataclass it replaces, as far as rawns and its users can
tell: the same field order (inherited record fields first), ``ClassVar``
annotations left out, defaults and ``field(default_factory=..., repr=...,
compare=..., hash=...)``, ``__slots__``, frozen (setting or deleting a field raises
``dataclasses.FrozenInstanceError``, imported then, on that error path only),
``__eq__`` against the same class only, ``__hash__``, the same ``__repr__`` text,
``__match_args__``, ``__post_init__``, copy/pickle/deepcopy, and a keyword-only
``__init__`` whose ``inspect.signature`` names every field and default.

``__init__`` is the one generated method: one straight-line ``exec`` per class, on
its first use (a call, or ``inspect.signature``): compiling costs about 0.3 ms a
class, and a command builds few of the classes it loads. ``__repr__``, ``__eq__``,
``__hash__`` and the frozen ``__setattr__`` are shared functions reading the
class's field tuples.

Differences a user could see: ``__repr__`` is not guarded against recursion
(a record holding itself through a mutable field), a class gets no generated
``__doc__``, and ``typing.get_type_hints`` of a record whose module imports its
annotation names under ``TYPE_CHECKING`` only fails as it would for a dataclass
of that module.

``dataclasses.fields``, ``replace``, ``asdict``, ``astuple`` and ``is_dataclass``
work on records: ``__dataclass_fields__`` is a class-level descriptor that imports
``dataclasses`` and builds its ``Field`` objects on first access only.
:func:`fields` and :func:`replace` here are the cheap ones, for rawns' own use.

For type checkers :func:`record` is a ``dataclass_transform`` (PEP 681), so mypy
checks a record's constructor as it checks a dataclass's.
"""

from __future__ import annotations

import sys
from operator import attrgetter

TYPE_CHECKING = False  # typing's, without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NamedTuple as NamedTuple, TypeVar, dataclass_transform, overload

    T = TypeVar("T")
else:
    def dataclass_transform(**_options: object) -> object:
        return lambda function: function

    def overload(function: object) -> object:
        return function

__all__ = ["MISSING", "Field", "NamedTuple", "field", "fields", "record", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


class _Factory:
    """The default ``__init__`` shows for a field made by a factory."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"  # what a dataclass's signature shows


MISSING: Any = _Missing()
_FACTORY = _Factory()


class Field:
    """One field of a record: its name, annotation (the source text) and options."""

    __slots__ = ("name", "type", "default", "default_factory", "repr", "hash", "compare",
                 "kw_only")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING,
                 repr: bool = True, hash: bool | None = None, compare: bool = True) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.hash = hash
        self.compare = compare
        self.kw_only = True

    def __repr__(self) -> str:
        return (f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r}, "
                f"default_factory={self.default_factory!r}, repr={self.repr!r}, "
                f"hash={self.hash!r}, compare={self.compare!r}, kw_only={self.kw_only!r})")


@overload
def field(*, default: T, repr: bool = True, hash: bool | None = None,
          compare: bool = True) -> T: ...
@overload  # noqa: E302
def field(*, default_factory: Callable[[], T], repr: bool = True, hash: bool | None = None,
          compare: bool = True) -> T: ...
@overload  # noqa: E302
def field(*, repr: bool = True, hash: bool | None = None, compare: bool = True) -> Any: ...
def field(*, default: Any = MISSING, default_factory: Any = MISSING,  # noqa: E302
          repr: bool = True, hash: bool | None = None, compare: bool = True) -> Any:
    """A field's options, as ``dataclasses.field`` takes them (those rawns uses)."""
    return Field(default, default_factory, repr, hash, compare)


def _is_class_var(annotation: object) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))
    return repr(annotation).startswith("typing.ClassVar")


def fields(class_or_instance: Any) -> tuple[Field, ...]:
    """The fields of a record (class or instance), in ``__init__`` order; of a
    dataclass too (``dataclasses.fields``), so that code written for either
    (``fast.fast_constructor``) takes both."""
    try:
        found: tuple[Field, ...] = class_or_instance.__record_fields__
    except AttributeError:
        if not hasattr(class_or_instance, "__dataclass_fields__"):
            raise TypeError("must be called with a record type or instance") from None
        import dataclasses
        found = dataclasses.fields(class_or_instance)  # type: ignore[assignment]
    return found


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record ``obj`` with ``changes``: ``dataclasses.replace``."""
    for spec in obj.__record_fields__:  # type: ignore[attr-defined]
        if spec.name not in changes:
            changes[spec.name] = getattr(obj, spec.name)
    return obj.__class__(**changes)


# -- the shared methods -------------------------------------------------------------

def _repr(self: Any) -> str:
    return (f"{self.__class__.__qualname__}("
            + ", ".join([f"{name}={getattr(self, name)!r}" for name in self.__record_repr__])
            + ")")


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = other.__class__.__record_key__  # from the class: a lambda would bind
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__class__.__record_hash_key__(self))


def _frozen_error(message: str) -> Exception:
    # The dataclass's own exception, so that callers catching it keep working;
    # dataclasses is imported on this error path only.
    from dataclasses import FrozenInstanceError
    return FrozenInstanceError(message)


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    cls = self.__class__
    if cls.__record_class__ is cls or name in cls.__record_frozen__:
        raise _frozen_error(f"cannot assign to field {name!r}")
    super(cls.__record_class__, self).__setattr__(name, value)


def _frozen_delattr(self: Any, name: str) -> None:
    cls = self.__class__
    if cls.__record_class__ is cls or name in cls.__record_frozen__:
        raise _frozen_error(f"cannot delete field {name!r}")
    super(cls.__record_class__, self).__delattr__(name)


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, name) for name in self.__record_names__]


def _setstate(self: Any, state: list[Any]) -> None:
    for name, value in zip(self.__record_names__, state):
        object.__setattr__(self, name, value)  # frozen: __setattr__ would refuse


def _key_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function from a record to the tuple of ``names``' values (C speed)."""
    if len(names) >= 2:
        return attrgetter(*names)
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


class _LazyDataclassFields:
    """``__dataclass_fields__`` of a record: ``dataclasses.Field`` objects made on
    first access, so that ``dataclasses.fields()``/``replace()``/``asdict()`` work."""

    def __init__(self) -> None:
        self.made: dict[type, dict[str, Any]] = {}

    def __get__(self, obj: object, owner: type) -> dict[str, Any]:
        made = self.made.get(owner)
        if made is None:
            made = self.made[owner] = _dataclass_fields(owner)
        return made


class _LazyDataclassParams:
    """``__dataclass_params__`` of a record, made on first access."""

    def __get__(self, obj: object, owner: type) -> Any:
        import dataclasses
        options = owner.__record_options__  # type: ignore[attr-defined]
        make = dataclasses._DataclassParams  # type: ignore[attr-defined]
        try:  # 3.10 and 3.11
            return make(True, True, True, False, False, options["frozen"])
        except TypeError:  # later: match_args, kw_only, slots, weakref_slot too
            return make(True, True, True, False, False, options["frozen"], True,
                        options["kw_only"], options["slots"], False)


_DATACLASS_FIELDS = _LazyDataclassFields()  # one for all records: it keys by class
_DATACLASS_PARAMS = _LazyDataclassParams()


def _dataclass_fields(cls: type) -> dict[str, Any]:
    import dataclasses
    made: dict[str, Any] = {}
    missing: Any = dataclasses.MISSING
    for spec in cls.__record_fields__:  # type: ignore[attr-defined]
        one: Any = dataclasses.field(
            default=missing if spec.default is MISSING else spec.default,
            default_factory=(missing if spec.default_factory is MISSING
                             else spec.default_factory), repr=spec.repr,
            hash=spec.hash, compare=spec.compare, kw_only=spec.kw_only)
        # what dataclass() itself fills in, so that fields()/replace()/asdict() see
        # an ordinary field
        one.name = spec.name
        one.type = spec.type
        one._field_type = getattr(dataclasses, "_FIELD")
        made[spec.name] = one
    return made


class _LazyInit:
    """``__init__`` of a record until first use: compiling one costs about 0.3 ms,
    and a command uses few of the classes it loads.  The first lookup (a call, or
    ``inspect.signature``, which reads ``cls.__init__``) compiles the real one and
    puts it on the class in its place."""

    __slots__ = ("owner", "specs", "frozen", "slotted")

    def __init__(self, owner: type, specs: tuple[Field, ...], frozen: bool,
                 slotted: bool) -> None:
        self.owner, self.specs, self.frozen, self.slotted = owner, specs, frozen, slotted

    def __get__(self, obj: object, cls: type | None = None) -> Any:
        owner = self.owner
        init = owner.__dict__.get("__init__")
        if init is self:
            init = _make_init(owner, self.specs, self.frozen, self.slotted)
            type.__setattr__(owner, "__init__", init)
        return init if obj is None else init.__get__(obj, cls)  # type: ignore[union-attr]


def _make_init(cls: type, specs: tuple[Field, ...], frozen: bool,
               slotted: bool) -> Callable[..., None]:
    """The ``__init__`` of ``cls``: one straight-line function."""
    closure: dict[str, Any] = {}
    params: list[str] = []
    keywords: list[str] = []
    body: list[str] = []
    for spec in specs:
        name = spec.name
        if spec.default_factory is not MISSING:
            closure[f"_d_{name}"] = _FACTORY
            closure[f"_f_{name}"] = spec.default_factory
            (keywords if spec.kw_only else params).append(f"{name}=_d_{name}")
            value = f"_f_{name}() if {name} is _d_{name} else {name}"
        elif spec.default is not MISSING:
            closure[f"_d_{name}"] = spec.default
            (keywords if spec.kw_only else params).append(f"{name}=_d_{name}")
            value = name
        else:
            (keywords if spec.kw_only else params).append(name)
            value = name
        slot = None
        if slotted:
            for klass in cls.__mro__:
                if name in klass.__dict__:
                    slot = klass.__dict__[name]
                    break
        if slot is not None and type(slot).__name__ == "member_descriptor":
            closure[f"_s_{name}"] = slot.__set__  # straight into the slot: frozen or not
            body.append(f"  _s_{name}(self, {value})")
        elif frozen:
            closure["_object_setattr"] = object.__setattr__
            body.append(f"  _object_setattr(self, {name!r}, {value})")
        else:
            body.append(f"  self.{name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    if not body:
        body.append("  pass")
    if keywords:
        params += ["*", *keywords]
    names = ", ".join(closure)
    source = (f"def __create__({names}):\n"
              f" def __init__(self{', ' if params else ''}{', '.join(params)}):\n"
              + "\n".join(" " + line for line in body)
              + "\n return __init__\n")
    namespace: dict[str, Any] = {}
    module = sys.modules.get(cls.__module__)
    # The module's globals, as dataclasses gives them: typing.get_type_hints (and so
    # hypothesis' builds()) resolves the annotations' text there.
    # exec of a code object, never of a str: a KeyboardInterrupt that passes
    # through exec(str) marks the process as ended by Ctrl-C, and CPython then
    # exits by SIGINT even though the command caught it and chose its status
    code = compile(source, f"<__init__ of {cls.__qualname__}>", "exec")
    exec(code, module.__dict__ if module is not None else {}, namespace)
    init = namespace["__create__"](**closure)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {spec.name: spec.type for spec in specs}
    init.__annotations__["return"] = None
    made: Callable[..., None] = init
    return made


def _process(cls: type, frozen: bool, kw_only: bool, slots: bool, eq: bool) -> type:
    specs: dict[str, Field] = {}
    for base in cls.__mro__[-1:0:-1]:
        for spec in base.__dict__.get("__record_fields__", ()):
            specs[spec.name] = spec
    own = cls.__dict__.get("__annotations__", {})
    for name, annotation in own.items():
        if _is_class_var(annotation):
            continue
        default = cls.__dict__.get(name, MISSING)
        spec = default if isinstance(default, Field) else Field(default)
        if spec.default_factory is MISSING and spec.default.__class__ in (list, dict, set):
            raise ValueError(f"mutable default {type(spec.default)} for field {name} "
                             "is not allowed: use default_factory")
        spec.name = name
        spec.type = annotation
        spec.kw_only = kw_only
        specs[name] = spec
    ordered = tuple(specs.values())
    seen_default = False
    for spec in ordered:
        if spec.kw_only:
            continue
        has_default = spec.default is not MISSING or spec.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {spec.name!r} follows default argument")
        seen_default = seen_default or has_default
    own_body = dict(cls.__dict__)

    names = tuple(spec.name for spec in ordered)
    compared = tuple(spec.name for spec in ordered if spec.compare)
    hashed = tuple(spec.name for spec in ordered
                   if (spec.compare if spec.hash is None else spec.hash))
    # Everything goes on the class in one step (into the namespace of the class a
    # slotted record is remade as): each setattr on a class costs a cache flush.
    extra: dict[str, Any] = {
        "__record_fields__": ordered, "__record_names__": names,
        "__record_frozen__": frozenset(names),
        "__record_options__": {"frozen": frozen, "kw_only": kw_only, "slots": slots},
        "__record_repr__": tuple(spec.name for spec in ordered if spec.repr),
        "__dataclass_fields__": _DATACLASS_FIELDS, "__dataclass_params__": _DATACLASS_PARAMS,
    }
    if "__match_args__" not in own_body:
        extra["__match_args__"] = tuple(spec.name for spec in ordered if not spec.kw_only)
    if "__repr__" not in own_body:
        extra["__repr__"] = _repr
    if eq and "__eq__" not in own_body:
        extra["__record_key__"] = _key_of(compared)
        extra["__eq__"] = _eq
    own_hash = own_body.get("__hash__", MISSING)
    explicit_hash = not (own_hash is MISSING or (own_hash is None and "__eq__" in own_body))
    if eq and not explicit_hash:
        if frozen:
            extra["__record_hash_key__"] = _key_of(hashed)
            extra["__hash__"] = _hash
        else:
            extra["__hash__"] = None  # mutable and compared by value: unhashable
    if frozen:
        extra["__setattr__"] = _frozen_setattr
        extra["__delattr__"] = _frozen_delattr
        if slots:
            # the default pickling of slots sets attributes, which frozen refuses
            extra["__getstate__"] = _getstate
            extra["__setstate__"] = _setstate

    if slots:
        namespace = dict(own_body)
        for name in own:
            if name in specs:  # a ClassVar keeps its value
                namespace.pop(name, None)
        namespace.pop("__dict__", None)
        namespace.pop("__weakref__", None)
        namespace["__slots__"] = tuple(name for name in own if name in specs)
        namespace.update(extra)
        qualname = getattr(cls, "__qualname__", None)
        cls = type(cls)(cls.__name__, cls.__bases__, namespace)
        if qualname is not None:
            cls.__qualname__ = qualname
    else:
        for name in own:
            spec = specs.get(name)
            if spec is None:
                continue
            if spec.default is not MISSING:
                setattr(cls, name, spec.default)
            elif name in cls.__dict__:
                delattr(cls, name)  # a field(default_factory=...) or field()
        for key, value in extra.items():
            setattr(cls, key, value)
    setattr(cls, "__record_class__", cls)
    if "__init__" not in own_body:
        setattr(cls, "__init__", _LazyInit(cls, ordered, frozen, slots))
    return cls


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = True, kw_only: bool = True,
           slots: bool = True, eq: bool = True) -> Any:
    """Make ``cls`` a record: ``@record`` is ``@dataclass(frozen=True,
    kw_only=True, slots=True)``; ``@record(frozen=False, kw_only=False,
    slots=False)`` and the mixes between are the other dataclasses rawns had."""
    def wrap(cls: type) -> type:
        return _process(cls, frozen, kw_only, slots, eq)

    if cls is None:
        return wrap
    return wrap(cls)


# -- NamedTuple ---------------------------------------------------------------------

if not TYPE_CHECKING:
    class _NamedTupleMeta(type):
        """``class X(NamedTuple)`` as typing makes it (a collections.namedtuple
        with the class's defaults, methods and annotations), without importing
        typing: ~5 ms of start-up for a process that lives a few milliseconds,
        as the CNI plugin does. Type checkers see typing's NamedTuple."""

        def __new__(cls, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
            from collections import namedtuple

            if bases != (_NamedTupleBase,):
                raise TypeError("can only inherit from a NamedTuple type")
            annotations = ns.get("__annotations__", {})
            defaults = [name for name in annotations if name in ns]
            if list(annotations)[len(annotations) - len(defaults):] != defaults:
                raise TypeError(f"{typename}: a field without a default follows one with")
            made = namedtuple(typename, list(annotations), module=ns["__module__"],
                              defaults=[ns[name] for name in defaults])
            made.__annotations__ = dict(annotations)
            for key, value in ns.items():
                if key in _PROHIBITED:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in ("__name__", "__module__", "__annotations__",
                               "__qualname__") and key not in made._fields:
                    setattr(made, key, value)
            if "__qualname__" in ns:
                made.__qualname__ = ns["__qualname__"]
            return made

    _PROHIBITED = frozenset({"_asdict", "_make", "_source", "__init__", "_fields",
                             "_field_defaults", "_replace", "__slots__", "__getnewargs__",
                             "__new__"})
    _NamedTupleBase = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

    def NamedTuple(typename: str, fields: Any = None, /) -> Any:  # noqa: N802 -- typing's name
        """typing.NamedTuple: a base class (``class X(NamedTuple)``), or the
        functional form ``NamedTuple("X", [("a", int)])``."""
        from collections import namedtuple

        return namedtuple(typename, [name for name, _ in fields or ()])

    NamedTuple.__mro_entries__ = lambda bases: (_NamedTupleBase,)

