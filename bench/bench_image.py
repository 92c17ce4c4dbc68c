"""The production image: its size and how long a container takes from ``docker run`` to healthy.

Run (root, or with a Docker engine that answers): ``python -m bench.bench_image [--runs N]``.
Builds deploy/Dockerfile the way tests/test_image.py does (same engine, same bootstrapped Debian
base, pip's index and CA as build secrets), then starts the image N times against a fake Slack
on 127.0.0.1 and times, per start: the Slack port's first answer, the first 200 from ``/healthz``
on the probe port, and Docker's own health status turning ``healthy`` (the image's HEALTHCHECK
command, asked every second). Prints Markdown for BENCHMARKS.md and exits 0 either way.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time

from tests import image_engine
from tests.fakes.slack_api import FakeSlack

TAG = "backup-fix:bench"
TARGET_HEALTHY_S = 10.0  # Container Apps' startup probe above allows 60 s (2 s x 30)
TARGET_SIZE_MB = 400.0


def first_answer(port: int, deadline: float, *, ok_only: bool) -> float | None:
    """Poll ``/healthz`` on ``port`` every 20 ms; the monotonic time of the first answer (with
    ``ok_only``, the first 200: the Slack port answers it 404 once it listens)."""
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200 or not ok_only:
                return time.monotonic()
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.02)
    return None


def one_start(eng: image_engine.Engine, api_url: str, n: int) -> dict[str, float]:
    """Start the image once; seconds from ``docker run`` to listening, 200, healthy."""
    main, probe = image_engine.free_port(), image_engine.free_port()
    name = f"backup-fix-bench-{os.getpid()}-{n}"
    argv = [eng.client, "run", "--detach", "--name", name, "--network", "host", "--read-only",
            "--tmpfs", "/tmp:rw,size=64m",  # noqa: S108 (the container's own /tmp)
            "--cap-drop", "ALL", "--health-interval", "1s",
            "-e", "SLACK_BOT_TOKEN=xoxb-bench", "-e", "SLACK_SIGNING_SECRET=bench",
            "-e", f"SLACK_API_URL={api_url}", "-e", f"BACKUP_FIX_PROBE_PORT={probe}",
            TAG, "serve", "--http", "--host", "127.0.0.1", "--port", str(main)]  # fmt: skip
    start = time.monotonic()
    try:
        subprocess.run(argv, env=eng.env(), check=True, capture_output=True, timeout=60)
        listening = first_answer(main, start + 60, ok_only=False)
        ok = first_answer(probe, start + 60, ok_only=True)
        image_engine.wait_healthy(eng, name)
        healthy = time.monotonic()  # Docker's status, read every 0.1 s
        got = {"listening": listening, "200": ok, "healthy": healthy}
        return {k: (v - start if v is not None else float("nan")) for k, v in got.items()}
    finally:
        eng.run("rm", "--force", name, check=False)


def main() -> int:
    """Build, measure, print the Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="container starts to time")
    args = parser.parse_args()
    try:
        with image_engine.engine() as eng:
            base = image_engine.base_image(eng)
            started = time.monotonic()
            image_engine.build(eng, TAG, base=base)
            build_s = time.monotonic() - started
            size_mb = image_engine.image_size(eng, TAG) / 1e6
            base_mb = image_engine.image_size(eng, base) / 1e6
            with FakeSlack() as fake:
                runs = [one_start(eng, fake.api_url, n) for n in range(args.runs)]
            version = eng.run("version", "--format", "{{.Server.Version}}").stdout.strip()
    except image_engine.Unavailable as exc:
        print(f"image benchmark not run: {exc}", file=sys.stderr)
        return 0

    def p50(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def worst(key: str) -> float:
        return max(r[key] for r in runs)

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    print(f"Docker {version}, base `{base}` ({base_mb:.0f} MB), {args.runs} starts, "
          f"build {build_s:.0f} s (layers cached from earlier builds count)\n")  # fmt: skip
    print("| figure | p50 | worst | target |")
    print("|---|---|---|---|")
    print(f"| image size | {size_mb:.0f} MB | | <= {TARGET_SIZE_MB:.0f} MB: "
          f"{verdict(size_mb <= TARGET_SIZE_MB)} |")  # fmt: skip
    print(f"| `docker run` to the Slack port answering | {p50('listening'):.2f} s | "
          f"{worst('listening'):.2f} s | |")  # fmt: skip
    print(f"| `docker run` to first 200 from `/healthz` (probe port) | {p50('200'):.2f} s | "
          f"{worst('200'):.2f} s | <= {TARGET_HEALTHY_S:.0f} s: "
          f"{verdict(p50('200') <= TARGET_HEALTHY_S)} |")  # fmt: skip
    print(f"| `docker run` to Docker's `healthy` (HEALTHCHECK every 1 s) | "
          f"{p50('healthy'):.2f} s | {worst('healthy'):.2f} s | |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
