"""The `jira-chase` command: each command parses options, makes one library call and
hands the result to the output layer (output.py, report.py, history.py). Library errors
become one-line messages and documented exit codes (EXIT_CODES below)."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from jira_chase import __version__
from jira_chase.config import load_settings
from jira_chase.errors import EXIT_OK, EXIT_UNEXPECTED, ChaseError, ConfigError
from jira_chase.output import LOG_FORMATS, TEXT, Output
from jira_chase.report import outcome_line, run_to_dict, summary_lines
from jira_chase.runner import execute, make_source, metrics_written, parse_now

F = TypeVar("F", bound=Callable[..., Any])
OUTPUT = "jira_chase.output"

EXIT_CODES = """\b
Exit codes:
  0  ok
  1  unexpected error
  2  configuration or usage problem (one line per problem, naming the key)
  3  the tracker failed the run (credentials, scope query, unreachable)
  4  partial: some writes failed, the rest were done
  5  another run holds the state file's lock"""


def output() -> Output:
    meta = click.get_current_context().meta
    if OUTPUT not in meta:
        meta[OUTPUT] = Output()
    out: Output = meta[OUTPUT]
    return out


def use_output(out: Output) -> Output:
    """Make `out` the command's voice: errors and log records go through it."""
    ctx = click.get_current_context()
    ctx.meta[OUTPUT] = out
    out.install_logging(bool(ctx.find_root().params.get("verbose")))
    return out


