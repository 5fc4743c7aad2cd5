"""`filters` meets a refusing tracker as `sync` does: one line, exit 3, no dump."""

from __future__ import annotations

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.faults import FaultPlan
from tests.factories import demo_config, write_toml
from tests.security.hostile import demo_dataset


def test_a_429_left_after_the_retries_on_the_filter_search_is_one_line(raw_sim, tmp_path):
    plan = FaultPlan(seed=1, rate=1.0, kinds=["rate-limit"], endpoints=["*/filter/search"],
                     retry_after=0)  # fmt: skip
    sim = raw_sim(demo_dataset(), faults=plan)
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"))
    data["jira"].update({"retries": 1, "backoff": 0})
    config = write_toml(tmp_path / "c.toml", data)
    result = CliRunner().invoke(main, ["filters", "--config", str(config)])
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert "HTTP 429" in line and "filter" in line
    assert "unexpected" not in line and "headers" not in line.lower()
