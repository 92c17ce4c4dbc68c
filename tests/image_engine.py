"""The product image, built and run for real: a Docker engine, a Debian base bootstrapped here,
``docker build`` of deploy/Dockerfile. Used by tests/test_image.py and bench/bench_image.py.

Where no Docker engine answers, one is started by hand (root only) without touching the host's
network: no bridge, no iptables rules; containers use the host's network. The base image comes
from ``debootstrap`` (Debian bookworm from the mirror apt uses here, with python3) and is cached as
a tarball between runs; ``BACKUP_FIX_IMAGE_BASE`` names a ready base instead (e.g.
``python:3.11-slim`` where a registry is reachable). pip in the build stage gets this machine's
index and CA bundle from a local build base (the base plus /etc/pip.conf, ``BUILD_IMAGE``); the
runtime stage starts from the plain base, so neither reaches the product image.

Environment: ``BACKUP_FIX_DOCKER`` (client), ``BACKUP_FIX_IMAGE_BASE``, ``BACKUP_FIX_BASE_CACHE``
(folder of the base tarball), ``BACKUP_FIX_DEBIAN_MIRROR``, ``BACKUP_FIX_IMAGE_CONTEXT`` (build
context; default: this checkout).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUITE = "bookworm"  # python3 3.11, the Python deploy/requirements.lock was resolved with
PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_MAX_AGE = 7 * 86400  # a week: then the base is bootstrapped again, with Debian's fixes
DATA_ROOT = Path("/var/lib/backup-fix-docker")  # layers and build cache kept between runs
DEFAULT_MIRROR = "http://deb.debian.org/debian"


class Unavailable(Exception):
    """Docker, dockerd or debootstrap cannot be had here; ``str()`` says which and why."""


@dataclass
class Engine:
    """A Docker client bound to one daemon (``DOCKER_HOST``)."""

    client: str
    host: str

    def env(self) -> dict[str, str]:
        """The client's environment: this daemon, BuildKit on."""
        return {**os.environ, "DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "1"}

    def run(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``docker ARGS``; raises with the client's output when ``check`` and it fails."""
        done = subprocess.run(
            [self.client, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args[:3])} ... exited {done.returncode}:\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def answers(self) -> bool:
        """The daemon answers ``docker version``."""
        try:
            return self.run("version", timeout=10, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False


def docker_client() -> str:
    """Debian's client first: it matches Debian's dockerd and builds with BuildKit by itself (a
    newer client without the buildx plugin refuses ``DOCKER_BUILDKIT=1``)."""
    for candidate in (
        os.environ.get("BACKUP_FIX_DOCKER"),
        "/usr/bin/docker",
        shutil.which("docker"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    raise Unavailable("no docker client: apt-get install docker.io")


@contextlib.contextmanager
def engine() -> Iterator[Engine]:
    """A daemon that answers: the one ``DOCKER_HOST`` or the default socket names, else dockerd
    started here for the block (root only), stopped with SIGTERM afterwards."""
    client = docker_client()
    for host in (os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"):
        if host and Engine(client, host).answers():
            yield Engine(client, host)
            return
    dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/usr/bin")
    if dockerd is None:
        raise Unavailable("no Docker engine answers and dockerd is not installed (docker.io)")
    if os.geteuid() != 0:
        raise Unavailable("no Docker engine answers, and starting dockerd needs root")
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    with open(DATA_ROOT.with_suffix(".lock"), "w") as lock:  # one daemon per data root
        fcntl.flock(lock, fcntl.LOCK_EX)
        run_dir = Path(tempfile.mkdtemp(prefix="bf-docker-", dir="/run"))
        log_path = run_dir / "dockerd.log"
        eng = Engine(client, f"unix://{run_dir / 'docker.sock'}")
        with open(log_path, "wb") as log:
            daemon = subprocess.Popen(
                [
                    dockerd,
                    "--iptables=false",
                    "--ip6tables=false",
                    "--ip-masq=false",
                    "--bridge=none",
                    f"--data-root={DATA_ROOT}",
                    f"--exec-root={run_dir / 'exec'}",
                    f"--pidfile={run_dir / 'dockerd.pid'}",
                    f"--host={eng.host}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 60
            while not eng.answers():
                if daemon.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace").splitlines()[-5:]
                    raise Unavailable("dockerd did not start: " + " | ".join(tail))
                time.sleep(0.5)
            yield eng
        finally:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(10)
            _unmount_below(run_dir)
            shutil.rmtree(run_dir, ignore_errors=True)


def _unmount_below(folder: Path) -> None:
    """Unmount what dockerd left mounted under ``folder`` (its network namespace file)."""
    mounts = Path("/proc/mounts").read_text(errors="replace").splitlines()
    targets = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for target in sorted((t for t in targets if t.startswith(f"{folder}/")), reverse=True):
        subprocess.run(["umount", "-l", target], check=False, capture_output=True, timeout=30)


def debian_mirror() -> str:
    """The Debian mirror apt uses here for the suite (not the security archive)."""
    if mirror := os.environ.get("BACKUP_FIX_DEBIAN_MIRROR"):
        return mirror
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")) if sources.is_dir() else []:
        for stanza in path.read_text(errors="replace").split("\n\n"):
            fields = dict(re.findall(r"(?m)^(\w[\w-]*):\s*(.+)$", stanza))
            if SUITE in fields.get("Suites", "").split():
                return fields.get("URIs", DEFAULT_MIRROR).split()[0]
    legacy = Path("/etc/apt/sources.list")
    text = legacy.read_text(errors="replace") if legacy.is_file() else ""
    found = re.search(rf"(?m)^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+{SUITE}\s", text)
    return found[1] if found else DEFAULT_MIRROR


def base_tarball() -> Path:
    """A root file system of Debian with python3, bootstrapped now or taken from the cache."""
    key = hashlib.sha256(f"{SUITE} minbase {','.join(PACKAGES)}".encode()).hexdigest()[:12]
    cache = Path(os.environ.get("BACKUP_FIX_BASE_CACHE", "/var/cache/backup-fix-base"))
    tarball = cache / f"{SUITE}-{key}.tar"
    if tarball.is_file() and time.time() - tarball.stat().st_mtime < BASE_MAX_AGE:
        return tarball
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin")
    if debootstrap is None:
        raise Unavailable("debootstrap is not installed (apt-get install debootstrap)")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        probe = cache / ".writable"
        probe.touch()
        probe.unlink()
    except OSError:  # no cache here: a tarball for this run only
        cache = Path(tempfile.mkdtemp(prefix="bf-base-"))
        tarball = cache / tarball.name
    with tempfile.TemporaryDirectory(prefix="bf-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        argv = [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}"]
        argv += [SUITE, str(root), debian_mirror()]
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise AssertionError(f"debootstrap failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True, timeout=600)
        partial.replace(tarball)
    return tarball


def base_image(eng: Engine) -> str:
    """The image the Dockerfile builds on (``PYTHON_IMAGE``)."""
    if named := os.environ.get("BACKUP_FIX_IMAGE_BASE"):
        return named
    tarball = base_tarball()
    tag = f"backup-fix-base:{tarball.stem}"
    stamp = f"{int(tarball.stat().st_mtime)}"
    seen = eng.run("image", "inspect", "--format", "{{json .Config.Labels}}", tag, check=False)
    labels = (json.loads(seen.stdout) if seen.returncode == 0 else None) or {}
    if labels.get("org.backup-fix.base") != stamp:  # a new tarball: import it again
        eng.run("import", "--change", f"LABEL org.backup-fix.base={stamp}", str(tarball), tag,
                timeout=600)  # fmt: skip
    return tag


def pip_files(folder: Path) -> None:
    """``pip.conf`` (and ``pip-ca.pem``) in ``folder``: this machine's pip index and CA bundle.

    Only what reaches past this machine goes in: an http(s) index and the CA file; local
    ``file://`` indexes, find-links and constraints mean nothing inside the build.
    """
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    config = {
        key.split(".", 1)[1]: value
        for key, value in re.findall(r"(?m)^(\S+?)='(.*)'$", listed.stdout)
        if "." in key
    }
    lines = ["[global]"]
    index = os.environ.get("PIP_INDEX_URL") or config.get("index-url", "")
    if index.startswith(("https://", "http://")):
        lines.append(f"index-url = {index}")
    ca = os.environ.get("PIP_CERT") or config.get("cert") or os.environ.get("REQUESTS_CA_BUNDLE")
    if ca and Path(ca).is_file():
        lines.append("cert = /etc/pip-ca.pem")
        shutil.copyfile(ca, folder / "pip-ca.pem")
    else:
        (folder / "pip-ca.pem").write_text("", encoding="utf-8")
    (folder / "pip.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")


def build_base(eng: Engine, base: str) -> str:
    """``base`` plus this machine's pip configuration: the build stage's image (BUILD_IMAGE).

    The runtime stage starts from ``base`` itself, so neither file reaches the product image.
    """
    tag = f"backup-fix-build-base:{base.rsplit(':', 1)[-1]}"
    with tempfile.TemporaryDirectory(prefix="bf-build-base-") as tmp:
        folder = Path(tmp)
        pip_files(folder)
        dockerfile = f"FROM {base}\nCOPY pip.conf pip-ca.pem /etc/\n"
        (folder / "Dockerfile").write_text(dockerfile, encoding="utf-8")
        eng.run("build", "--network", "none", "-t", tag, str(folder), timeout=600)
    return tag


def build_context() -> Path:
    """The checkout, or the folder ``BACKUP_FIX_IMAGE_CONTEXT`` names (a clean export)."""
    return Path(os.environ.get("BACKUP_FIX_IMAGE_CONTEXT") or REPO)


def build(eng: Engine, tag: str, *, base: str) -> str:
    """``docker build`` of deploy/Dockerfile on ``base``; the build's log."""
    context = build_context()
    done = eng.run(
        "build", "--network", "host", "--progress", "plain",
        "-f", str(context / "deploy" / "Dockerfile"),
        "--build-arg", f"PYTHON_IMAGE={base}",
        "--build-arg", f"BUILD_IMAGE={build_base(eng, base)}",
        "-t", tag, str(context),
        timeout=1800,
    )  # fmt: skip
    return done.stdout + done.stderr


def image_size(eng: Engine, tag: str) -> int:
    """The image's size in bytes, as ``docker images`` counts it."""
    return int(eng.run("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the container binds it on the host's network)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(eng: Engine, container: str) -> str:
    """Docker's health status of ``container`` (starting, healthy, unhealthy)."""
    done = eng.run("inspect", "--format", "{{.State.Health.Status}}", container, check=False)
    return done.stdout.strip()


def wait_healthy(eng: Engine, container: str, *, timeout: float = 90) -> float:
    """Seconds until Docker ran the image's HEALTHCHECK with success; raises on unhealthy."""
    start = time.monotonic()
    while (status := health(eng, container)) != "healthy":
        if status == "unhealthy" or time.monotonic() - start > timeout:
            logs = eng.run("logs", container, check=False)
            raise AssertionError(f"container {status or 'gone'}:\n{logs.stdout}\n{logs.stderr}")
        time.sleep(0.1)
    return time.monotonic() - start
