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
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Any

from jira_chase.model import Issue

#: Bump when a record's meaning changes in a way defaults cannot absorb.
RECORD_VERSION = 1


def issue_to_record(issue: Issue) -> dict[str, Any]:
    record = _encode(issue)
    assert isinstance(record, dict)
    return record


def issue_from_record(record: dict[str, Any], shared: Shared | None = None) -> Issue:
    """The issue a record holds. Pass one `Shared` to every record of a load: equal
    short texts (statuses, field names, people's ids, labels) and time zones then become
    one object each, as they are in issues read from the tracker."""
    issue = _decoder(Issue)(record, Shared() if shared is None else shared)
    assert isinstance(issue, Issue)
    return issue


class Shared:
    """What the records of one load have in common (see `issue_from_record`)."""

    __slots__ = ("texts", "zones")

    #: Texts up to this length are shared (longer ones, summaries and comment bodies,
    #: are seldom equal).
    LONGEST = 64

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.zones: dict[timedelta | None, tzinfo] = {}


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


def _decode(kind: Any, value: Any) -> Any:
    return _decoder(kind)(value, Shared())


def _same(value: Any, shared: Shared) -> Any:
    return value


def _text(value: Any, shared: Shared) -> Any:
    if value is None or len(value) > Shared.LONGEST:
        return value
    return shared.texts.setdefault(value, value)


def _moment(value: Any, shared: Shared) -> Any:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    zone = moment.tzinfo
    if zone is not None and zone is not timezone.utc:
        known = shared.zones.setdefault(moment.utcoffset(), zone)
        if known is not zone:
            moment = moment.replace(tzinfo=known)
    return moment


def _day(value: Any, shared: Shared) -> Any:
    return None if value is None else date.fromisoformat(value)


def _number(value: Any, shared: Shared) -> Any:
    return float(value) if isinstance(value, int) else value


@cache
def _decoder(kind: Any) -> Callable[[Any, Shared], Any]:
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
        return lambda value, shared: (
            None if value is None else tuple([item(x, shared) for x in value])
        )
    simple = {str: _text, datetime: _moment, date: _day, float: _number}
    if kind in simple:
        return simple[kind]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        fields = {name: _decoder(hint) for name, hint in _hints(kind).items()}

        def build(value: Any, shared: Shared) -> Any:
            if value is None:
                return None
            return kind(**{name: fields[name](item, shared) for name, item in value.items()
                           if name in fields})  # fmt: skip

        return build
    return _same


@cache
def _fields(kind: type) -> tuple[dataclasses.Field[Any], ...]:
    """The fields a value is made from (derived ones are worked out again)."""
    return tuple(field for field in dataclasses.fields(kind) if field.init)


@cache
def _hints(kind: type) -> dict[str, Any]:
    names = {field.name for field in _fields(kind)}
    return {name: hint for name, hint in typing.get_type_hints(kind).items() if name in names}
