"""`check` warns of a configuration that judges nothing on the scope's data: a goal
scope matching no issue, a step no issue was in during the metrics window, aging (or a
goal's start-now advice) without enough finished issues for its percentiles."""

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"


def check(tmp_path, sim, **overrides):
    path = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite", **overrides))
    result = CliRunner().invoke(main, ["check", "--config", str(path), "--now", NOW])
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith("warning: ")]


def test_check_names_every_part_of_the_configuration_that_judges_nothing(tmp_path, jira_sim):
    dataset = build_demo_dataset()
    dataset["statuses"].insert(1, {"name": "Design", "category": "indeterminate"})
    sim = jira_sim(dataset)
    data = demo_config(sim.url, "s.sqlite")
    data["goals"][1]["scope"] = "fixVersion = Betta"
    steps = [{"name": "design", "statuses": ["Design"], "limit_days": 3},
             *data["workflow"]["steps"]]  # fmt: skip
    warnings = check(
        tmp_path, sim, goals=data["goals"], workflow={"steps": steps},
        metrics={"aging": True, "min_samples": 1000},
    )  # fmt: skip
    joined = "\n".join(warnings)
    assert "warning: goals[1].scope: goal 'Beta' (fixVersion = Betta) matches no issue" in joined
    assert "warning: workflow.steps[0]: no issue was in step 'design' (statuses Design)" in joined
    assert "workflow.steps[1]" not in joined  # build is busy
    assert (
        "warning: metrics.aging: " in joined and "fewer than metrics.min_samples (1000)" in joined
    )
    assert "warning: goals: " in joined


def test_a_setup_that_judges_everything_gets_no_such_warning(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    warnings = check(tmp_path, sim)
    idle = ("warning: goals", "warning: workflow.steps", "warning: metrics.aging")
    said = [w for w in warnings if w.startswith(idle)]
    # (the demo's Beta goal has unsized issues: said, and they count as 0)
    assert said == [
        "warning: goals[1].unit: 22 of the 59 issues of goal 'Beta' carry no estimate: they "
        "count as 0"
    ]
