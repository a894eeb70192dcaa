"""The PAM socket of a supervised daemon: bound once by the supervisor, accepted on by
every worker; a stale socket file from a killed daemon does not stop the start, and the
socket file keeps its mode and gets pam.allowed_group."""

from __future__ import annotations

import grp
import socket
from pathlib import Path

import pam

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, write_config
from tests.pam.conftest import TOKENS, Build, PamServices, needs_root
from tests.pam.test_pam_stack import PAM_SUCCESS, module_line
from tests.provision import provision
from tests.wired import PASSWD, RFC4226


def test_two_workers_serve_the_socket_with_its_group(tmp_path: Path, socket_dir: Path, build: Build,
                                                     services: PamServices) -> None:
    needs_root()
    group = grp.getgrnam("daemon")
    sock = socket_dir / "pam.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as killed:
        killed.bind(str(sock))  # left behind, as by a daemon that was killed
    data = daemon_config(tmp_path, server={"workers": 2}, pam={
        "listen": [f"unix:{sock}:mode=660"], "allowed_group": group.gr_name})
    config = write_config(tmp_path, data)
    (tmp_path / "passwd").write_text(PASSWD)
    provision(config, tmp_path / "passwd", TOKENS)
    daemon = DaemonProcess(tmp_path / "run", config).start(timeout=120)  # three processes start
    try:
        assert sock.stat().st_gid == group.gr_gid and sock.stat().st_mode & 0o777 == 0o660
        service = services.install(module_line(build, sock))
        codes = []
        for value in RFC4226[:4]:  # enough logins that both workers are likely to take some
            authenticator = pam.PamAuthenticator()
            authenticator.authenticate("alice", "1234" + value, service=service)
            codes.append(authenticator.code)
        assert codes == [PAM_SUCCESS] * 4
    finally:
        assert daemon.stop() == 0
        daemon.close()
    assert "Traceback" not in daemon.stderr and "Unhandled" not in daemon.stderr, daemon.stderr
