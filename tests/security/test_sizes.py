"""A megabyte typed into a name or a summary does not make a megabyte report."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from tests.factories import demo_config, write_toml
from tests.security.hostile import demo_dataset, with_huge_texts
from tests.test_zentao_cli import zentao_config

NOW = "2026-11-20T16:00:00Z"


def report_size(raw_sim, tmp_path, dataset, tracker, fmt):
    sim = raw_sim(dataset, tracker)
    where = tmp_path / ("huge" if dataset["users"][0]["name"].startswith("N") else "plain")
    where.mkdir(exist_ok=True)
    if tracker == "zentao":
        data = zentao_config(sim.url, str(where / "s.sqlite"))
    else:
        data = demo_config(sim.url, str(where / "s.sqlite"))
    config = str(write_toml(where / "c.toml", data))
    out = where / f"r.{fmt}"
    result = CliRunner().invoke(main, ["report", "--config", config, "--now", NOW,
                                       "--out", str(out), "--format", fmt])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out.stat().st_size


@pytest.mark.parametrize(("tracker", "fmt"), [("cloud", "markdown"), ("zentao", "html")])
def test_a_report_of_huge_texts_stays_near_the_plain_ones_size(raw_sim, tmp_path, tracker, fmt):
    plain = report_size(raw_sim, tmp_path, demo_dataset(), tracker, fmt)
    huge = report_size(raw_sim, tmp_path, with_huge_texts(demo_dataset()), tracker, fmt)
    assert huge <= 1.5 * plain, (huge, plain)
