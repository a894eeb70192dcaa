"""Start the packaged tesserad inside a Debian root as its package user, the way systemd
would (Type=notify): wait for READY=1 on a notify socket, check GET /healthz, stop it with
SIGTERM and expect exit status 0.  Usage: chroot-daemon.py ROOT WEB_PORT
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request

TIMEOUT_S = 60


def wait_for(sock: socket.socket, proc: subprocess.Popen[bytes], state: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if select.select([sock], [], [], 0.5)[0]:
            if state in sock.recv(4096).decode().split("\n"):
                return
        elif proc.poll() is not None:
            sys.exit(f"tesserad exited with {proc.returncode} before {state}")
    sys.exit(f"no {state} from tesserad within {TIMEOUT_S} s")


def main(root: str, port: int) -> None:
    # An abstract socket: reachable from inside the chroot, which shares the network namespace.
    name = f"tesserad-package-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind("\0" + name)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET": "@" + name, "LANG": "C.UTF-8"}
        # chroot and setpriv exec: the process is tesserad itself, as under systemd.
        proc = subprocess.Popen(["chroot", root, "setpriv", "--reuid=tesserad", "--regid=tesserad", "--init-groups",
                                 "/usr/bin/tesserad", "--config", "/etc/tesserad/tesserad.toml"], env=env)
        try:
            wait_for(notify, proc, "READY=1")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as reply:
                health = json.load(reply)
            if health.get("status") != "ok" or not health.get("database", {}).get("reachable"):
                sys.exit(f"unhealthy: {health}")
            print(f"tesserad in {root}: ready, /healthz {health}")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=TIMEOUT_S)
    if status != 0:
        sys.exit(f"tesserad exited with {status} after SIGTERM")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
