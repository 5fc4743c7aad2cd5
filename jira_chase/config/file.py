"""Reading the configuration: the TOML file (or data already parsed) validated into
`Settings`, environment overrides included. Every problem is reported with the dotted
key path that fixes it; booleans and numbers in the file must be of the right kind.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from jira_chase.config.settings import ENV_PREFIX, Settings
from jira_chase.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_ENV = "JIRA_CHASE_CONFIG"


def _format_problem(error: Any) -> str:
    loc = ""
    for part in error.get("loc", ()):
        if isinstance(part, int):
            loc += f"[{part}]"
        elif part != "__root__":
            loc += f".{part}" if loc else str(part)
    msg = error.get("msg", "invalid")
    if error.get("type") == "extra_forbidden":
        msg = "unknown key (check the spelling against config.example.toml)"
    elif error.get("type") == "missing":
        msg = "required key is missing"
    msg = msg.removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def _kind_problem(annotation: Any, value: Any) -> str | None:
    """What `value` should have been when it is of the wrong kind for `annotation`
    (bool, int or float, possibly optional), else None."""
    import types
    import typing

    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        if value is None or any(_kind_problem(a, value) is None for a in kinds):
            return None
        return _kind_problem(kinds[0], value)
    if annotation is bool and not isinstance(value, bool):
        return "true or false (a boolean, not text or a number)"
    if annotation is int and (isinstance(value, bool) or not isinstance(value, int)):
        return "a whole number (not text or a boolean)"
    if annotation is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "a number (not text or a boolean)"
    return None


def _strict_problems(data: Any, model: Any = None, loc: str = "") -> list[str]:
    """Booleans and numbers in the file that are of the wrong kind, which validation
    would otherwise convert (`true` read as 1 day, "6" as 6, "off" as false).

    Only the file is read this strictly: environment overrides are text by nature and
    are converted as usual (a key the environment overrides is not reported)."""
    import typing

    model = model or Settings
    if not isinstance(data, dict):
        return []
    problems = []
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None:
            continue
        key = f"{loc}.{name}" if loc else name
        if (ENV_PREFIX + key.replace(".", "__")).upper() in {k.upper() for k in os.environ}:
            continue
        annotation = field.annotation
        if typing.get_origin(annotation) is list and isinstance(value, list):
            (item,) = typing.get_args(annotation)
            model_item = isinstance(item, type) and issubclass(item, BaseModel)
            for i, element in enumerate(value):
                if model_item:
                    problems += _strict_problems(element, item, f"{key}[{i}]")
                elif (wanted := _kind_problem(item, element)) is not None:
                    problems.append(f"{key}[{i}]: {element!r} must be {wanted}")
            continue
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        nested = next(
            (a for a in [annotation, *inner] if isinstance(a, type) and issubclass(a, BaseModel)),
            None,
        )
        if nested is not None:
            problems += _strict_problems(value, nested, key)
            continue
        wanted = _kind_problem(annotation, value)
        if wanted is not None:
            problems.append(f"{key}: {value!r} must be {wanted}")
    return problems


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(
            [f"config file {path} not found (pass --config PATH or set {CONFIG_ENV})"]
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc


def resolve_config_path(path: str | os.PathLike[str] | None) -> Path:
    """The config file to read: the explicit path, else $JIRA_CHASE_CONFIG."""
    if path is not None:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    raise ConfigError([f"no configuration: pass --config PATH or set {CONFIG_ENV}"])


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    data: dict[str, Any] | None = None,
) -> Settings:
    """Read and validate the configuration.

    `data` (already-parsed TOML) takes the place of the file when given; the state path
    is then resolved against the working directory. Raises ConfigError listing every
    problem, each prefixed by its dotted key path.
    """
    base_dir = Path.cwd()
    if data is None:
        config_path = resolve_config_path(path)
        data = _read_toml(config_path)
        base_dir = config_path.resolve().parent
    problems: list[str] = []
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = [_format_problem(e) for e in exc.errors()]
    reported = {p.partition(":")[0] for p in problems}
    problems += [p for p in _strict_problems(data) if p.partition(":")[0] not in reported]
    if problems:
        raise ConfigError(problems)
    state_path = settings.state.path
    if not state_path.is_absolute():
        state_path = base_dir / state_path
    return settings.model_copy(
        update={"state": settings.state.model_copy(update={"path": state_path})}
    )
