"""The `jira-chase` command: each command parses options, makes one library call and
renders the result. Library errors become one-line messages and documented exit codes:

0 ok · 1 unexpected error · 2 configuration or usage (also an unusable state file) ·
3 tracker failed the run · 4 partial (some writes failed; the rest were done) ·
5 another run holds the state file's lock (this one wrote nothing)
"""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timezone
from functools import wraps
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from jira_chase import __version__
from jira_chase.config import Settings, load_settings
from jira_chase.errors import EXIT_OK, EXIT_UNEXPECTED, ChaseError, ConfigError
from jira_chase.report import render_text, run_to_dict
from jira_chase.sources.base import Source
from jira_chase.state import StateStore, run_lock, unusable_state
from jira_chase.sync import RunResult, run

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("jira_chase")


def parse_now(value: str | None) -> datetime:
    """`--now`: an ISO 8601 time (UTC when it has no offset) or a date (midnight UTC)."""
    if value is None:
        return datetime.now(timezone.utc)
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            [f"--now: {value!r} is not an ISO 8601 time like 2026-11-20T16:00:00Z"]
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def handle_errors(func: F) -> F:
    """Turn library errors into one line per problem on stderr and the exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verbose = bool(click.get_current_context().find_root().params.get("verbose"))
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"config error: {problem}", err=True)
            sys.exit(exc.exit_code)
        except ChaseError as exc:
            if verbose:
                log.exception("run failed")
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; the next run finishes the job", err=True)
            sys.exit(130)
        except click.exceptions.Exit:
            raise
        except Exception as exc:
            if verbose:
                log.exception("unexpected error")
            else:
                click.echo(
                    f"unexpected error: {type(exc).__name__}: {exc} (rerun with --verbose "
                    "for details)",
                    err=True,
                )
            sys.exit(EXIT_UNEXPECTED)

    return wrapper  # type: ignore[return-value]


def make_source(settings: Settings, store: StateStore | None = None) -> Source:
    if settings.tracker == "jira":
        from jira_chase.sources.jira import JiraSource

        assert settings.jira is not None
        # Issue snapshots live in the state store: a run reads only what changed.
        return JiraSource(settings.jira, snapshots=store)
    if settings.tracker == "zentao":
        from jira_chase.sources.zentao import ZenTaoSource

        assert settings.zentao is not None
        # Item snapshots live in the state store, so unchanged items are not read again.
        return ZenTaoSource(settings.zentao, snapshots=store)
    raise ConfigError(
        [f"tracker: {settings.tracker!r} is not supported by this version; use 'jira' or "
         "'zentao'"]
    )  # fmt: skip


def execute(
    settings: Settings, now: datetime, *, write: bool, wait: float = 0.0, force: bool = False
) -> RunResult:
    """One run. `sync` holds the state file's lock for the whole run (waiting up to
    `wait` seconds for another run); `plan` reads a snapshot of the state and never
    writes it, so it needs no lock."""
    path = settings.state.path
    try:
        if not write:
            with StateStore(path, readonly=True) as store:
                return run(make_source(settings, store), settings, store, now, write=False)
        with run_lock(path, wait), StateStore(path) as store:
            source = make_source(settings, store)
            return run(source, settings, store, now, write=True, force=force)
    except sqlite3.Error as exc:
        # The state file failed under the run (disk full, file removed or replaced).
        raise unusable_state(path, exc) from exc


def emit(result: RunResult, settings: Settings, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(run_to_dict(result), indent=2))
    else:
        click.echo(render_text(result, max_writes=settings.writeback.max_writes))
    # One line per refused write on stderr too, where cron mails and logs look.
    for _, error in result.failed:
        click.echo(f"write failed: {error}", err=True)


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
json_option = click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jira-chase")
@click.option("-v", "--verbose", is_flag=True, help="Log requests and show tracebacks.")
def main(verbose: bool) -> None:
    """Chase the process, not the result: judge process health in Jira and write it
    back as labels."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@main.command()
