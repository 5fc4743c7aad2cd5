"""After narrowing the scope: `plan --force` previews what `sync --force` would do, and
`report` (which writes nothing to the tracker) reports the narrower scope."""

import json

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
NARROW = {"scope": "project = APP AND key = APP-1"}


def invoke(*args):
    return CliRunner().invoke(main, [*args, "--now", NOW])


def test_plan_force_previews_the_narrowed_scope_and_report_accepts_it(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    wide = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite"))
    assert invoke("sync", "--config", str(wide)).exit_code == 0
    narrow = write_toml(tmp_path / "n.toml", demo_config(sim.url, "s.sqlite", jira=NARROW))
    refused = invoke("plan", "--config", str(narrow), "--json")
    assert refused.exit_code == 3 and "--force" in refused.stderr
    preview = invoke("plan", "--config", str(narrow), "--json", "--force")
    assert preview.exit_code == 0, preview.stderr
    planned = json.loads(preview.stdout)["operations"]
    assert any(op["issue"] == "APP-108" for op in planned)  # it left the scope: cleaned
    report = invoke("report", "--config", str(narrow), "--out", str(tmp_path / "r.json"),
                    "--format", "json")  # fmt: skip
    assert report.exit_code == 0, report.stderr
    done = invoke("sync", "--config", str(narrow), "--json", "--force")
    assert json.loads(done.stdout)["applied"] == planned
