"""The `jira-chase` command: each command parses options, makes one library call and
hands the result to the output layer (output.py, reports/summary.py, reports/history.py).
Library errors become one-line messages and documented exit codes (support.py:
EXIT_CODES)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from jira_chase import __version__
from jira_chase.cli.output import Output, terminal_lines
from jira_chase.cli.simulator_command import simulator
from jira_chase.cli.support import (
    EXIT_CODES,
    F,
    config_option,
    deployment_option,
    force_option,
    handle_errors,
    json_option,
    now_option,
    output,
    retry_refused_option,
    run_options,
    use_output,
    wait_option,
)
from jira_chase.config.file import load_settings
from jira_chase.errors import EXIT_OK, EXIT_PARTIAL, EXIT_UNEXPECTED
from jira_chase.reports.summary import outcome_line, run_to_dict, summary_lines
from jira_chase.run import runner
from jira_chase.run.runner import parse_now, run_once
from jira_chase.run.vet import check_to_dict, render_check


def echo_json(doc: Any) -> None:
    """`doc` as indented JSON on stdout, written piece by piece: a large plan never sits
    in memory a second time as one string."""
    out = sys.stdout
    pieces: list[str] = []
    for piece in json.JSONEncoder(indent=2).iterencode(doc):
        pieces.append(piece)
        if len(pieces) >= 4096:
            out.write("".join(pieces))
            pieces.clear()
    pieces.append("\n")
    out.write("".join(pieces))
    out.flush()


def command(**kwargs: Any) -> Callable[[F], Any]:
    """A subcommand whose --help ends with the exit codes."""
    return main.command(epilog=EXIT_CODES, **kwargs)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="jira-chase")
@click.option("-v", "--verbose", is_flag=True, help="Log each request and show tracebacks.")
def main(verbose: bool) -> None:
    """Chase the process, not the result: judge process health in Jira and ZenTao and
    write it back as labels and one comment."""
    output().install_logging(verbose)


def run_command(mode: str, options: dict[str, Any]) -> None:
    """`plan` and `sync`: run, then speak to the audience the options name."""
    as_json = options["as_json"]
    out = use_output(
        Output(
            quiet=options["quiet"],
            log_format=options["log_format"],
            details=options["details"],
            events_on_stderr=as_json,
        )
    )
    out.event("start", command=mode, version=__version__, pid=os.getpid())
    settings, finished = run_once(mode, options["config_path"], options["now"],
                                  metrics_path=options["metrics_file"],
                                  wait=options.get("wait", 0.0),
                                  force=options.get("force", False),
                                  retry_refused=options["retry_refused"],
                                  display=out.progress)  # fmt: skip
    result, duration = finished.result, finished.duration
    if as_json:
        doc = run_to_dict(result, settings, duration, details=out.details)
        if finished.digest is not None:
            doc["digest"] = finished.digest.to_dict()
        doc["goal_comments"] = [posted.to_dict() for posted in finished.goal_comments]
        echo_json(doc)
    else:
        out.say(summary_lines(result, settings, duration=duration, details=out.details))
    exit_code = result.exit_code
    for posted in finished.posted:
        if posted.action == "failed":
            out.error(f"write failed: {posted.describe()}")
            exit_code = max(exit_code, EXIT_PARTIAL)
        elif not as_json:
            out.say([posted.describe()])
    out.outcome(outcome_line(result, duration), outcome=result.outcome,
                exit_code=exit_code, counts=result.counts(),
                requests=result.stats.requests, retries=result.stats.retries,
                duration_seconds=round(duration, 3))  # fmt: skip
    sys.exit(exit_code)


@command()
@run_options
@force_option
@retry_refused_option
@handle_errors
def plan(**options: Any) -> None:
    """Dry run: judge and plan exactly the writes `sync` would perform (--details lists
    them); write nothing to the tracker or the state file."""
    run_command("plan", options)


@command()
@run_options
@wait_option
@force_option
@retry_refused_option
@handle_errors
def sync(**options: Any) -> None:
    """Judge the scope and write health labels and comments back to the tracker. One run
    at a time per state file: another run's lock makes this one exit 5 without writing.

    On a terminal a progress display shows each phase; in cron only the summary is
    printed (--quiet: one line)."""
    run_command("sync", options)


@command(name="check")
@config_option
@now_option
@json_option
@handle_errors
def check_command(config_path: Path | None, now: str | None, as_json: bool) -> None:
    """Validate the configuration against the tracker (credentials, every status named
    in [workflow], the scope query), then read the scope and say what cannot be judged."""
    settings = load_settings(config_path)
    with output().progress() as progress:
        result = runner.check_setup(settings, now, progress=progress)
    where = str(config_path) if config_path else "from $JIRA_CHASE_CONFIG"
    if as_json:
        click.echo(json.dumps(check_to_dict(result, settings, where), indent=2))
        return
    click.echo(terminal_lines(render_check(result, where)))
    if result.matches == 0:
        output().error("warning: the scope matches no issues: check it before the first sync")


@command()
@config_option
@click.option("--last", type=click.IntRange(1), default=20, show_default=True,
              help="How many runs to show, newest first.")  # fmt: skip
@json_option
@handle_errors
def runs(config_path: Path | None, last: int, as_json: bool) -> None:
    """List the recorded syncs: outcome, counts, duration, requests, goal statuses."""
    from jira_chase.reports.history import render_runs, runs_to_dict
    from jira_chase.store.state import StateStore

    settings = load_settings(config_path)
    # Read-only: listing runs never creates a state file where there is none.
    with StateStore(settings.state.path, readonly=True) as store:
        records = store.runs(last)
    if as_json:
        click.echo(json.dumps(runs_to_dict(records, settings), indent=2))
    else:
        click.echo(terminal_lines(render_runs(records, settings)))


@command()
@click.argument("key")
@config_option
@now_option
@json_option
@handle_errors
def explain(key: str, config_path: Path | None, now: str | None, as_json: bool) -> None:
    """Why KEY is flagged: its timeline (status, step, entry, days), every finding with
    its evidence, and what the last sync wrote on it. Writes nothing."""
    from jira_chase.reports.history import explanation_to_dict, render_explanation

    settings = load_settings(config_path)
    out = output()
    with out.progress() as progress:
        found = runner.explain_issue(settings, key, parse_now(now), progress=progress)
    if as_json:
        click.echo(json.dumps(explanation_to_dict(found, settings), indent=2))
    else:
        click.echo(terminal_lines(render_explanation(found, settings)))


@command()
@json_option
@click.option(
    "--tracker",
    type=click.Choice(["jira", "zentao"]),
    default="jira",
    show_default=True,
    help="The simulated tracker to chase: Jira, or ZenTao 18.8 (REST API v1).",
)
@deployment_option(
    "For Jira: Cloud (REST v3) or Data Center 10.3 (REST v2, personal access token)."
)
@handle_errors
def demo(as_json: bool, tracker: str, deployment: str) -> None:
    """Run the whole loop on the built-in simulator: plan, sync, and sync again."""
    from jira_chase.cli.demo import run_demo

    lines, ok = run_demo(tracker, deployment, as_json)
    click.echo("\n".join(lines) if as_json else terminal_lines(lines))
    sys.exit(EXIT_OK if ok else EXIT_UNEXPECTED)


@command()
@config_option
@now_option
@wait_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the report (e.g. report.html).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["html", "markdown", "json"]),
              default="html", show_default=True,
              help="html: one self-contained file with charts; markdown: for a wiki page; "
              "json: the same content for machines.")  # fmt: skip
@handle_errors
def report(config_path: Path | None, now: str | None, wait: float, out: Path, fmt: str) -> None:
    """Write the manager's report: health and its change since the last report, goals'
    burn-up and forecast, flow charts, time to recovery and the flagged issues. Writes
    nothing to the tracker; keeps the run's trend in the state file."""
    from jira_chase.reports.manager.produce import produce, write_report

    settings = load_settings(config_path)
    doc = produce(settings, parse_now(now), wait=wait)
    click.echo(f"report written: {write_report(doc, out, fmt)}")


@command()
@config_option
@json_option
@handle_errors
def filters(config_path: Path | None, as_json: bool) -> None:
    """Create or update Jira saved filters for jira-chase's labels (off track, at risk,
    one per rule family), scoped to the configured scope and shared with its projects;
    print each filter's link. ZenTao has none: print the equivalent searches."""
    from jira_chase.run.filters import keep_filters, zentao_searches

    settings = load_settings(config_path)
    if settings.tracker == "zentao":
        click.echo(terminal_lines(zentao_searches(settings)))
        return
    results = keep_filters(settings)
    if as_json:
        doc = {"format": "jira-chase-filters/1", "filters": [r.to_dict() for r in results]}
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(terminal_lines(r.describe() for r in results))


main.add_command(simulator)


if __name__ == "__main__":  # pragma: no cover
    main()
