"""`plan --json` and `sync --json` carry the summary and the changes; every unhealthy
issue's details only with `--details`. Real simulator, real sockets, real SQLite."""

import json

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"


def run(command, config, *extra):
    result = CliRunner().invoke(
        main, [command, "--config", str(config), "--now", NOW, "--json", *extra]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout), len(result.stdout)


def test_an_idle_run_prints_its_changes_and_the_details_on_request(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
    first, _ = run("sync", config)
    assert first["details"] is False
    written = {op["issue"] for op in first["applied"]}
    assert first["issues"] and {issue["key"] for issue in first["issues"]} <= written
    run("sync", config)
    idle, idle_size = run("sync", config)
    assert (idle["issues"], idle["operations"], idle["applied"]) == ([], [], [])
    assert idle["summary"]["unhealthy"] == first["summary"]["unhealthy"] > 0
    detailed, detailed_size = run("sync", config, "--details")
    assert detailed["details"] is True
    assert len(detailed["issues"]) == detailed["summary"]["unhealthy"]
    assert all(issue["findings"] for issue in detailed["issues"])
    assert idle_size < detailed_size