def handle_errors(func: F) -> F:
    """Turn library errors into one line per problem on stderr and the exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verbose = bool(click.get_current_context().find_root().params.get("verbose"))
        try:
            return func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except ConfigError as exc:
            for problem in exc.problems:
                output().error(f"config error: {problem}")
            code = exc.exit_code
        except ChaseError as exc:
            output().error(f"error: {exc}", exc_info=verbose)
            code = exc.exit_code
        except KeyboardInterrupt:
            output().error("interrupted; the next run finishes the job")
            code = 130
        except Exception as exc:
            output().error(
                f"unexpected error: {type(exc).__name__}: {exc}"
                + ("" if verbose else " (rerun with --verbose for details)"),
                exc_info=verbose,
            )
            code = EXIT_UNEXPECTED
        output().outcome(f"jira-chase failed with exit code {code}", exit_code=code,
                         outcome="failed")  # fmt: skip
        sys.exit(code)

    return wrapper  # type: ignore[return-value]


def command(**kwargs: Any) -> Callable[[F], Any]:
    """A subcommand whose --help ends with the exit codes."""
    return main.command(epilog=EXIT_CODES, **kwargs)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML configuration file (default: $JIRA_CHASE_CONFIG).",
)
now_option = click.option(
    "--now",
    default=None,
    help="Judge as of this ISO 8601 time instead of the real clock (reproduce a run).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


wait_option = click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for another run on the same state file before giving up (exit 5).",
)
force_option = click.option(
    "--force",
    is_flag=True,
    help="Accept a scope that suddenly matches far fewer issues than the last run "
    "(the run then cleans the issues that left it).",
)


def _terminate(signum: int, frame: Any) -> None:
    # SIGTERM (cron timeouts, systemd stop) ends the run like Ctrl-C: recorded with the
    # writes it made, lock released, and the next run finishes the job.
    raise KeyboardInterrupt


def run_options(func: F) -> F:
    """The output options of `plan` and `sync`."""
    for option in reversed(
        [
            config_option,
            now_option,
            json_option,
            click.option("--details", is_flag=True, help="List every finding and operation."),
            click.option(
                "-q", "--quiet", is_flag=True, help="Print errors and the one-line outcome only."
            ),
            click.option(
                "--log-format",
                type=click.Choice(LOG_FORMATS),
                default=TEXT,
                show_default=True,
                help="json: one JSON object per event line (start, phase, write failure, "
                "outcome), for log shippers.",
            ),
            click.option(
                "--metrics-file",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Write the run's metrics here in Prometheus text format "
                "(node_exporter textfile collector).",
            ),
        ]
    ):
        func = option(func)
    return func


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
    with metrics_written(options["metrics_file"], mode) as watched:
        settings = load_settings(options["config_path"])
        now = parse_now(options["now"])
        if mode == "sync":
            signal.signal(signal.SIGTERM, _terminate)
        with out.progress() as progress:
            execute(settings, now, write=mode == "sync", wait=options.get("wait", 0.0),
                    force=options.get("force", False), progress=progress,
                    watched=watched)  # fmt: skip
    finished = watched.finished
    assert finished is not None
    result, duration = finished.result, finished.duration
    if as_json:
        click.echo(json.dumps(run_to_dict(result, settings, duration), indent=2))
    else:
        out.say(summary_lines(result, settings, duration=duration, details=out.details))
    out.outcome(outcome_line(result, duration), outcome=result.outcome,
                exit_code=result.exit_code, counts=result.counts(),
                requests=result.stats.requests, retries=result.stats.retries,
                duration_seconds=round(duration, 3))  # fmt: skip
    sys.exit(result.exit_code)


@command()
@run_options
@handle_errors
def plan(**options: Any) -> None:
    """Dry run: print exactly the operations `sync` would perform; write nothing."""
    run_command("plan", options)


@command()
@run_options
@wait_option
@force_option
@handle_errors
def sync(**options: Any) -> None:
    """Judge the scope and write health labels and comments back to the tracker. One run
    at a time per state file: another run's lock makes this one exit 5 without writing.

    On a terminal a progress display shows each phase; in cron only the summary is
    printed (--quiet: one line)."""
    run_command("sync", options)


@command()
@config_option
@json_option
@handle_errors
def check(config_path: Path | None, as_json: bool) -> None:
    """Validate the configuration, the credentials and the scope query."""
    settings = load_settings(config_path)
    source = make_source(settings)
    identity = source.identify()
    count = source.validate_scope()
    where = str(config_path) if config_path else "from $JIRA_CHASE_CONFIG"
    if as_json:
        doc = {
            "format": "jira-chase-check/1",
            "config": where,
            "tracker": {
                "kind": identity.tracker,
                "deployment": identity.deployment,
                "version": identity.version,
                "url": identity.url,
                "user": identity.user,
            },
            "scope": {"ok": True, "matches": count},
        }
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"config ok: {where}")
    click.echo(
        f"tracker ok: {identity.tracker} {identity.deployment} {identity.version} at "
        f"{identity.url}, signed in as {identity.user}"
    )
    click.echo(f"scope ok: the scope query is accepted and matches {count} issues")
    if count == 0:
        output().error("warning: the scope matches no issues: check it before the first sync")


@command()
@config_option
@click.option("--last", type=click.IntRange(1), default=20, show_default=True,
              help="How many runs to show, newest first.")  # fmt: skip
@json_option
@handle_errors
def runs(config_path: Path | None, last: int, as_json: bool) -> None:
    """List the recorded runs: outcome, counts, duration, requests, goals."""
    from jira_chase.history import render_runs, runs_to_dict
    from jira_chase.state import StateStore

    settings = load_settings(config_path)
    with StateStore(settings.state.path) as store:
        records = store.runs(last)
    if as_json:
        click.echo(json.dumps(runs_to_dict(records, settings), indent=2))
    else:
        click.echo("\n".join(render_runs(records, settings)))


@command()
@click.argument("key")
@config_option
@now_option
@json_option
@handle_errors
def explain(key: str, config_path: Path | None, now: str | None, as_json: bool) -> None:
    """Why KEY is flagged: its timeline (status, step, entry, days), every finding with
    its evidence, and what the last sync wrote on it. Writes nothing."""
    from jira_chase import runner
    from jira_chase.history import explanation_to_dict, render_explanation

    settings = load_settings(config_path)
    out = output()
    with out.progress() as progress:
        found = runner.explain(settings, key, parse_now(now), progress=progress)
    if as_json:
        click.echo(json.dumps(explanation_to_dict(found, settings), indent=2))
    else:
        click.echo("\n".join(render_explanation(found, settings)))


@command()
@json_option
@click.option(
    "--tracker",
    type=click.Choice(["jira", "zentao"]),
    default="jira",
    show_default=True,
    help="The simulated tracker to chase: Jira, or ZenTao 18.8 (REST API v1).",
)
@click.option(
    "--deployment",
    type=click.Choice(["cloud", "datacenter"]),
    default="cloud",
    show_default=True,
    help="For Jira: Cloud (REST v3) or Data Center 10.3 (REST v2, personal access token).",
)
@handle_errors
def demo(as_json: bool, tracker: str, deployment: str) -> None:
    """Run the whole loop on the built-in simulator: plan, sync, and sync again."""
    from jira_chase.demo import run_demo

    lines, ok = run_demo(tracker, deployment, as_json)
    click.echo("\n".join(lines))
    sys.exit(EXIT_OK if ok else EXIT_UNEXPECTED)


@command()
@click.option(
    "--dataset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Dataset JSON file (format: jira-chase-dataset/1); default: the demo data.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on (0: any).")
@click.option(
    "--deployment",
    type=click.Choice(["cloud", "datacenter"]),
    default="cloud",
    show_default=True,
    help="Serve Jira Cloud (REST v3) or Jira Data Center 10.3 (REST v2, PAT auth).",
)
@click.option(
    "--faults",
    "fault_rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests that fail (429, 5xx, resets, slow or cut answers).",
)
@click.option(
    "--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault schedule."
)
@click.option(
    "--fault-kinds",
    default=None,
    help="Comma-separated fault kinds to inject (default: all), e.g. rate-limit,reset-after.",
)
@click.option(
    "--fault-delay",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Seconds a 'slow' fault holds its answer back.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds added to every request, to model a remote site.",
)
@click.option(
    "--generate",
    "generate_count",
    type=click.IntRange(0),
    default=None,
    help="Write a generated dataset of N issues as JSON to stdout and exit (no server).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --generate data.")
@handle_errors
def simulator(
    dataset: Path | None,
    host: str,
    port: int,
    deployment: str,
    fault_rate: float,
    fault_seed: int,
    fault_kinds: str | None,
    fault_delay: float,
    latency: float,
    generate_count: int | None,
    seed: int,
) -> None:
    """Serve a simulated Jira (Cloud or Data Center) over HTTP until interrupted, or write
    a generated dataset with --generate."""
    from jira_chase.simulator import load_dataset
    from jira_chase.simulator.demo import build_demo_dataset
    from jira_chase.simulator.faults import FAULT_KINDS, FaultPlan, parse_kinds
    from jira_chase.simulator.generate import write_dataset
    from jira_chase.simulator.server import run as serve

    if generate_count is not None:
        write_dataset(sys.stdout, generate_count, seed)
        sys.stdout.flush()
        return
    try:
        kinds = parse_kinds(fault_kinds) if fault_kinds else FAULT_KINDS
    except ValueError as exc:
        raise ConfigError([f"--fault-kinds: {exc}"]) from None
    if not kinds:
        raise ConfigError(["--fault-kinds: name at least one fault kind"])
    plan = (
        FaultPlan(seed=fault_seed, rate=fault_rate, kinds=kinds, delay=fault_delay)
        if fault_rate > 0
        else None
    )
    try:
        data = load_dataset(dataset if dataset is not None else build_demo_dataset())
    except ValueError as exc:
        raise ConfigError([f"--dataset: {exc}"]) from None
    serve(data, host, port, deployment=deployment, faults=plan, latency=latency)


if __name__ == "__main__":  # pragma: no cover
    main()
