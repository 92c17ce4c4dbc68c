"""Health, metrics, signatures, body cap and start-up checks over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.acceptance.conftest import SECRET, Slack, bot_env, sqlite_url
from tests.fakes import signing
from tests.fakes.botproc import run_to_exit
from tests.fakes.slack_api import FakeSlack


def test_healthz_is_200(slack: Slack) -> None:
    assert slack.client.get("/healthz").status == 200


def test_metrics_are_prometheus_text(slack: Slack) -> None:
    resp = slack.client.get("/metrics")
    assert resp.status == 200
    assert resp.headers.get("Content-Type", "").startswith("text/plain")
    text = resp.body.decode()
    assert "# TYPE " in text
    assert "# HELP " in text


def test_forged_signature_is_401_and_not_answered(slack: Slack) -> None:
    event = signing.message("UserErrorGuestAgentStatusUnavailable")
    body = json.dumps(signing.event_envelope(event)).encode()
    resp = slack.client.post_raw(body, content_type="application/json", secret="wrong-secret")
    assert resp.status == 401
    slack.barrier()
    assert slack.answers("C1", event["ts"]) == []


def test_stale_timestamp_is_401(slack: Slack) -> None:
    event = signing.message("UserErrorGuestAgentStatusUnavailable")
    body = json.dumps(signing.event_envelope(event)).encode()
    stale = int(time.time()) - 6 * 60
    resp = slack.client.post_raw(body, content_type="application/json", timestamp=stale)
    assert resp.status == 401
    slack.barrier()
    assert slack.answers("C1", event["ts"]) == []


def test_body_over_the_cap_is_413(slack: Slack) -> None:
    event = signing.message("UserErrorGuestAgentStatusUnavailable " + "x" * (4 * 1024 * 1024))
    body = json.dumps(signing.event_envelope(event)).encode()
    assert slack.client.post_oversized(body, content_type="application/json") == 413
    assert slack.bot.alive()
    assert slack.client.get("/healthz").status == 200


def test_missing_signing_secret_fails_start_naming_it(fake: FakeSlack, tmp_path: Path) -> None:
    env = bot_env(fake, sqlite_url(tmp_path))
    del env["SLACK_SIGNING_SECRET"]
    done = run_to_exit(env, ("serve", "--http", "--host", "127.0.0.1", "--port", "0"))
    assert done.returncode != 0
    assert "listening on" not in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "SLACK_SIGNING_SECRET" in lines[0]
    assert SECRET not in done.stderr


def test_malformed_timestamp_is_401_without_a_stack_trace(slack: Slack) -> None:
    event = signing.message("UserErrorGuestAgentStatusUnavailable")
    body = json.dumps(signing.event_envelope(event)).encode()
    mark = slack.bot.stderr_lines
    for bad in ("12abc", "1e9", "-1", "", "9" * 5000):
        extra = {"X-Slack-Request-Timestamp": bad}
        resp = slack.client.post_raw(body, content_type="application/json", extra=extra)
        assert resp.status == 401, bad
    slack.barrier()
    assert slack.answers("C1", event["ts"]) == []
    assert slack.bot.alive()
    logged = "\n".join(slack.bot.stderr.splitlines()[mark:])
    assert "Traceback" not in logged
    assert "unhandled error" not in logged