@config_option
@now_option
@json_option
@handle_errors
def plan(config_path: Path | None, now: str | None, as_json: bool) -> None:
    """Dry run: print exactly the operations `sync` would perform; write nothing."""
    settings = load_settings(config_path)
    result = execute(settings, parse_now(now), write=False)
    emit(result, settings, as_json)


@main.command()
@config_option
@now_option
@json_option
@wait_option
@force_option
@handle_errors
def sync(
    config_path: Path | None, now: str | None, as_json: bool, wait: float, force: bool
) -> None:
    """Judge the scope and write health labels back to the tracker. One run at a time per
    state file: another run's lock makes this one exit 5 without writing."""
    settings = load_settings(config_path)
    signal.signal(signal.SIGTERM, _terminate)
    result = execute(settings, parse_now(now), write=True, wait=wait, force=force)
    emit(result, settings, as_json)
    sys.exit(result.exit_code)


@main.command()
@config_option
@handle_errors
def check(config_path: Path | None) -> None:
    """Validate the configuration, the credentials and the scope query."""
    settings = load_settings(config_path)
    source = make_source(settings)
    identity = source.identify()
    click.echo(f"config ok: {config_path or 'from $JIRA_CHASE_CONFIG'}")
    click.echo(
        f"tracker ok: {identity.tracker} {identity.deployment} {identity.version} at "
        f"{identity.url}, signed in as {identity.user}"
    )
    count = source.validate_scope()
    click.echo(f"scope ok: the scope query is accepted and matches {count} issues")
    if count == 0:
        click.echo("warning: the scope matches no issues: check it before the first sync", err=True)
    if settings.tracker == "jira":
        from jira_chase.sources.jira import JiraSource

        assert isinstance(source, JiraSource)
        for project, silent in source.notification_modes().items():
            if silent:
                click.echo(f"writes in {project}: silent (the bot may suppress notifications)")
            elif silent is None:
                click.echo(
                    f"writes in {project}: Jira did not say whether the bot may suppress "
                    "notifications (mypermissions failed, see --verbose); the first sync "
                    "finds out"
                )
            else:
                click.echo(
                    f"writes in {project}: label changes email the issue's watchers — grant "
                    f"the bot account Administer Projects in {project} to make them silent "
                    "(the next sync notices)"
                )


