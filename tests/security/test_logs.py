"""A `-v` run logs every request, and no secret: no session id, token or password."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.safe_text import redacted
from tests.factories import demo_config, write_toml
from tests.security.hostile import demo_dataset
from tests.test_zentao_cli import zentao_config

NOW = "2026-11-20T16:00:00Z"
SECRETS = ("demo-token", "demo-password", "ZGVtby", "Y2hhc2UtYm90")  # incl. base64 forms


def test_redacted_takes_out_sessions_tokens_headers_and_userinfo():
    line = (
        "GET http://bot:pw@h/index.php?m=story&zentaosid=abc123 "
        "{'Token': 'tok1', 'Authorization': 'Basic QUJD'} Authorization: Bearer xyz"
    )
    out = redacted(line)
    assert not [s for s in ("pw@", "abc123", "tok1", "QUJD", "xyz") if s in out], out
    assert redacted("jira.token: required key is missing") == (
        "jira.token: required key is missing"
    )


@pytest.mark.parametrize("tracker", ["cloud", "datacenter", "zentao"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_verbose_run_logs_no_secret(raw_sim, tmp_path, tracker, log_format):
    sim = raw_sim(demo_dataset(), tracker)
    if tracker == "zentao":
        data = zentao_config(sim.url, str(tmp_path / "s.sqlite"))
    else:
        data = demo_config(sim.url, str(tmp_path / "s.sqlite"))
        data["jira"]["deployment"] = tracker
    config = str(write_toml(tmp_path / "c.toml", data))
    result = CliRunner().invoke(
        main, ["-v", "sync", "--config", config, "--now", NOW, "--log-format", log_format]
    )
    assert result.exit_code == 0, result.output
    lines = (result.stdout + result.stderr).splitlines()
    requests = [line for line in lines if "HTTP/1.1" in line]
    assert len(requests) > 5  # the requests are logged
    if log_format == "json":
        assert all(json.loads(line) for line in lines if line.startswith("{"))
    leaked = [line for line in lines if any(secret in line for secret in SECRETS)]
    sessions = [line for line in lines if re.search(r"zentaosid=(?!\*\*\*)", line)]
    assert leaked == [] and sessions == []
    if tracker == "zentao":
        assert any("zentaosid=***" in line for line in lines)
