"""What the bot writes and shows stays text whatever the tracker data holds: the report
opened in a real Chromium runs no script from the data (and its Content-Security-Policy
allows only its own inline script, by hash), and the comments read back from each
tracker carry every payload as text."""

from __future__ import annotations

import base64
import hashlib
import html as html_text
import json
import re
import shutil
from typing import Any

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.comment import parse_wiki_marker, parse_zentao_marker
from tests.factories import demo_config, write_toml
from tests.security.hostile import ESCAPES, FORGED, MARKUP, hostile_dataset
from tests.test_zentao_cli import zentao_config

NOW = "2026-11-20T16:00:00Z"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_report_runs_no_script_from_the_data(raw_sim, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    sim = raw_sim(hostile_dataset("cloud"), "cloud")
    config = write_toml(tmp_path / "c.toml", demo_config(sim.url, str(tmp_path / "s.sqlite")))
    invoke("sync", "--config", str(config), "--now", NOW)
    out = tmp_path / "report.html"
    invoke("report", "--config", str(config), "--now", NOW, "--out", str(out))
    html = out.read_text()
    assert "&lt;script&gt;document.title" in html  # the payload is in the report, as text
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    directives = dict(d.strip().split(" ", 1) for d in html_text.unescape(policy).split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'sha256-{digest}'"

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium())
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                   else r.abort())  # fmt: skip
        page.goto(out.as_uri())
        assert "pwned" not in page.title()
        # one script runs; the other is the findings rows' data block, which none runs
        assert page.locator("script:not([type])").count() == 1
        assert page.locator("script[type='application/gzip']").count() == 1
        assert page.locator("img").count() == 0
        # The report's own script runs under the policy: it builds the findings tables,
        # the payload in them as text, and narrows them as one types.
        page.wait_for_selector("#findings-controls:not([hidden])", state="attached")
        assert page.locator("td.summary", has_text="<script>").count() > 0
        page.fill("#findings-controls input[name=search]", "no such issue anywhere")
        page.wait_for_selector("#findings-controls .count:has-text('0 of')")
        # And a script that is not the report's own is refused.
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = \"document.title = 'pwned'\"; document.body.appendChild(s); }"
        )
        assert "pwned" not in page.title()
        browser.close()
    assert any("Content Security Policy" in e for e in errors)  # (the refused one)
    assert all("Content Security Policy" in e for e in errors), errors


def adf_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        assert node.get("type") != "text" or set(node) <= {"type", "text", "marks"}
        found = [node["text"]] if node.get("type") == "text" else []
        return found + [t for child in node.get("content", []) for t in adf_texts(child)]
    return []


PAYLOADS = [MARKUP, FORGED]


@pytest.mark.parametrize("tracker", ["cloud", "datacenter", "zentao"])
def test_comments_read_back_carry_the_data_as_text(raw_sim, tmp_path, tracker):
    sim = raw_sim(hostile_dataset(tracker), tracker)
    if tracker == "zentao":
        settings = zentao_config(sim.url, str(tmp_path / "s.sqlite"))
        bot = "chase_bot"
    else:
        settings = demo_config(sim.url, str(tmp_path / "s.sqlite"), jira={"deployment": tracker})
        bot = "u-bot"
    # The team's hints carry the payload too, so that every comment line has it.
    hint = f"ask {MARKUP}"
    settings["writeback"]["hints"] = {cause: hint for cause in
                                      ("stuck", "redline", "habits", "blocked", "must-start",
                                       "must-finish", "wip", "cooperation")}  # fmt: skip
    config = write_toml(tmp_path / "c.toml", settings)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--now", NOW, "--json"])
    doc = json.loads(result.stdout)
    # (On ZenTao a keyword write would also HTML-escape a bug's title: the bot stops
    # writing bug keywords, and says so; the comments are written all the same.)
    assert [f for f in doc["failed"] if f["kind"] != "labels"] == []
    keys = sorted({op["issue"] for op in doc["applied"] if op["kind"] == "comment.create"})
    assert keys
    escaped = 0
    for key in keys:
        if tracker == "zentao":
            (mine,) = [c for c in sim.comments(key) if c["actor"] == bot]
            body = mine["comment"]
            marker = parse_zentao_marker(body)
            assert marker is not None and "[jira-chase:2:x]" not in body.split("</p>", 1)[0]
            assert "<script" not in body and "<img" not in body
            escaped += "&lt;script&gt;" in body
            text = body
        else:
            (mine,) = [c for c in sim.comments(key) if c["author"] == bot]
            body = mine["body"]
            if tracker == "cloud":
                text = "\n".join(adf_texts(body))
                assert MARKUP in text  # whole, inside text nodes
                escaped += 1
                continue  # (a text node may hold any character: it is never markup)
            assert parse_wiki_marker(body) is not None
            assert body.count("{anchor:") == 1 and "[~admin]" not in body
            assert "{color:red}" not in body
            escaped += "\\[\\~admin\\]" in body and "\\{color\\:red\\}" in body
            text = body
        assert ESCAPES not in text  # lines folded, controls shown as text
        assert not any(line.startswith(FORGED) for line in text.splitlines())
    assert escaped  # the payload did reach comments