def _read_toml_resource(name: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    text = resources.files("jira_chase").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def demo_settings(
    url: str, state_dir: Path, tracker: str = "jira", deployment: str = "cloud"
) -> Settings:
    """The demo configuration (demo.toml; for ZenTao with zentao_demo.toml's sections
    over it) pointed at a simulator and a state file in `state_dir`."""
    data = _read_toml_resource("demo.toml")
    if tracker == "zentao":
        del data["jira"]
        data.update(_read_toml_resource("zentao_demo.toml"))
    elif deployment == "datacenter":
        # Data Center signs in with a personal access token alone.
        data["jira"].update({"deployment": "datacenter", "email": ""})
    data[tracker]["url"] = url
    data["state"]["path"] = str(state_dir / "demo.sqlite")
    return load_settings(data=data)


@main.command()
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
    from jira_chase.simulator import JiraSimulator
    from jira_chase.simulator.demo import DEMO_NOW, build_demo_dataset

    if tracker == "zentao":
        _demo_zentao(as_json)
        return
    with (
        tempfile.TemporaryDirectory(prefix="jira-chase-demo-") as tmp,
        JiraSimulator(build_demo_dataset(), deployment=deployment) as sim,
    ):
        settings = demo_settings(sim.url, Path(tmp), deployment=deployment)
        first = execute(settings, DEMO_NOW, write=False)
        applied = execute(settings, DEMO_NOW, write=True)
        second = execute(settings, DEMO_NOW, write=True)
        prefix = settings.writeback.label_prefix
        written = {
            v.issue.key: [label for label in sim.labels(v.issue.key) if label.startswith(prefix)]
            for v in applied.evaluation.verdicts
        }
        written = {key: labels for key, labels in written.items() if labels}
        if as_json:
            doc = {
                "plan": run_to_dict(first),
                "sync": run_to_dict(applied),
                "second_sync": run_to_dict(second),
                "labels_in_tracker": written,
            }
            click.echo(json.dumps(doc, indent=2))
        else:
            flavour = "Cloud" if deployment == "cloud" else "Data Center"
            click.echo(f"Simulated Jira {flavour} at {sim.url} with the demo data set.\n")
            click.echo(render_text(first, max_writes=settings.writeback.max_writes))
            click.echo("\n" + "=" * 72 + "\n")
            click.echo(render_text(applied, max_writes=settings.writeback.max_writes, brief=True))
            click.echo("\nLabels now in the tracker (jira-chase's own only):")
            for key, labels in written.items():
                click.echo(f"  {key:<10} {' '.join(labels)}")
            click.echo(
                f"\nSecond sync over unchanged data: {len(second.plan.operations)} operations "
                f"planned, {len(second.applied)} performed."
            )
    if second.plan.operations or applied.failed:
        sys.exit(EXIT_UNEXPECTED)
    sys.exit(EXIT_OK)


def _demo_zentao(as_json: bool) -> None:
    """`demo --tracker zentao`: the same loop on the ZenTao simulator."""
    from jira_chase.simulator.demo import DEMO_NOW, build_demo_dataset
    from jira_chase.simulator.zentao import ZenTaoSimulator

    with (
        tempfile.TemporaryDirectory(prefix="jira-chase-demo-") as tmp,
        ZenTaoSimulator(build_demo_dataset()) as sim,
    ):
        settings = demo_settings(sim.url, Path(tmp), "zentao")
        first = execute(settings, DEMO_NOW, write=False)
        applied = execute(settings, DEMO_NOW, write=True)
        second = execute(settings, DEMO_NOW, write=True)
        prefix = settings.writeback.label_prefix
        keys = [v.issue.key for v in applied.evaluation.verdicts]
        keywords = {key: [t for t in sim.labels(key) if t.startswith(prefix)] for key in keys}
        keywords = {key: tokens for key, tokens in keywords.items() if tokens}
        assert settings.zentao is not None
        bot = settings.zentao.account
        commented = [key for key in keys if any(c["actor"] == bot for c in sim.comments(key))]
        unlabelled = [v.issue.key for v in applied.evaluation.unhealthy()
                      if not v.issue.labels_supported]  # fmt: skip
        if as_json:
            doc = {
                "plan": run_to_dict(first),
                "sync": run_to_dict(applied),
                "second_sync": run_to_dict(second),
                "labels_in_tracker": keywords,
                "unhealthy_without_labels": unlabelled,
                "comments_in_tracker": commented,
                "dataset_keys": {key: sim.dataset_key(key) for key in keys},
            }
            click.echo(json.dumps(doc, indent=2))
        else:
            click.echo(
                f"Simulated ZenTao {sim.version} at {sim.url} with the demo data set "
                "(product 1 and execution 1 are the APP team).\n"
            )
            click.echo(render_text(first, max_writes=settings.writeback.max_writes))
            click.echo("\n" + "=" * 72 + "\n")
            click.echo(render_text(applied, max_writes=settings.writeback.max_writes, brief=True))
            click.echo("\nKeywords now in ZenTao (jira-chase's own only):")
            for key, tokens in keywords.items():
                click.echo(f"  {key:<10} {' '.join(tokens)}")
            click.echo(
                f"\nZenTao tasks have no keywords: {len(unlabelled)} unhealthy tasks carry their "
                "findings in the managed comment only."
            )
            click.echo(f"Items with the managed comment in ZenTao: {len(commented)}.")
            click.echo(
                f"\nSecond sync over unchanged data: {len(second.plan.operations)} operations "
                f"planned, {len(second.applied)} performed."
            )
    if second.plan.operations or applied.failed:
        sys.exit(EXIT_UNEXPECTED)
    sys.exit(EXIT_OK)


@main.command()
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
