from pathlib import Path
from typing import get_args

import pytest
import tomllib
from pydantic import BaseModel

from jira_chase.config import Settings, load_settings
from jira_chase.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def model_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.add(path)
        for arg in (field.annotation, *get_args(field.annotation)):
            inner = get_args(arg) or (arg,)
            for candidate in inner:
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    paths |= model_paths(candidate, path + ".")
    return paths


def data_paths(data: object, prefix: str = "") -> set[str]:
    paths = set()
    if isinstance(data, dict):
        for key, value in data.items():
            paths.add(prefix + key)
            paths |= data_paths(value, prefix + key + ".")
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        for item in data:
            paths |= data_paths(item, prefix)
    return paths


def test_example_config_loads_and_documents_every_key():
    settings = load_settings(EXAMPLE)
    assert settings.jira is not None and settings.jira.scope
    documented = data_paths(tomllib.loads(EXAMPLE.read_text()))
    missing = model_paths(Settings) - documented
    assert not missing, f"keys not documented in config.example.toml: {sorted(missing)}"


def test_state_path_is_relative_to_the_config_file(tmp_path):
    cfg = tmp_path / "sub" / "c.toml"
    cfg.parent.mkdir()
    cfg.write_text(EXAMPLE.read_text())
    assert load_settings(cfg).state.path == cfg.parent / "jira-chase.sqlite"


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("JIRA_CHASE_JIRA__TOKEN", "from-env")
    monkeypatch.setenv("JIRA_CHASE_WRITEBACK__MAX_WRITES", "7")
    settings = load_settings(EXAMPLE)
    assert settings.jira.token.get_secret_value() == "from-env"
    assert settings.writeback.max_writes == 7
    assert settings.jira.url == "https://example.atlassian.net"  # the rest of [jira] stays


def test_token_is_never_shown(monkeypatch):
    monkeypatch.setenv("JIRA_CHASE_JIRA__TOKEN", "s3cr3t-token")
    settings = load_settings(EXAMPLE)
    assert settings.jira.token.get_secret_value() == "s3cr3t-token"
    text = repr(settings) + str(settings) + str(settings.model_dump())
    assert "s3cr3t-token" not in text


def test_config_from_environment_variable(monkeypatch):
    monkeypatch.setenv("JIRA_CHASE_CONFIG", str(EXAMPLE))
    assert load_settings().tracker == "jira"


def problems(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return info.value.problems


VALID_TAIL = """
[workflow]
done = ["Done"]
[[workflow.steps]]
name = "build"
statuses = ["In Progress"]
"""


def test_each_problem_names_its_key(tmp_path):
    found = problems(
        tmp_path,
        """
tracker = "jira"
[jira]
url = "https://x"
email = "a@b"
scope = "project = A"
tokn = "x"
[workflow]
done = []
[[workflow.steps]]
name = "b"
statuses = ["In Progress"]
limit_days = -1
[writeback]
max_writes = "many"
""",
    )
    assert found == [
        "jira.tokn: unknown key (check the spelling against config.example.toml)",
        "workflow.done: List should have at least 1 item after validation, not 0",
        "workflow.steps[0].limit_days: Input should be greater than 0",
        "writeback.max_writes: Input should be a valid integer, unable to parse string as an "
        "integer",
    ]


def test_missing_tracker_section_is_explained(tmp_path):
    assert problems(tmp_path, 'tracker = "jira"' + VALID_TAIL) == [
        "tracker = 'jira' needs a [jira] section"
    ]


def test_status_in_two_steps_is_rejected(tmp_path):
    text = (
        '[jira]\nurl="https://x"\nemail="a@b"\nscope="p = A"\n'
        + VALID_TAIL
        + '[[workflow.steps]]\nname = "review"\nstatuses = ["in progress"]\n'
    )
    (problem,) = problems(tmp_path, text)
    assert "'in progress' is in both step 'build' and 'review'" in problem


def test_not_toml_and_missing_file(tmp_path):
    (problem,) = problems(tmp_path, "this is = = not toml")
    assert "not valid TOML" in problem
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
