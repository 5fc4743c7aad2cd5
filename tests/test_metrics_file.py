"""The metrics file monitoring reads: Prometheus text for ok and failed runs, refused
before the run when it cannot be written. Real simulator, real sockets."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from jira_chase.simulator.demo import build_demo_dataset
from tests.factories import demo_config, write_toml
from tests.test_output import NOW, cli


def test_metrics_file_is_prometheus_text_for_ok_and_failed_runs(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    metrics = tmp_path / "textfile" / "jira_chase.prom"
    metrics.parent.mkdir()
    result = cli("sync", "--config", config, "--now", NOW, "--metrics-file", str(metrics))
    assert result.exit_code == 0
    samples = {}
    for family in text_string_to_metric_families(metrics.read_text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    sync = (("mode", "sync"),)
    assert samples[("jira_chase_run_success", sync)] == 1
    assert samples[("jira_chase_run_outcome", (("mode", "sync"), ("outcome", "ok")))] == 1
    assert samples[("jira_chase_run_writes", (("mode", "sync"), ("result", "applied")))] == 40
    assert samples[("jira_chase_run_requests", sync)] > 0
    health = {k[1][0][1]: v for k, v in samples.items() if k[0] == "jira_chase_issues"}
    assert health == {"healthy": 136, "at-risk": 10, "off-track": 10}
    assert samples[("jira_chase_unhealthy_issues", (("family", "redline"),))] == 6
    assert samples[("jira_chase_goals", (("status", "at-risk"),))] == 1
    assert samples[("jira_chase_goal_status", (("goal", "Release 1.4"), ("status", "at-risk")))]
    assert not [p for p in metrics.parent.iterdir() if p.name != metrics.name]  # no temp left

    bad = demo_config(sim.url, "s.sqlite", jira={"email": "intruder@example.com"})
    bad_config = str(write_toml(tmp_path / "bad.toml", bad))
    assert cli("sync", "--config", bad_config, "--metrics-file", str(metrics)).exit_code == 3
    failed = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.read_text())
        for s in family.samples
    }
    assert failed[("jira_chase_run_success", sync)] == 0
    assert failed[("jira_chase_run_exit_code", sync)] == 3
    assert failed[("jira_chase_run_outcome", (("mode", "sync"), ("outcome", "failed")))] == 1


def test_a_metrics_file_in_a_missing_directory_is_refused_before_the_run(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    missing = tmp_path / "nowhere" / "jira_chase.prom"
    result = cli("sync", "--config", config, "--metrics-file", str(missing))
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: --metrics-file: cannot write")
    assert not [p for p in sim.requests if p[0] == "PUT"]  # nothing was written


def test_metrics_file_writes_timestamps_and_counts_exactly(tmp_path, jira_sim):
    import time

    sim = jira_sim(build_demo_dataset())
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, "s.sqlite")))
    metrics = tmp_path / "jira_chase.prom"
    before = time.time()
    assert (
        cli("sync", "--config", config, "--now", NOW, "--metrics-file", str(metrics)).exit_code == 0
    )
    after = time.time()
    text = metrics.read_text()
    assert "e+" not in text and "e-" not in text
    (finished,) = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "jira_chase_run_finished_timestamp_seconds"
    ]
    assert before - 0.001 <= finished <= after + 0.001
    line = next(x for x in text.splitlines() if x.startswith("jira_chase_run_requests"))
    assert line.rsplit(" ", 1)[1].isdigit()  # counts are integers, not 12.0 or 1.2e+01
