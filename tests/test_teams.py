"""Teams: `[[teams]]` (JQL within the scope, the first match wins, the rest is "other")
or each project; their settings' errors; `check`'s warning about a team that holds no
issue; the weekly check's line per team."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jira_chase.config.file import load_settings
from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.teams import assign
from jira_chase.errors import ConfigError
from jira_chase.run.digest import team_lines
from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import BASE_CONFIG, at, demo_config, make_issue, make_settings, write_toml
from tests.test_tracker_checks import NOW, cli

TEAMS = [
    {"name": "Mobile", "jql": "labels = mobile"},
    {"name": "Web", "jql": "labels in (web, mobile) OR project = OPS"},
]


def issues():
    return [
        make_issue("APP-1", labels=("mobile",)),
        make_issue("APP-2", labels=("web",)),
        make_issue("APP-3", labels=("web", "mobile")),
        make_issue("APP-4"),
        make_issue("OPS-1"),
    ]


def test_an_issue_belongs_to_the_first_team_that_matches_and_the_rest_to_other():
    teams = assign(issues(), make_settings(teams=TEAMS))
    assert teams.names == ("Mobile", "Web", "other")
    assert dict(teams.of_issue) == {
        "APP-1": "Mobile", "APP-2": "Web", "APP-3": "Mobile", "APP-4": "other", "OPS-1": "Web",
    }  # fmt: skip
    assert teams.sizes == (2, 2)
    # "other" is a team only when it holds issues.
    matched = assign([i for i in issues() if i.key != "APP-4"], make_settings(teams=TEAMS))
    assert matched.names == ("Mobile", "Web")


def test_without_teams_each_project_of_the_scope_is_one():
    teams = assign(issues(), make_settings())
    assert teams.names == ("APP", "OPS") and not teams.configured
    assert teams.of_issue["OPS-1"] == "OPS" and teams.of_issue["APP-3"] == "APP"
    # ZenTao: an item's project is its product or execution, whatever its key says.
    story = replace(make_issue("story-12"), project="P1")
    task = replace(make_issue("task-3"), project="E2")
    assert assign([story, task], make_settings()).names == ("E2", "P1")
    # An issue outside the scope (a blocker not fetched) is of its project.
    assert teams.team_of("SEC-9") == "SEC" and teams.team_of("bug-7", "P4") == "P4"


def test_the_evaluation_carries_the_teams():
    evaluation = evaluate(issues(), make_settings(teams=TEAMS), at(3))
    assert evaluation.teams.names == ("Mobile", "Web", "other")
    assert evaluation.teams.team_of("APP-4") == "other"


@pytest.mark.parametrize(
    ("teams", "problem"),
    [
        ([{"name": "A", "jql": "project = APP"}, {"name": "B", "jql": "component = x"}],
         "teams[1].jql: field 'component' is not supported here"),
        ([{"name": "A", "jql": "project = APP"}, {"name": "B", "jql": "labels = b"},
          {"name": "a", "jql": "labels = c"}],
         "teams[2].name: 'a' is already the name of teams[0]; each team needs its own name"),
        ([{"name": "Other", "jql": "labels = x"}],
         "teams[0].name: 'Other' names the issues no team matches; choose another name"),
        ([{"name": "  ", "jql": "labels = x"}], "teams[0].name: a team's name must not be blank"),
        ([{"name": "A"}], "teams[0].jql: required key is missing"),
        ([{"name": "A", "jql": "labels = x", "lead": "Ann"}], "teams[0].lead: unknown key"),
        ([{"name": "A", "jql": "labels = (x"}], "teams[0].jql: "),
    ],
)  # fmt: skip
def test_a_wrong_team_is_named_by_its_key(teams, problem):
    with pytest.raises(ConfigError) as raised:
        load_settings(data={**BASE_CONFIG, "teams": teams})
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems


def test_report_name_people_must_be_a_boolean():
    with pytest.raises(ConfigError) as raised:
        load_settings(data={**BASE_CONFIG, "report": {"name_people": "yes"}})
    assert raised.value.problems == [
        "report.name_people: 'yes' must be true or false (a boolean, not text or a number)"
    ]


def test_check_warns_about_a_team_that_holds_no_issue(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    teams = [
        {"name": "Everyone", "jql": "project = APP"},
        {"name": "Late", "jql": "labels = nothing-here"},
    ]
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite", teams=teams))
    result = cli("check", "--config", str(config), "--now", NOW)
    assert result.exit_code == 0, result.output
    assert (
        "warning: teams[1] ('Late'): its jql matches no issue in scope, or an earlier team "
        "took them all"
    ) in result.stdout
    assert "teams[0]" not in result.stdout


def test_the_weekly_check_says_a_line_per_team_most_flagged_first():
    settings = make_settings(teams=TEAMS)
    stuck = [(0, "In Progress"), (0.5, "Code Review")]  # review's limit is 2 days
    evaluation = evaluate(
        [
            make_issue("APP-1", labels=("mobile",), path=[(0, "In Progress")]),  # 6 days
            make_issue("APP-2", labels=("web",), path=stuck),
            make_issue("APP-3", labels=("web",), path=stuck),
            make_issue("APP-4", path=[(0, "In Progress"), (1, "Done")]),
        ],
        settings,
        at(6),
    )
    assert team_lines(evaluation) == [
        "Web: 2 of 2 unfinished flagged, 2 off track",
        "Mobile: 1 of 1 unfinished flagged, 0 off track",
        # (finished without review: a red line, still flagged; its cycle makes a bottleneck)
        "other: 0 of 0 unfinished flagged, 1 off track, bottleneck: build",
    ]


def test_the_weekly_check_names_at_most_twelve_teams():
    projects = [f"P{n:02d}" for n in range(13)]
    stuck = [(0, "In Progress")]  # past build's limit of 5 days: flagged
    evaluation = evaluate(
        [make_issue(f"{p}-1", path=stuck if p != "P12" else []) for p in projects],
        make_settings(),
        at(6),
    )
    lines = team_lines(evaluation)
    assert len(lines) == 13 and lines[-1] == "and 1 more team (see the report)"
    assert lines[0] == "P00: 1 of 1 unfinished flagged, 0 off track"
    assert not any(line.startswith("P12:") for line in lines)  # the least flagged
