from pathlib import Path
from typing import get_args

import pytest
import tomllib
from pydantic import BaseModel

from jira_chase.config.file import load_settings
from jira_chase.config.settings import Settings
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


def test_token_is_never_shown(monkeypatch):
    monkeypatch.setenv("JIRA_CHASE_JIRA__TOKEN", "s3cr3t-token")
    settings = load_settings(EXAMPLE)
    assert settings.jira.token.get_secret_value() == "s3cr3t-token"
    text = repr(settings) + str(settings) + str(settings.model_dump())
    assert "s3cr3t-token" not in text


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


STRICT_BASE = """
tracker = "jira"
[jira]
url = "https://x.example.com"
email = "a@b"
scope = "project = A"
[workflow]
done = ["Done"]
[[workflow.steps]]
name = "build"
statuses = ["In Progress"]
"""


def test_new_keys_default_and_validate(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(STRICT_BASE)
    settings = load_settings(path)
    assert settings.redlines.flag_finished_days == 14
    assert settings.rules.exempt_labels == [] and settings.metrics.cycle_start == "first"
    assert settings.cancelled_statuses == () and settings.cancelled_resolutions == ()
    found = problems(
        tmp_path,
        STRICT_BASE.replace('done = ["Done"]', 'done = ["Done"]\ncancelled = ["In Progress"]')
        + '[metrics]\ncycle_start = "middle"\n',
    )
    assert found == [
        "workflow: status 'In Progress' of step 'build' is also a cancelled status",
        "metrics.cycle_start: Input should be 'first' or 'last'",
    ]
