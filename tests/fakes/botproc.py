"""Run the real ``backup-fix serve`` as a subprocess, the way an operator would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"listening on (http://\S+)")


def command() -> list[str]:
    """The console script next to this interpreter, else ``python -m bot``."""
    script = Path(sys.executable).with_name("backup-fix")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def environment(env: dict[str, str]) -> dict[str, str]:
    """The parent's environment without Slack/bot settings, plus ``env``."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "BACKUP_FIX_", "AZURE_", "PYTEST_"))
    }
    base["PYTHONUNBUFFERED"] = "1"
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    base.update(env)
    return base


class BotProcess:
    """One ``backup-fix`` process: started, waited for, stopped with SIGTERM."""

    def __init__(self, env: dict[str, str], args: tuple[str, ...] | None = None) -> None:
        self.args = args or ("serve", "--http", "--host", "127.0.0.1", "--port", "0")
        self.env = env
        self.url = ""
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._cond = threading.Condition()
        self.proc: subprocess.Popen[str] | None = None
        self._pumps: list[threading.Thread] = []

    def start(self, *, wait_listening: bool = True, timeout: float = 30.0) -> BotProcess:
        """Start; unless told otherwise, wait for ``listening on http://HOST:PORT``."""
        self.proc = subprocess.Popen(
            [*command(), *self.args],
            env=environment(self.env),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, into), daemon=True)
            for stream, into in ((self.proc.stdout, self._stdout), (self.proc.stderr, self._stderr))
        ]
        for pump in self._pumps:
            pump.start()
        if wait_listening:
            self.url = self._wait_listening(timeout)
        return self

    def _pump(self, stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._cond:
                into.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _wait_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._stdout:
                    first = self._stdout[0]
                    found = _LISTENING.fullmatch(first.strip())
                    if not found:
                        raise AssertionError(f"first stdout line is not 'listening on': {first!r}")
                    return found.group(1)
                if not self.alive():
                    raise AssertionError(f"bot exited early:\n{self.stderr}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no 'listening on' line in {timeout}s:\n{self.stderr}")
                self._cond.wait(min(left, 0.2))

    def wait_stderr(self, pattern: str, *, after: int = 0, timeout: float = 10.0) -> str:
        """Block until a stderr line from index ``after`` on matches ``pattern``; that line."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._stderr[after:]:
                    if regex.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no stderr line matching {pattern!r}:\n{self.stderr}")
                self._cond.wait(left)

    @property
    def stderr(self) -> str:
        """Everything the process wrote to stderr so far."""
        with self._cond:
            return "\n".join(self._stderr)

    @property
    def stderr_lines(self) -> int:
        """How many stderr lines arrived so far (a mark for ``wait_stderr(after=...)``)."""
        with self._cond:
            return len(self._stderr)

    @property
    def stdout(self) -> str:
        """Everything the process wrote to stdout so far."""
        with self._cond:
            return "\n".join(self._stdout)

    def alive(self) -> bool:
        """The process is still running."""
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the process to exit on its own; its exit code."""
        assert self.proc is not None
        code = self.proc.wait(timeout)
        self._drain()
        return code

    def _drain(self) -> None:
        # The pipes' last lines arrive after the exit; read them before anyone asserts on them.
        for pump in self._pumps:
            pump.join(5)
        assert self.proc is not None
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout``; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._drain()
        return self.proc.returncode


def run_to_exit(
    env: dict[str, str], args: tuple[str, ...], timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run ``backup-fix <args>`` to completion (for start-up failures)."""
    return subprocess.run(
        [*command(), *args],
        env=environment(env),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
