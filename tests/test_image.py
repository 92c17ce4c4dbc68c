"""The production image, proven: built from this checkout with deploy/Dockerfile, run non-root on
a read-only root, healthy on its probe port, a signed Slack event answered through the Slack port
(fake Slack on 127.0.0.1), a clean stop on SIGTERM; its environment's CycloneDX SBOM is written to
build/sbom.json. The lock is audited for known vulnerabilities with pip-audit.

Marked ``image``: the image test needs a Docker engine (or dockerd and root) and debootstrap, and
skips with the reason where they are missing; ``BACKUP_FIX_TEST_IMAGE_REQUIRED=1`` (CI) turns
that skip into a failure. The audit needs a vulnerability service: where none answers it skips,
saying what failed. See tests/image_engine.py for the machinery and its environment variables.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import image_engine
from tests.fakes.signing import SignedClient, message
from tests.fakes.slack_api import FakeSlack

# One worker runs the whole module: it starts (or waits its turn for) a single Docker daemon.
pytestmark = [pytest.mark.image, pytest.mark.xdist_group("image")]

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "deploy" / "requirements.lock"
SBOM = ROOT / "build" / "sbom.json"
BIN = Path(sys.executable).parent
SECRET = "image-signing-secret"
KNOWN = "UserErrorGuestAgentStatusUnavailable"
TAG = "backup-fix:test"
UID = "10001"


@pytest.fixture(scope="module")
def engine() -> Iterator[image_engine.Engine]:
    """A Docker engine, or a skip (a failure when BACKUP_FIX_TEST_IMAGE_REQUIRED=1) saying why."""
    try:
        with image_engine.engine() as eng:
            yield eng
    except image_engine.Unavailable as exc:
        if os.environ.get("BACKUP_FIX_TEST_IMAGE_REQUIRED") == "1":
            pytest.fail(f"image test required but: {exc}")
        pytest.skip(str(exc))


def lock_pins() -> dict[str, str]:
    """Name (normalised) -> version of every package deploy/requirements.lock pins."""
    pins = re.findall(r"(?m)^([A-Za-z0-9._-]+)==(\S+)", LOCK.read_text(encoding="utf-8"))
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def in_image(eng: image_engine.Engine, code: str, *extra: str) -> str:
    """What ``python -c CODE`` prints in a throwaway container of the image."""
    done = eng.run("run", "--rm", "--network", "none", *extra, "--entrypoint", "python", TAG,
                   "-c", code)  # fmt: skip
    return done.stdout.strip()


def test_the_image_builds_runs_locked_down_answers_slack_and_stops_cleanly(
    engine: image_engine.Engine,
) -> None:
    eng = engine
    try:
        base = image_engine.base_image(eng)
    except image_engine.Unavailable as exc:
        if os.environ.get("BACKUP_FIX_TEST_IMAGE_REQUIRED") == "1":
            pytest.fail(f"image test required but: {exc}")
        pytest.skip(str(exc))
    image_engine.build(eng, TAG, base=base)
    # The image ships a knowledge base that passes its own check, read-only (asked of the image,
    # not of the build log, which a fully cached build leaves empty).
    checked = eng.run("run", "--rm", "--network", "none", "--read-only", TAG, "kb", "check")
    assert "knowledge base OK" in checked.stdout, checked.stdout + checked.stderr

    config = json.loads(eng.run("image", "inspect", "--format", "{{json .Config}}", TAG).stdout)
    assert config["User"] == f"{UID}:{UID}"
    assert config["Entrypoint"] == ["backup-fix"]
    assert set(config["ExposedPorts"]) == {"3000/tcp", "9090/tcp"}
    # The build stage's pip configuration and CA bundle stayed in the build stage
    leftovers = (
        "import os; print([p for p in ('/etc/pip.conf', '/etc/pip-ca.pem') if os.path.exists(p)])"
    )
    assert in_image(eng, leftovers) == "[]"

    main, probe = image_engine.free_port(), image_engine.free_port()
    name = f"backup-fix-test-{os.getpid()}"
    with FakeSlack() as fake:
        try:
            eng.run(
                "run", "--detach", "--name", name, "--network", "host",
                "--read-only", "--tmpfs", "/tmp:rw,size=64m",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--health-interval", "1s",  # the image's own HEALTHCHECK command, asked sooner
                "-e", "SLACK_BOT_TOKEN=xoxb-test", "-e", f"SLACK_SIGNING_SECRET={SECRET}",
                "-e", f"SLACK_API_URL={fake.api_url}", "-e", f"BACKUP_FIX_PROBE_PORT={probe}",
                TAG, "serve", "--http", "--host", "127.0.0.1", "--port", str(main),
            )  # fmt: skip
            image_engine.wait_healthy(eng, name)
            public = SignedClient(f"http://127.0.0.1:{main}", SECRET)
            probes = SignedClient(f"http://127.0.0.1:{probe}", SECRET)
            assert probes.get("/readyz").status == 200
            for path in ("/healthz", "/readyz", "/metrics"):
                assert public.get(path).status == 404, f"{path} must not answer on the Slack port"

            reply = public.event(message(f"backup failed: {KNOWN}"))
            assert reply.status == 200
            [posted] = fake.wait_for("chat.postMessage", timeout=20)
            assert KNOWN in posted.all_text()
            assert posted.token == "xoxb-test"
            assert b"backup_fix_" in probes.get("/metrics").body

            ids = "import os; print(os.getuid(), os.getgid())"
            assert eng.run("exec", name, "python", "-c", ids).stdout.split() == [UID, UID]
            root = "print([m.split()[3] for m in open('/proc/self/mounts') if m.split()[1] == '/'])"
            assert "'ro" in eng.run("exec", name, "python", "-c", root).stdout

            started = time.monotonic()
            eng.run("stop", "--time", "20", name, timeout=60)
            assert time.monotonic() - started < 15, "SIGTERM must stop it, not the SIGKILL after"
            state = json.loads(eng.run("inspect", "--format", "{{json .State}}", name).stdout)
            logs = eng.run("logs", name)
            assert state["ExitCode"] == 0, logs.stdout + logs.stderr
            assert logs.stdout.splitlines()[0] == f"listening on http://127.0.0.1:{main}"
            assert '"shutting down"' in logs.stderr
        finally:
            eng.run("rm", "--force", name, check=False)

    write_sbom(eng)
    sbom = json.loads(SBOM.read_text(encoding="utf-8"))
    found = {re.sub(r"[-_.]+", "-", c["name"]).lower(): c["version"] for c in sbom["components"]}
    expected = {k: v for k, v in lock_pins().items() if k not in {"setuptools", "wheel"}}
    assert {k: found.get(k) for k in expected} == expected, "the image holds what the lock pins"
    assert found.get("backup-fix") == "0.1.0"
    assert set(found) - set(expected) == {"backup-fix"}, "nothing unpinned (not even pip) in it"


def write_sbom(eng: image_engine.Engine) -> None:
    """The CycloneDX SBOM of the image's /opt/backup-fix, written by cyclonedx-py from the test
    environment (mounted read-only) run inside the image, to build/sbom.json."""
    import cyclonedx_py

    tools = Path(cyclonedx_py.__file__).resolve().parent.parent
    SBOM.parent.mkdir(exist_ok=True)
    out = SBOM.parent / "sbom-out"
    out.mkdir(exist_ok=True)
    out.chmod(0o777)  # the image's user writes it
    code = (
        "import runpy, sys; sys.path.insert(0, '/sbom-tools'); "
        "sys.argv = ['cyclonedx-py', 'environment', '--output-reproducible', '--mc-type', "
        "'application', '-o', '/out/sbom.json', '/opt/backup-fix']; "
        "runpy.run_module('cyclonedx_py', run_name='__main__')"
    )
    in_image(eng, code, "--read-only", "-v", f"{tools}:/sbom-tools:ro", "-v", f"{out}:/out")
    (out / "sbom.json").replace(SBOM)
    out.rmdir()


# pip-audit: the lock against known vulnerabilities (a fixed one fails the build)


def pip_audit(requirements: Path, cache: Path) -> dict[str, Any]:
    """pip-audit's JSON report on ``requirements`` (pins audited as written, no resolver)."""
    done = subprocess.run(
        [str(BIN / "pip-audit"), "-r", str(requirements), "--disable-pip", "--no-deps",
         "--progress-spinner", "off", "--cache-dir", str(cache), "--format", "json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.stdout.strip(), (
        f"pip-audit printed no report (exit {done.returncode}):\n{done.stderr}"
    )
    return dict(json.loads(done.stdout))


def service_failure(report: dict[str, Any], name: str, version: str) -> str | None:
    """Why ``name`` could not be audited (pip-audit's words and what the index answered)."""
    [dep] = [d for d in report["dependencies"] if d["name"] == name]
    if "skip_reason" not in dep:
        return None
    url = f"https://pypi.org/pypi/{name}/{version}/json"  # what pip-audit's PyPI service asks
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            said = f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        said = f"HTTP {exc.code}"
    except OSError as exc:
        said = f"{type(exc).__name__}: {exc}"
    return f"pip-audit: {dep['skip_reason']!r}; GET {url} answered {said}"


@pytest.fixture(scope="module")
def audit_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-audit's cache folder, once a known-vulnerable pin proved the service answers."""
    cache = tmp_path_factory.mktemp("pip-audit-cache")
    canary = cache.parent / "canary.txt"
    canary.write_text("requests==2.19.0\n", encoding="utf-8")  # CVE-2018-18074, fixed in 2.20.0
    report = pip_audit(canary, cache)
    if (failure := service_failure(report, "requests", "2.19.0")) is not None:
        pytest.skip(f"no vulnerability data here: {failure}")
    return cache


def fixable(report: dict[str, Any]) -> list[str]:
    """``name version: id (fixed in ...)`` for each known vulnerability that has a fix."""
    return [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions'])})"
        for d in report["dependencies"]
        for v in d.get("vulns", [])
        if v.get("fix_versions")
    ]


def test_pip_audit_reports_a_known_fixed_vulnerability(audit_service: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    old.write_text("urllib3==1.24.1\n", encoding="utf-8")  # CVE-2019-11324, fixed in 1.24.2
    assert fixable(pip_audit(old, audit_service)), "the audit would miss what it is there for"


def test_the_lock_has_no_known_vulnerability_that_has_a_fix(audit_service: Path) -> None:
    report = pip_audit(LOCK, audit_service)
    unaudited = [f"{d['name']}: {d['skip_reason']}" for d in report["dependencies"]
                 if "skip_reason" in d]  # fmt: skip
    assert unaudited == [], "every pin is audited"
    assert fixable(report) == [], "upgrade these pins (deploy/README.md: The lock)"
