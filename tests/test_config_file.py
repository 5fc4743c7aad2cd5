import pytest

from jira_chase.config.file import load_settings
from jira_chase.errors import ConfigError
from tests.test_config import EXAMPLE, STRICT_BASE, problems


def test_state_path_is_relative_to_the_config_file(tmp_path):
    cfg = tmp_path / "sub" / "c.toml"
    cfg.parent.mkdir()
    cfg.write_text(EXAMPLE.read_text())
    assert load_settings(cfg).state.path == cfg.parent / "jira-chase.sqlite"


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("JIRA_CHASE_JIRA__TOKEN", "from-env")
    monkeypatch.setenv("JIRA_CHASE_WRITEBACK__MAX_WRITES", "7")
    settings = load_settings(EXAMPLE)
    assert settings.jira.token.get_secret_value() == "from-env"
    assert settings.writeback.max_writes == 7
    assert settings.jira.url == "https://example.atlassian.net"  # the rest of [jira] stays


def test_config_from_environment_variable(monkeypatch):
    monkeypatch.setenv("JIRA_CHASE_CONFIG", str(EXAMPLE))
    assert load_settings().tracker == "jira"


def test_each_problem_names_its_key(tmp_path):
    found = problems(
        tmp_path,
        """
tracker = "jira"
[jira]
url = "https://x"
email = "a@b"
scope = "project = A"
tokn = "x"
[workflow]
done = []
[[workflow.steps]]
name = "b"
statuses = ["In Progress"]
limit_days = -1
[writeback]
max_writes = "many"
""",
    )
    assert found == [
        "jira.tokn: unknown key (check the spelling against config.example.toml)",
        "workflow.done: List should have at least 1 item after validation, not 0",
        "workflow.steps[0].limit_days: Input should be greater than 0",
        "writeback.max_writes: Input should be a valid integer, unable to parse string as an "
        "integer",
    ]


def test_not_toml_and_missing_file(tmp_path):
    (problem,) = problems(tmp_path, "this is = = not toml")
    assert "not valid TOML" in problem
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("limit_days = true",
         "workflow.steps[0].limit_days: True must be a number (not text or a boolean)"),
        ('wip_limit = "6"',
         "workflow.steps[0].wip_limit: '6' must be a whole number (not text or a boolean)"),
        ('required = "off"',
         "workflow.steps[0].required: 'off' must be true or false (a boolean, not text or a "
         "number)"),
        ("wip_limit = 2.0",
         "workflow.steps[0].wip_limit: 2.0 must be a whole number (not text or a boolean)"),
    ],
)  # fmt: skip
def test_booleans_are_booleans_and_numbers_are_numbers(tmp_path, line, expected):
    assert problems(tmp_path, STRICT_BASE + line + "\n") == [expected]


def test_strict_kinds_reach_nested_tables_and_lists(tmp_path):
    text = STRICT_BASE + '[habits]\nstale_days = "3"\n[zentao]\nurl = "https://z.example.com"\n'
    text += 'account = "bot"\nproducts = ["1"]\n'
    assert problems(tmp_path, text) == [
        "habits.stale_days: '3' must be a number (not text or a boolean)",
        "zentao.products[0]: '1' must be a whole number (not text or a boolean)",
    ]


def test_environment_overrides_are_text_and_still_set_numbers_and_booleans(tmp_path, monkeypatch):
    path = tmp_path / "ok.toml"
    path.write_text(STRICT_BASE + "limit_days = 2\nrequired = true\n[habits]\nstale_days = 3\n")
    monkeypatch.setenv("JIRA_CHASE_WRITEBACK__MAX_WRITES", "50")
    monkeypatch.setenv("JIRA_CHASE_HABITS__REQUIRE_OWNER", "true")
    monkeypatch.setenv("JIRA_CHASE_METRICS__MAX_REOPEN_RATE", "0.25")
    monkeypatch.setenv("JIRA_CHASE_JIRA__TIMEOUT", "12")
    settings = load_settings(path)
    assert settings.writeback.max_writes == 50
    assert settings.habits.require_owner is True and settings.habits.stale_days == 3
    assert settings.metrics.max_reopen_rate == 0.25
    assert settings.jira is not None and settings.jira.timeout == 12


def test_an_environment_override_wins_over_a_wrong_kind_in_the_file(tmp_path, monkeypatch):
    path = tmp_path / "ok.toml"
    path.write_text(STRICT_BASE + '[writeback]\nmax_writes = "9"\n')
    with pytest.raises(ConfigError):
        load_settings(path)
    monkeypatch.setenv("JIRA_CHASE_WRITEBACK__MAX_WRITES", "9")
    assert load_settings(path).writeback.max_writes == 9
