"""A comment nested a thousand levels deep neither stops a run nor hides the others."""

from __future__ import annotations

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.sources.json_body import MAX_DEPTH, loads_bounded
from tests.factories import demo_config, write_toml
from tests.security.hostile import NESTED_ISSUE, demo_dataset, with_nested_comment

NOW = "2026-11-20T16:00:00Z"


def test_a_deep_answer_is_cut_at_the_bound_and_names_where():
    text = '{"issues": [{"key": "APP-1", "body": ' + "[" * 5000 + "]" * 5000 + "}]}"
    doc, cut = loads_bounded(text, max_depth=MAX_DEPTH)
    body, levels = doc["issues"][0]["body"], 3  # the document, the list and the issue
    while isinstance(body, list):
        body, levels = body[0], levels + 1
    assert body is None and levels == MAX_DEPTH
    assert len(cut) == 1 and cut[0][:3] == ["issues", 0, "body"]
    assert loads_bounded('{"a": [1, 2.5, "x\\n", true, null, {}]}')[0] == {
        "a": [1, 2.5, "x\n", True, None, {}]
    }


def test_plan_sync_and_report_go_on_past_a_deeply_nested_comment(raw_sim, tmp_path):
    sim = raw_sim(with_nested_comment(demo_dataset()))
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, str(tmp_path / "s.sqlite")))
    runner = CliRunner()
    for args in (["plan"], ["sync"], ["report", "--out", str(tmp_path / "r.md"),
                                      "--format", "markdown"]):  # fmt: skip
        result = runner.invoke(main, [*args, "--config", str(config), "--now", NOW])
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stderr.splitlines() if "nested deeper" in line]
        assert len(warnings) <= 1 and all(NESTED_ISSUE in line for line in warnings)
        if args == ["plan"]:
            assert warnings, result.stderr
