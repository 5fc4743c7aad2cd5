"""History the tracker did not give, missing secrets and the error lines that name the
real cause — over real sockets. (The workflow checked against the tracker: test_vet.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.config.file import load_settings
from jira_chase.errors import TrackerError
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.zentao import ZenTaoSimulator
from jira_chase.sources.jira import JiraSource
from tests.factories import demo_config, write_toml
from tests.test_zentao_cli import zentao_config

NOW = "2026-11-20T16:00:00Z"
DC = {"deployment": "datacenter", "email": "", "token": "pat-1"}


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env=env)


# -- a tracker that gives no change history --------------------------------------------------


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_without_change_history_nothing_that_needs_it_is_judged(tmp_path, jira_sim, deployment):
    jira = DC if deployment == "datacenter" else {}
    full = jira_sim(build_demo_dataset(), deployment=deployment)
    bare = jira_sim(build_demo_dataset(), deployment=deployment, changelog=False)
    docs = []
    for name, sim in (("full", full), ("bare", bare)):
        config = write_toml(tmp_path / f"{name}.toml", demo_config(sim.url, f"{name}.sqlite",
                                                                   jira=jira))  # fmt: skip
        result = cli("plan", "--config", str(config), "--now", NOW, "--json")
        assert result.exit_code == 0, result.stderr
        docs.append(json.loads(result.stdout))
    judged, blind = docs
    history_rules = {"time-in-step", "required-step", "skipped-step", "max-reopens",
                     "older-than-p85", "older-than-p95", "no-update"}  # fmt: skip
    assert history_rules & {f["rule"] for i in judged["issues"] for f in i["findings"]}
    assert not history_rules & {f["rule"] for i in blind["issues"] for f in i["findings"]}
    # No invented dates: cycle time is not measured rather than measured from creation.
    assert judged["team"]["metrics"]["cycle_time_days"] is not None
    assert blind["team"]["metrics"]["cycle_time_days"] is None
    coverage = blind["coverage"]
    assert coverage["no_history"] is True
    # Every issue that left To Do lacks its history; the ones still in To Do do not.
    left_todo = [i for i in build_demo_dataset()["issues"] if i.get("history")]
    assert 0 < len(coverage["unknown_history"]) <= len(left_todo)
    warnings = blind["warnings"]
    assert warnings[0].startswith("the tracker returned no change history for any issue")
    assert warnings[1].startswith(f"{len(coverage['unknown_history'])} of 156 issues have no "
                                  "status history")  # fmt: skip
    assert judged["coverage"]["unknown_history"] == []
    # The text summary says it too.
    config = write_toml(tmp_path / "t.toml", demo_config(bare.url, "t.sqlite", jira=jira))
    text = cli("plan", "--config", str(config), "--now", NOW).stdout
    assert "warning: the tracker returned no change history" in text


# -- missing secrets: refused before any request ---------------------------------------------


def test_a_missing_jira_token_is_a_config_error_before_any_request(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    data = demo_config(sim.url, "s.sqlite", jira={"token": ""})
    result = cli("check", "--config", str(write_toml(tmp_path / "c.toml", data)))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "config error: jira.token is empty: set JIRA_CHASE_JIRA__TOKEN to the bot account's "
        "API token"
    )
    assert sim.requests == []


def test_zentao_never_signs_in_with_an_empty_password(tmp_path):
    with ZenTaoSimulator(build_demo_dataset()) as sim:
        data = zentao_config(sim.url, str(tmp_path / "z.sqlite"), zentao={"password": ""})
        result = cli("sync", "--config", str(write_toml(tmp_path / "z.toml", data)))
        requests_seen = sim.request_count
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: zentao.password is empty: set "
                                    "JIRA_CHASE_ZENTAO__PASSWORD")  # fmt: skip
    assert requests_seen == 0


# -- error lines that name the real cause --------------------------------------------------


class _Page(BaseHTTPRequestHandler):
    """A web server that is not a tracker: a login page for every path."""

    status = 200
    body = (
        "<!DOCTYPE html><html><head><title>Acme Single Sign-On</title></head><body>"
        + "<p>Please sign in.</p>" * 200
        + "</body></html>"
    )

    def _answer(self) -> None:
        data = self.body.encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


class _Missing(_Page):
    status = 404
    body = "<html><head><title>404 Not Found</title></head><body>" + "x" * 3000 + "</body></html>"


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def login_page() -> Iterator[str]:
    yield from _serve(_Page)


@pytest.fixture
def not_found_page() -> Iterator[str]:
    yield from _serve(_Missing)


def test_a_page_that_is_not_json_is_named_not_a_jira_api(tmp_path, login_page):
    data = demo_config(login_page, "s.sqlite", jira={"retries": 0})
    result = cli("check", "--config", str(write_toml(tmp_path / "c.toml", data)))
    assert result.exit_code == 3
    line = result.stderr.strip()
    assert line.startswith(f"error: jira.url = {login_page} answered a web page titled "
                           "'Acme Single Sign-On' instead of JSON")  # fmt: skip
    assert "it is not a Jira REST API" in line and "cannot reach" not in line
    assert "Please sign in" not in line and "\n" not in line


def test_a_404_page_is_named_by_its_title_not_printed(tmp_path, not_found_page):
    data = demo_config(not_found_page, "s.sqlite", jira={"retries": 0})
    result = cli("check", "--config", str(write_toml(tmp_path / "c.toml", data)))
    assert result.exit_code == 3
    line = result.stderr.strip()
    assert "HTTP 404" in line and "a web page titled '404 Not Found'" in line
    assert "xxxx" not in line and len(line) < 300


def test_a_zentao_url_that_answers_a_web_page_is_named(tmp_path, login_page):
    data = zentao_config(login_page, str(tmp_path / "z.sqlite"), zentao={"retries": 0})
    result = cli("check", "--config", str(write_toml(tmp_path / "z.toml", data)))
    assert result.exit_code == 3
    assert "answered a web page titled 'Acme Single Sign-On' instead of JSON while signing " \
        "in: it is not a ZenTao REST API" in result.stderr  # fmt: skip


def test_a_jql_error_blames_jira_scope_quoting_jira(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    data = demo_config(sim.url, "s.sqlite", jira={**DC, "scope": "project = APP AND"})
    result = cli("check", "--config", str(write_toml(tmp_path / "c.toml", data)))
    assert result.exit_code == 3
    assert result.stderr.startswith("error: Jira rejected jira.scope (HTTP 400): '")
    assert "fix the JQL in jira.scope" in result.stderr


def test_a_rejected_parameter_is_named_and_jira_scope_is_not_blamed(jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    settings = load_settings(data=demo_config(sim.url, "s.sqlite", jira=DC))
    assert settings.jira is not None
    source = JiraSource(settings.jira)
    # The library's own default sends validateQuery=True, which Jira refuses.
    with pytest.raises(TrackerError) as caught:
        source.site.call(
            "searching jira.scope",
            lambda: source.site.client.search_issues(
                "project = APP", maxResults=1, json_result=True
            ),
        )
    message = str(caught.value)
    assert message.startswith("Jira rejected the request parameter 'validateQuery' (HTTP 400) "
                              "while searching jira.scope: \"'True' is not a valid "
                              "validateQuery value.\"")  # fmt: skip
    assert "fix the JQL" not in message


def test_query_string_booleans_are_lowercase(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite", jira=DC))
    search = f"{sim.url}/rest/api/2/search"
    auth = {"Authorization": "Bearer pat-1"}
    for word, status in (("True", 400), ("true", 200)):
        answer = requests.get(search, params={"jql": "project = APP", "validateQuery": word},
                              headers=auth, timeout=10)  # fmt: skip
        assert answer.status_code == status
    # The site refuses "True", so a run that searched it sent the documented word.
    assert cli("plan", "--config", str(config), "--now", NOW).exit_code == 0
    assert [path for _, path in sim.requests].count("/rest/api/2/search") >= 2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://jira.example.com/rest", "ends in /rest: give the site's base URL "
                                          "('https://jira.example.com')"),
        ("https://jira.example.com/rest/api/2/", "ends in /rest/api/2"),
        ("jira.example.com", "is not a web address: write it with its scheme, e.g. "
                             "'https://jira.example.com'"),
    ],
)  # fmt: skip
def test_jira_url_hints(tmp_path, url, expected):
    data = demo_config(url, "s.sqlite")
    result = cli("check", "--config", str(write_toml(tmp_path / "c.toml", data)))
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: jira.url: ")
    assert expected in result.stderr


def test_zentao_url_ending_in_index_php_is_a_hint(tmp_path):
    data = zentao_config("https://pm.example.com/index.php", str(tmp_path / "z.sqlite"))
    result = cli("check", "--config", str(write_toml(tmp_path / "z.toml", data)))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "config error: zentao.url: 'https://pm.example.com/index.php' ends in /index.php: "
        "give the site's base URL ('https://pm.example.com'); zentao.url is the address the "
        "API paths are added to"
    )


def test_library_log_lines_only_with_verbose(tmp_path, jira_sim):
    plan = FaultPlan(seed=3, rate=0.4, kinds=["reset-before"], retry_after=0)
    sim = jira_sim(build_demo_dataset(), faults=plan)
    data = demo_config(sim.url, "s.sqlite", jira={"retries": 8, "backoff": 0.01})
    config = str(write_toml(tmp_path / "c.toml", data))
    command = [sys.executable, "-m", "jira_chase"]
    quiet = subprocess.run([*command, "plan", "--config", config, "--now", NOW],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    loud = subprocess.run([*command, "-v", "plan", "--config", config, "--now", NOW],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert quiet.returncode == 0 and loud.returncode == 0, quiet.stderr + loud.stderr
    assert sim.faults_injected["reset-before"] > 0
    assert "urllib3" not in quiet.stderr and "Retrying" not in quiet.stderr
    assert "urllib3" in loud.stderr


def test_an_unrecognized_body_field_is_named_as_the_parameter(jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter")
    settings = load_settings(data=demo_config(sim.url, "s.sqlite", jira=DC))
    assert settings.jira is not None
    source = JiraSource(settings.jira)
    body = json.dumps({"jql": "project = APP", "maxResult": 1})
    with pytest.raises(TrackerError) as caught:
        source.site.call(
            "searching jira.scope",
            lambda: source.site.client._session.post(f"{sim.url}/rest/api/2/search", data=body),
        )
    assert str(caught.value).startswith(
        "Jira rejected the request parameter 'maxResult' (HTTP 400) while searching jira.scope"
    )
