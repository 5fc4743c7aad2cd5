"""Files on disk: the state private, the report the umask's, no planted link followed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.cli.demo import demo_report_path
from jira_chase.reports.manager.produce import write_report
from jira_chase.store.files import write_atomically
from tests.factories import demo_config, write_toml
from tests.security.hostile import demo_dataset

NOW = "2026-11-20T16:00:00Z"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_and_its_side_files_are_private_and_outputs_follow_the_umask(raw_sim, tmp_path):
    sim = raw_sim(demo_dataset())
    state = tmp_path / "s.sqlite"
    config = str(write_toml(tmp_path / "c.toml", demo_config(sim.url, str(state))))
    old = os.umask(0o022)
    try:
        runner = CliRunner()
        result = runner.invoke(main, ["sync", "--config", config, "--now", NOW,
                                      "--metrics-file", str(tmp_path / "m.prom")])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert mode(state) == 0o600
        assert mode(tmp_path / "s.sqlite.lock") == 0o600
        # SQLite makes its side files while a connection is open, with the file's mode.
        import sqlite3

        db = sqlite3.connect(state)
        db.execute("SELECT count(*) FROM sqlite_master").fetchall()
        sides = [p for p in tmp_path.iterdir() if p.name.startswith("s.sqlite-")]
        assert sides and all(mode(p) == 0o600 for p in sides)
        db.close()
        assert mode(tmp_path / "m.prom") == 0o644
        os.umask(0o077)
        report = tmp_path / "r.html"
        made = runner.invoke(main, ["report", "--config", config, "--now", NOW,
                                    "--out", str(report)])  # fmt: skip
        assert made.exit_code == 0, made.output
        again = runner.invoke(main, ["sync", "--config", config, "--now", NOW,
                                     "--metrics-file", str(tmp_path / "m.prom")])  # fmt: skip
        assert again.exit_code == 0, again.output
        assert mode(report) == 0o600 and mode(tmp_path / "m.prom") == 0o600
    finally:
        os.umask(old)


def test_a_planted_link_is_never_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "report.md"
    for name in (f"{out.name}.{os.getpid()}.partial", f".{out.name}.partial"):
        (tmp_path / name).symlink_to(victim)
    write_report({"report": 1}, out, "json")
    assert victim.read_text() == "precious" and '"report": 1' in out.read_text()
    write_atomically(out, "again")
    assert victim.read_text() == "precious" and out.read_text() == "again"
    assert not out.is_symlink()


def test_the_demo_writes_its_report_into_a_fresh_folder():
    first, second = demo_report_path(), demo_report_path()
    assert first.parent != second.parent
    assert mode(first.parent) == 0o700
    first.parent.rmdir()
    second.parent.rmdir()
