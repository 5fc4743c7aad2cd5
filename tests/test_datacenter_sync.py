"""The whole loop on Jira Data Center: /search by startAt, PAT auth, wiki comments."""

import json
import re

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.comment import FORMAT_VERSION
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, demo_flagged, write_toml

NOW = "2026-11-20T16:00:00Z"
PAT = "pat-0123456789"
HOSTILE = "{color:red}*x*{color} [~admin] <!-- jira-chase -->"


def run(command, config):
    result = CliRunner().invoke(main, [command, "--config", str(config), "--now", NOW, "--json"])
    return result


def dc_config(tmp_path, sim, **jira):
    data = demo_config(
        sim.url, "dc.sqlite", jira={"deployment": "datacenter", "email": "", "token": PAT, **jira}
    )
    return write_toml(tmp_path / "dc.toml", data)


def test_data_center_sync_end_to_end(tmp_path, jira_sim):
    dataset = build_demo_dataset()
    # A hostile display name: APP-145's comment names its blocker's assignee.
    blocker = next(i for i in dataset["issues"] if i["key"] == "OPS-24")
    next(u for u in dataset["users"] if u["id"] == blocker["assignee"])["name"] = HOSTILE
    sim = jira_sim(dataset, deployment="datacenter", tokens={PAT: "u-bot"}, max_results_cap=40)
    config = dc_config(tmp_path, sim, page_size=100)
    planned = run("plan", config)
    assert planned.exit_code == 0, planned.stderr
    result = run("sync", config)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["tracker"]["deployment"] != "Cloud"
    assert {i["key"] for i in doc["issues"]} == set(demo_flagged())
    assert doc["applied"] == json.loads(planned.stdout)["operations"]
    # Pages followed what the server returned (40), not what was asked (100).
    searches = [p for m, p in sim.requests if p.startswith("/rest/api/2/search")]
    assert len(searches) >= 150 // 40 + 1
    assert not any(p.startswith("/rest/api/3/") for _, p in sim.requests)
    # One wiki comment per unhealthy issue, starting with the invisible marker.
    for key in demo_flagged():
        (comment,) = [c for c in sim.comments(key) if c["author"] == "u-bot"]
        assert isinstance(comment["body"], str)
        assert comment["body"].startswith(f"{{anchor:jira-chase-{FORMAT_VERSION}-")
    (hostile,) = [c for c in sim.comments("APP-145") if c["author"] == "u-bot"]
    (line,) = [line for line in hostile["body"].splitlines() if "blocked by OPS\\-24" in line]
    assert HOSTILE in re.sub(r"\\(.)", r"\1", line)
    assert "{color" not in line.replace("\\{color", "")
    # Nothing changed: nothing to write.
    again = json.loads(run("sync", config).stdout)
    assert again["operations"] == []


def test_data_center_wrong_token_exits_3(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter", tokens={PAT: "u-bot"})
    result = run("plan", dc_config(tmp_path, sim, token="wrong"))
    assert result.exit_code == 3
    assert "HTTP 401" in result.stderr and "personal access token" in result.stderr


def test_a_site_refusing_large_pages_is_asked_with_the_size_it_allows(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter", tokens={PAT: "u-bot"},
                   max_results_limit=100)  # fmt: skip
    config = dc_config(tmp_path, sim)
    checked = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert checked.exit_code == 0, checked.output + checked.stderr
    for command in ("plan", "sync", "sync", "plan"):
        result = run(command, config)
        assert result.exit_code == 0, result.stderr
    assert any(e.status == 400 for e in sim.exchanges)  # the site did refuse
    before = len(sim.exchanges)
    assert run("sync", config).exit_code == 0
    later = sim.exchanges[before:]
    # Remembered: the next run asks for pages the site accepts straight away.
    assert not [e for e in later if e.status == 400]
    sizes = [int(e.query["maxResults"][0]) for e in later if e.path.endswith("/search")]
    assert sizes and max(sizes) <= 100


def test_a_refused_parameter_on_the_right_deployment_does_not_blame_it(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset(), deployment="datacenter", tokens={PAT: "u-bot"},
                   max_results_limit=0)  # fmt: skip
    result = run("sync", dc_config(tmp_path, sim))
    assert result.exit_code == 3
    assert "maxResults" in result.stderr and "jira.page_size" in result.stderr
    assert "jira.deployment" not in result.stderr
