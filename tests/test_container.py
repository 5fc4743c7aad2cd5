"""The container image and its Kubernetes CronJob, checked for shape (no Docker engine
needed): the image runs a real CLI command whose options parse, as a non-root user, with
the state file on its volume and no token baked in; the CronJob's arguments parse with
the CLI and mount the configuration and the state where the image expects them."""

from __future__ import annotations

import json
import shlex
from pathlib import Path, PurePosixPath

import yaml

from jira_chase.config.file import load_settings
from tests.test_examples import CRON_FIELDS, assert_accepted, cron_field_ok

ROOT = Path(__file__).resolve().parent.parent


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    steps, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            steps.append((word.upper(), rest.strip()))
            pending = ""
    return steps


def env_of(steps: list[tuple[str, str]]) -> dict[str, str]:
    env = {}
    for word, rest in steps:
        if word == "ENV":
            env.update(dict(part.split("=", 1) for part in shlex.split(rest)))
    return env


def last(steps: list[tuple[str, str]], word: str) -> str:
    return [rest for w, rest in steps if w == word][-1]


def test_the_image_runs_sync_as_a_user_with_its_state_on_the_volume(tmp_path, monkeypatch):
    steps = dockerfile()
    assert "slim" in steps[0][1] and steps[0][0] == "FROM"
    entry, command = json.loads(last(steps, "ENTRYPOINT")), json.loads(last(steps, "CMD"))
    assert entry == ["jira-chase"] and command[0] == "sync"
    assert_accepted(command)
    user = last(steps, "USER")
    assert user not in ("root", "0")
    volumes = [PurePosixPath(v) for v in json.loads(last(steps, "VOLUME"))]
    env = env_of(steps)
    assert not [k for k in env if "TOKEN" in k or "PASSWORD" in k]
    state = PurePosixPath(env["JIRA_CHASE_STATE__PATH"])
    assert any(volume in state.parents for volume in volumes)
    # The environment the image sets puts the state there, whatever the mounted file says.
    config = tmp_path / "chase.toml"
    config.write_text((ROOT / "config.example.toml").read_text())
    monkeypatch.setenv("JIRA_CHASE_STATE__PATH", str(state))
    assert Path(load_settings(config).state.path) == Path(str(state))


def test_the_cronjob_runs_the_image_as_the_image_expects():
    docs = list(yaml.safe_load_all((ROOT / "examples/kubernetes/cronjob.yaml").read_text()))
    job = next(d for d in docs if d["kind"] == "CronJob")
    claim = next(d for d in docs if d["kind"] == "PersistentVolumeClaim")
    spec = job["spec"]
    assert all(
        cron_field_ok(field, low, high)
        for field, (low, high) in zip(spec["schedule"].split(), CRON_FIELDS)
    )
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert_accepted(container["args"])
    steps = dockerfile()
    env = env_of(steps)
    assert str(pod["securityContext"]["runAsUser"]) == last(steps, "USER")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_dir = str(PurePosixPath(env["JIRA_CHASE_CONFIG"]).parent)
    state_dir = str(PurePosixPath(env["JIRA_CHASE_STATE__PATH"]).parent)
    config_volume = next(n for n, p in mounts.items() if p == config_dir)
    assert "configMap" in volumes[config_volume]
    state_volume = next(n for n, p in mounts.items() if p == state_dir)
    assert volumes[state_volume]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    token = next(e for e in container["env"] if e["name"] == "JIRA_CHASE_JIRA__TOKEN")
    assert "secretKeyRef" in token["valueFrom"]
