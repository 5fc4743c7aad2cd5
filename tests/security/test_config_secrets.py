"""Secrets in the configuration: never in a URL, and the other tracker's never in the way."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.config.file import load_settings
from jira_chase.errors import ConfigError
from tests.factories import demo_config, write_toml
from tests.test_config import EXAMPLE


def test_the_other_trackers_secret_in_the_environment_is_ignored(tmp_path, monkeypatch):
    config = write_toml(tmp_path / "c.toml", demo_config("http://127.0.0.1:1", "s.sqlite"))
    monkeypatch.setenv("JIRA_CHASE_ZENTAO__PASSWORD", "zentao-secret")
    monkeypatch.setenv("JIRA_CHASE_ZENTAO__ACCOUNT", "bot")
    settings = load_settings(config)
    assert settings.tracker == "jira" and settings.zentao is None
    assert load_settings(EXAMPLE).zentao is not None  # a [zentao] in the file stays


def test_the_jira_secret_is_ignored_when_zentao_is_chased(tmp_path, monkeypatch):
    data = demo_config("http://127.0.0.1:1", "s.sqlite")
    del data["jira"]
    data["tracker"] = "zentao"
    data["zentao"] = {"url": "http://127.0.0.1:1", "account": "bot", "products": [1]}
    monkeypatch.setenv("JIRA_CHASE_JIRA__TOKEN", "jira-secret")
    monkeypatch.setenv("JIRA_CHASE_ZENTAO__PASSWORD", "zentao-secret")
    settings = load_settings(write_toml(tmp_path / "c.toml", data))
    assert settings.jira is None
    assert settings.zentao is not None
    assert settings.zentao.password.get_secret_value() == "zentao-secret"


@pytest.mark.parametrize(
    ("section", "url", "advice"),
    [
        ("jira", "https://bot:TOPSECRET@jira.example.com", "jira.token"),
        ("jira", "https://TOPSECRET@jira.example.com", "JIRA_CHASE_JIRA__TOKEN"),
        ("zentao", "http://bot:TOPSECRET@zentao.example.com", "zentao.password"),
    ],
)
def test_credentials_in_a_url_are_refused_without_echoing_them(tmp_path, section, url, advice):
    data = demo_config("http://127.0.0.1:1", "s.sqlite")
    if section == "zentao":
        del data["jira"]
        data["tracker"] = "zentao"
        data["zentao"] = {"account": "bot", "products": [1]}
    data[section]["url"] = url
    config = write_toml(tmp_path / "c.toml", data)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{section}.url: ") and advice in problem
    assert "TOPSECRET" not in problem
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert "TOPSECRET" not in result.output and len(result.stderr.splitlines()) <= 2
