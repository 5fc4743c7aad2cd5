"""What a run prints for its two audiences — cron's log and a person at a terminal.
Real simulator, real sockets, real SQLite. (The metrics file: test_metrics_file.py.)"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator import JiraSimulator
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.generate import GENERATED_NOW, generate_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
ROOT = Path(__file__).resolve().parent.parent


def generated_config(url: str, state: str, **overrides: object) -> dict:
    data: dict = {
        "tracker": "jira",
        "jira": {
            "url": url,
            "email": "bot@example.com",
            "token": "t",
            "scope": "project in (APP, OPS, WEB)",
        },
        "calendar": {"kind": "business", "timezone": "UTC"},
        "workflow": {
            "done": ["Done", "Closed"],
            "steps": [
                {"name": "build", "statuses": ["In Progress"], "limit_days": 5, "wip_limit": 40},
                {
                    "name": "review",
                    "statuses": ["Code Review"],
                    "limit_days": 2,
                    "required": True,
                },  # fmt: skip
                {"name": "test", "statuses": ["In QA"], "limit_days": 3},
                {"name": "blocked", "statuses": ["Blocked"], "waiting": True},
            ],
        },
        "focus": {"wip_per_person": 5},
        "cooperation": {"blocked_days": 2},
        "metrics": {"aging": True},
        "writeback": {"max_writes": 60},
        "state": {"path": state},
    }
    for section, value in overrides.items():
        if isinstance(value, dict):
            data.setdefault(section, {}).update(value)
        else:
            data[section] = value
    return data


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def big_sim():
    with JiraSimulator(generate_dataset(2000, seed=3)) as sim:
        yield sim


def test_cron_output_on_2000_issues_is_short_quiet_is_one_line_json_lines_parse(tmp_path, big_sim):
    config = str(write_toml(tmp_path / "c.toml", generated_config(big_sim.url, "s.sqlite")))
    now = ["--now", GENERATED_NOW, "--config", config]

    logged = cli("sync", "--log-format", "json", *now)
    assert logged.exit_code == 0
    events = [json.loads(line) for line in logged.output.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "start" and names[-1] == "outcome"
    assert [e["phase"] for e in events if e["event"] == "phase"] == [
        f"connecting to {big_sim.url}",
        "pulling",
        "judging",
        "writing",
    ]
    outcome = events[-1]
    assert outcome["outcome"] == "ok" and outcome["exit_code"] == 0
    assert outcome["counts"]["issues"] == 2000 and outcome["counts"]["applied"] == 60
    # The first run reads every issue (later ones only what changed since).
    judging = next(e for e in events if e.get("phase") == "judging")
    assert judging["previous"] == {"phase": "pulling", "items": 2000,
                                   "seconds": judging["previous"]["seconds"]}  # fmt: skip

    first = cli("sync", *now)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert 8 < len(lines) < 40, first.output
    judged = next(line for line in lines if line.startswith("Judged 2000 issues"))
    assert "at-risk" in judged and "off-track" in judged
    assert any(line.startswith("  by family: ") for line in lines)
    assert "Most severe findings (10 of " in first.output
    assert re.search(r"Writes: 60 applied, \d+ deferred, 0 failed of 60 planned", first.output)
    assert re.search(r"Tracker: \d+ requests, \d+ retried; took [\d.]+ s\.", first.output)
    # No progress display when nobody watches: no carriage returns, no escape codes.
    assert "\r" not in first.output and "\x1b" not in first.output

    quiet = cli("sync", "--quiet", *now)
    assert quiet.exit_code == 0
    (line,) = quiet.output.splitlines()
    assert line.startswith("jira-chase sync ok: 2000 issues,") and "60 writes applied" in line

    details = cli("sync", "--details", *now)
    assert len(details.output.splitlines()) > 200  # every finding and operation


def test_a_failed_write_is_printed_once_and_is_an_event_in_json(tmp_path, jira_sim):
    dataset = build_demo_dataset()
    for project in dataset["projects"]:
        if project["key"] == "OPS":
            project["readonly"] = True  # the bot may read the other team's project only
    sim = jira_sim(dataset)
    data = demo_config(sim.url, "s.sqlite", cooperation={"label_blockers": True})
    config = str(write_toml(tmp_path / "c.toml", data))
    result = cli("sync", "--config", config, "--now", NOW)
    assert result.exit_code == 4
    (line,) = [line for line in result.output.splitlines() if "OPS-24" in line]
    assert line.startswith("write failed: OPS-24") and "HTTP 403" in line
    assert "write failed: OPS-24" in result.stderr
    assert "Writes: 40 applied, 0 deferred, 1 failed of 41 planned" in result.stdout

    # (OPS refused every write: tried again at once only when asked to)
    logged = cli("sync", "--log-format", "json", "--retry-refused", "--config", config,
                 "--now", NOW)  # fmt: skip
    assert logged.exit_code == 4
    events = [json.loads(line) for line in logged.output.splitlines()]
    (failure,) = [e for e in events if e["event"] == "write_failed"]
    assert failure["issue"] == "OPS-24" and "HTTP 403" in failure["error"]
    assert events[-1]["outcome"] == "partial" and events[-1]["exit_code"] == 4
    assert sum("OPS-24" in json.dumps(e) for e in events) == 1


def test_quiet_prints_errors_and_json_log_reports_them(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    data = demo_config(sim.url, "s.sqlite", jira={"email": "intruder@example.com"})
    config = str(write_toml(tmp_path / "c.toml", data))
    quiet = cli("sync", "--quiet", "--config", config)
    assert quiet.exit_code == 3
    assert "HTTP 401" in quiet.stderr and "failed with exit code 3" in quiet.stdout
    logged = cli("sync", "--log-format", "json", "--config", config)
    assert logged.exit_code == 3
    events = [json.loads(line) for line in logged.output.splitlines()]
    assert [e["event"] for e in events] == ["start", "phase", "error", "outcome"] or [
        e["event"] for e in events
    ] == ["start", "error", "outcome"]
    error = next(e for e in events if e["event"] == "error")
    assert "HTTP 401" in error["message"]
    assert events[-1]["outcome"] == "failed" and events[-1]["exit_code"] == 3


def test_json_document_and_json_log_together_keep_stdout_one_document(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    result = cli("plan", "--json", "--log-format", "json", "--config", config, "--now", NOW)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["summary"]["families"]["redline"] == 6
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[0]["event"] == "start" and events[-1]["event"] == "outcome"


def test_progress_display_updates_on_a_terminal(tmp_path):
    data = generate_dataset(400, seed=5)
    with JiraSimulator(data, latency=0.05) as sim:
        config = generated_config(sim.url, "s.sqlite", jira={"page_size": 10})
        path = write_toml(tmp_path / "c.toml", config)
        controller, terminal = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        env.pop("NO_COLOR", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "jira_chase", "plan", "--config", str(path),
             "--now", GENERATED_NOW],
            stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=tmp_path,
        )  # fmt: skip
        os.close(terminal)
        screen = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the other side closed
                    break
                if not chunk:
                    break
                screen += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
        os.close(controller)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode("utf-8", "replace"))
    assert proc.returncode == 0, text[-2000:]
    # The pulling bar is redrawn with a growing count of issues read.
    counts = [int(n) for n in re.findall(r"pulling\D*?(\d+)/", text)]
    assert len(set(counts)) >= 3 and counts == sorted(counts), counts
    assert "Judged 400 issues" in text


def test_every_command_names_the_exit_codes_in_its_help():
    for name in [None, *main.commands]:
        result = cli(*([name] if name else []), "--help")
        assert result.exit_code == 0
        assert "Exit codes:" in result.output, name
        assert "5  another run holds the state file's lock" in result.output, name
        assert "3  the tracker failed the run" in result.output, name
    readme = (ROOT / "README.md").read_text()
    assert "`5` another run holds the state file's lock" in readme


def test_times_are_in_the_team_time_zone(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    data = demo_config(sim.url, "s.sqlite", calendar={"timezone": "Europe/Berlin"})
    config = str(write_toml(tmp_path / "c.toml", data))
    doc = json.loads(cli("plan", "--json", "--config", config, "--now", NOW).stdout)
    assert doc["as_of"] == "2026-11-20T17:00:00+01:00"
    comment = next(
        op["text"] for op in doc["operations"] if op["issue"] == "APP-52" and op.get("text")
    )
    assert "As of 2026-11-20 17:00 CET." in comment
    # what the team reads names days in its own zone too (APP-52's last reopen)
    assert "reopened twice (last on 2026-10-29)" in comment
    text = cli("plan", "--config", config, "--now", NOW).stdout
    assert "as of 2026-11-20 17:00 CET" in text


def test_the_step_table_stays_aligned_after_a_waiting_step(tmp_path, big_sim):
    config = str(write_toml(tmp_path / "c.toml", generated_config(big_sim.url, "s.sqlite")))
    text = cli("plan", "--details", "--config", config, "--now", GENERATED_NOW).stdout
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("step "))
    table = lines[start : start + 5]
    assert table[-1].lstrip().startswith("blocked (waiting)")
    # Right-aligned columns: every row ends where the header does, and so does each column.
    assert len({len(row) for row in table}) == 1, table
    wip_end = table[0].index("WIP") + len("WIP")
    assert all(row[wip_end - 1].isdigit() for row in table[1:]), table


def test_verbose_adds_a_line_per_request(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    request = '"POST /rest/api/3/search/jql HTTP/1.1" 200'
    plain = cli("plan", "--config", config, "--now", NOW)
    assert request not in plain.stderr and plain.stderr == ""
    verbose = cli("-v", "plan", "--quiet", "--config", config, "--now", NOW)
    assert verbose.exit_code == 0
    assert any(request in line for line in verbose.stderr.splitlines())
    (outcome,) = verbose.stdout.splitlines()
    assert outcome.startswith("jira-chase plan ok: 156 issues")
