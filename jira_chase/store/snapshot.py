"""Issue snapshots to and from compact JSON records, for the state store's item cache.

The codec follows the dataclasses' own type hints, so a field added to the model is
cached without touching this module: datetimes and dates as ISO 8601 text, nested
dataclasses as objects, tuples as lists, and fields at their default value left out.
A record written by an older model (a missing field) decodes with that field's default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timezone
from functools import cache
from typing import Any

from jira_chase.engine.model import Issue
from jira_chase.engine.words import known_word, word, zoned

#: Bump when a record's meaning changes in a way defaults cannot absorb.
RECORD_VERSION = 1


def issue_to_record(issue: Issue) -> dict[str, Any]:
    record = _encoder(Issue)(issue)
    assert isinstance(record, dict)
    return record


def issue_from_record(record: dict[str, Any]) -> Issue:
    """The issue a record holds; its short texts (statuses, field names, people's ids,
    labels) and time zones are shared with every other issue's (see `words`)."""
    issue = _decoder(Issue)(record)
    assert isinstance(issue, Issue)
    return issue


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for field in _fields(type(value)):
            item = getattr(value, field.name)
            if field.default is not dataclasses.MISSING and item == field.default:
                continue
            out[field.name] = _encode(item)
        return out
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    return value


def _isoformat(value: Any) -> Any:
    return None if value is None else value.isoformat()


@cache
def _encoder(kind: Any) -> Callable[[Any], Any]:
    """`_encode` for values of `kind`, worked out once per kind from the type hints (a
    first run encodes every issue: per value, it only calls what that value needs).
    What the hints do not pin down is encoded by looking (`_encode`)."""
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if len(options) != 1:
            return _encode
        inner = _encoder(options[0])
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) != 2 or args[1] is not Ellipsis:
            return _encode
        item = _encoder(args[0])
        return lambda value: [item(x) for x in value]
    if kind in (datetime, date):
        return _isoformat
    if kind in (str, int, float, bool):
        return lambda value: value if type(value) in (str, int, float, bool) else _encode(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        fields = [(f.name, f.default, _encoder(hints[f.name])) for f in _fields(kind)]
        missing = dataclasses.MISSING

        def encode(value: Any) -> Any:
            if type(value) is not kind:
                return _encode(value)
            out = {}
            for name, default, field_encoder in fields:
                item = getattr(value, name)
                if default is not missing and item == default:
                    continue
                out[name] = field_encoder(item)
            return out

        return encode
    return _encode


def _decode(kind: Any, value: Any) -> Any:
    return _decoder(kind)(value)


def _same(value: Any) -> Any:
    return value


def _moment(value: Any) -> Any:
    if value is None:
        return None
    moment = _from_text(value)
    return moment if moment.tzinfo is _UTC else zoned(moment)


_from_text = datetime.fromisoformat
_UTC = timezone.utc


def _day(value: Any) -> Any:
    return None if value is None else date.fromisoformat(value)


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, int) else value


@cache
def _decoder(kind: Any) -> Callable[[Any], Any]:
    """The function that turns a record's value back into `kind`, worked out once per
    kind from the type hints (a run decodes every cached issue: per value, it only
    calls what that value needs). Every one passes None through."""
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _decoder(options[0]) if len(options) == 1 else _same
    if origin is tuple:
        (item_kind, *_) = typing.get_args(kind)
        item = _decoder(item_kind)
        return lambda value: None if value is None else tuple([item(x) for x in value])
    simple = {str: word, datetime: _moment, date: _day, float: _number}
    if kind in simple:
        return simple[kind]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _builder(kind)
    return _same


def _builder(kind: type) -> Callable[[Any], Any]:
    """The decoder of a dataclass: one function written for its fields, that calls
    `kind` with each field's decoded value, or its default when the record leaves the
    field out (as it does a field at its default, or one added since)."""
    namespace: dict[str, Any] = {"kind": kind, "absent": object(), "known": known_word}
    arguments = []
    for n, (name, hint) in enumerate(_hints(kind).items()):
        field = next(f for f in _fields(kind) if f.name == name)
        decode = namespace[f"decode{n}"] = _decoder(hint)
        # A text met before is looked up in place (most are: statuses, people, fields).
        decoded = f"(known(v) or decode{n}(v))" if decode is word else f"decode{n}(v)"
        if field.default is not dataclasses.MISSING:
            namespace[f"default{n}"] = field.default
            otherwise = f"default{n}"
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"factory{n}"] = field.default_factory
            otherwise = f"factory{n}()"
        else:
            arguments.append(f"{name}=({decoded} if (v := value[{name!r}]) or True else None)")
            continue
        arguments.append(
            f"{name}={decoded} if (v := get({name!r}, absent)) is not absent else {otherwise}"
        )
    source = (
        "def build(value):\n"
        "    if value is None:\n"
        "        return None\n"
        "    get = value.get\n"
        f"    return kind({', '.join(arguments)})\n"
    )
    exec(source, namespace)  # noqa: S102 - code written above from the type's own fields
    return namespace["build"]


@cache
def _fields(kind: type) -> tuple[dataclasses.Field[Any], ...]:
    """The fields a value is made from (derived ones are worked out again)."""
    return tuple(field for field in dataclasses.fields(kind) if field.init)


@cache
def _hints(kind: type) -> dict[str, Any]:
    names = {field.name for field in _fields(kind)}
    return {name: hint for name, hint in typing.get_type_hints(kind).items() if name in names}
