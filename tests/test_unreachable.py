"""An unreachable tracker: one clear line naming the URL setting and the cause, quickly
(no long retries of a refused connection or a name that does not resolve)."""

import json
import socket
import time

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from tests.factories import demo_config, write_toml
from tests.test_zentao_cli import zentao_config


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("http://127.0.0.1:{closed}", "the connection was refused"),
        ("http://jira.example.invalid", "does not resolve"),
    ],
)
@pytest.mark.parametrize("command", ["check", "sync"])
def test_an_unreachable_jira_is_one_line_within_seconds(tmp_path, url, cause, command):
    url = url.format(closed=closed_port())
    config = write_toml(tmp_path / "c.toml", demo_config(url, "s.sqlite"))
    started = time.monotonic()
    result = CliRunner().invoke(main, [command, "--config", str(config)])
    elapsed = time.monotonic() - started
    assert result.exit_code == 3, result.output + result.stderr
    assert elapsed < 15
    (line,) = result.stderr.strip().splitlines()
    assert f"jira.url = {url}" in line and cause in line
    assert "Max retries" not in line and "HTTPConnectionPool" not in line


def test_an_unreachable_zentao_names_its_url(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    config = write_toml(tmp_path / "c.toml", zentao_config(url, "s.sqlite"))
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 3
    assert f"zentao.url = {url}" in result.stderr and "refused" in result.stderr


def test_the_connecting_phase_names_the_address(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    config = write_toml(tmp_path / "c.toml", demo_config(url, "s.sqlite"))
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--log-format", "json"])
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    phases = [e["phase"] for e in events if e["event"] == "phase"]
    assert phases[0] == f"connecting to {url}"
