"""Socket activation as tesserad.socket does it: systemd binds the port and execs tesserad
with the socket as descriptor 3 and LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID set. The test does
the same (LISTEN_PID must be tesserad's own pid, hence the exec from a small launcher)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.daemon_process import DaemonProcess
from tests.helpers import BIN, daemon_config, write_config

# What systemd does between fork and exec for a socket unit with FileDescriptorName=web.
LAUNCHER = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.environ['LISTEN_PID'] = str(os.getpid()); "
            "os.execv(sys.argv[2], sys.argv[2:])")


class ActivatedDaemon(DaemonProcess):
    """tesserad started on an inherited listening socket named ``web``."""

    def start_activated(self, listener: socket.socket) -> None:
        command = [sys.executable, "-c", LAUNCHER, str(listener.fileno()), str(BIN / "tesserad"),
                   "--config", str(self.config)]
        env = {**self.env, "LISTEN_FDS": "1", "LISTEN_FDNAMES": "web"}
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=self.cwd, env=env,
                                         pass_fds=[listener.fileno()])


@pytest.mark.parametrize("workers", [1, 2])
def test_web_listener_from_an_inherited_socket(tmp_path: Path, workers: int) -> None:
    """With workers, the supervisor takes the socket from systemd and hands it on."""
    config = write_config(tmp_path, daemon_config(tmp_path, web={"listen": ["systemd:domain=INET:name=web"]},
                                                  server={"workers": workers}))
    daemon = ActivatedDaemon(tmp_path / "run", config)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        try:
            daemon.start_activated(listener)
            daemon.expect("READY=1")
            listener.close()  # from now on only tesserad holds the socket
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as reply:
                assert reply.status == 200
                assert json.load(reply)["database"] == {"reachable": True}
            assert f"port={port}" in daemon.stdout + daemon.stderr
            assert daemon.stop() == 0
        finally:
            daemon.close()


def test_a_socket_systemd_did_not_pass_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, daemon_config(tmp_path, web={"listen": ["systemd:domain=INET:index=5"]}))
    daemon = DaemonProcess(tmp_path / "run", config)
    try:
        daemon.start(wait=False)
        assert daemon.wait() == 2
        assert "web.listen[0]: bad endpoint 'systemd:domain=INET:index=5'" in daemon.stderr
        assert "Traceback" not in daemon.stderr
    finally:
        daemon.close()
