"""Run ``tesserad`` as a real process and follow it through sd_notify, as systemd would.

Readiness, reload and stop are observed on a NOTIFY_SOCKET datagram socket, so tests
wait for the daemon's own word instead of sleeping.
"""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.helpers import BIN, clean_env


class DaemonFailed(AssertionError):
    pass


class DaemonProcess:
    def __init__(self, workdir: Path, config: Path | None = None, *, cwd: Path | None = None,
                 env: dict[str, str] | None = None):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.cwd = cwd or workdir
        self.notify_path = workdir / f"notify-{time.monotonic_ns()}.sock"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.env = clean_env(NOTIFY_SOCKET=str(self.notify_path), **(env or {}))
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True, timeout: float = 30) -> DaemonProcess:
        command = [str(BIN / "tesserad")] + (["--config", str(self.config)] if self.config else [])
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=self.cwd, env=self.env)
        if wait:
            self.expect("READY=1", timeout)
        return self

    def expect(self, state: str, timeout: float = 30) -> str:
        """Wait for a notification containing ``state``; fail early if the process dies."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.notify], [], [], 0.2)
            if readable:
                message = self.notify.recv(4096).decode()
                if state in message.split("\n"):
                    return message
            elif self.proc.poll() is not None:
                raise DaemonFailed(f"tesserad exited with {self.proc.returncode} before {state}:\n{self.stderr}")
        raise DaemonFailed(f"no {state} within {timeout}s:\n{self.stderr}")

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 20) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 20) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        self.notify_path.unlink(missing_ok=True)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()
