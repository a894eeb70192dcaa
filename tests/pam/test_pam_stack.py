"""Logins through the real PAM stack: pam_tesserad.so in a service file under /etc/pam.d,
driven by pamtester (answers on stdin, one per prompt) and python-pam, against a real
tesserad on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pam
import pytest

from tests.helpers import require
from tests.pam.conftest import Build, PamServer, PamServices

PAM_SUCCESS, PAM_SERVICE_ERR, PAM_AUTH_ERR, PAM_AUTHINFO_UNAVAIL, PAM_AUTHTOK_RECOVERY_ERR = 0, 3, 7, 9, 21
UNIX_FIRST = "auth optional pam_unix.so nodelay"  # prompts "Password: " and leaves it on the stack


def module_line(build: Build, server: PamServer | Path, *options: str, asan: bool = False) -> str:
    sock = server.socket if isinstance(server, PamServer) else server
    path = build.asan_module if asan else build.module
    return " ".join(["auth required", str(path), f"socket={sock}", "timeout=10", *options])


def pamtester(service: str, user: str, answers: list[str], *items: str,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = ["pamtester", "-v"] + [arg for item in items for arg in ("-I", item)] + [service, user, "authenticate"]
    return subprocess.run(command, input="".join(a + "\n" for a in answers), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60, env=env)


def python_pam(service: str, user: str, password: str) -> pam.PamAuthenticator:
    authenticator = pam.PamAuthenticator()
    authenticator.authenticate(user, password, service=service)
    return authenticator


@pytest.fixture(autouse=True)
def tools() -> None:
    require(shutil.which("pamtester") is not None, "pamtester is not installed (scripts/install-test-deps.sh)")


def test_pin_and_otp_accept_wrong_and_replayed_reject(server: PamServer, build: Build,
                                                       services: PamServices) -> None:
    service = services.install(module_line(build, server, "[prompt=PIN and OTP: ]", "debug"))
    otp = server.otp("alice")
    accepted = pamtester(service, "alice", ["1234" + otp], "rhost=192.0.2.7", "tty=pts/3")
    assert accepted.returncode == 0 and "successfully authenticated" in accepted.stdout, accepted
    assert "PIN and OTP: " in accepted.stdout
    replayed = pamtester(service, "alice", ["1234" + otp], "rhost=192.0.2.7")
    assert replayed.returncode == 1 and "Authentication failure" in replayed.stdout, replayed
    wrong = pamtester(service, "alice", ["1234000000"], "rhost=ssh.example.org")
    assert wrong.returncode == 1 and "Authentication failure" in wrong.stdout, wrong

    rows = [row for row in server.audit() if row.action == "PAM authenticate"][-3:]
    assert [(r.authentication, r.user, r.serial) for r in rows] == [
        ("ACCEPT", "alice", "PAM1"), ("REJECT", "alice", "PAM1"), ("REJECT", "alice", "PAM1")]
    host = socket.gethostname()
    assert (rows[0].client, rows[0].action_detail) == ("192.0.2.7", f"{host} service={service} tty=pts/3")
    assert (rows[2].client, rows[2].action_detail) == ("", f"{host} service={service} rhost=ssh.example.org")
    assert "1234" + otp not in server.daemon.stderr


def test_challenge_response_over_two_prompts(server: PamServer, build: Build, services: PamServices) -> None:
    service = services.install(module_line(build, server))
    answered = pamtester(service, "carol", ["5678", server.otp("carol")])
    assert answered.returncode == 0, answered
    prompts = answered.stdout
    assert prompts.index("Password: ") < prompts.index("please enter otp: ")
    wrong = pamtester(service, "carol", ["5678", "000000"])
    assert wrong.returncode == 1 and "please enter otp: " in wrong.stdout, wrong
    assert [r.authentication for r in server.audit()[-4:]] == ["CHALLENGE", "ACCEPT", "CHALLENGE", "REJECT"]


def test_python_pam_accept_reject_and_unknown_option(server: PamServer, build: Build,
                                                     services: PamServices) -> None:
    service = services.install(module_line(build, server))
    otp = server.otp("bob")
    ok = python_pam(service, "bob", "1234" + otp)
    assert (ok.code, ok.messages) == (PAM_SUCCESS, ["Password: "])
    assert python_pam(service, "bob", "1234" + otp).code == PAM_AUTH_ERR
    assert python_pam(service, "nobody", "1234" + RFC_VALUE).code == PAM_AUTH_ERR
    # Fails closed: an option the module does not offer is not ignored.
    nullok = services.install(module_line(build, server, "nullok"))
    assert python_pam(nullok, "bob", "1234" + server.otp("bob")).code == PAM_SERVICE_ERR


RFC_VALUE = "755224"


def test_try_first_pass_with_and_without_a_stack_password(server: PamServer, build: Build,
                                                          services: PamServices) -> None:
    stacked = services.install(UNIX_FIRST, module_line(build, server, "try_first_pass"))
    # pam_unix asks once; the module takes that password from the stack and asks nothing.
    ok = python_pam(stacked, "alice", "1234" + server.otp("alice"))
    assert (ok.code, ok.messages) == (PAM_SUCCESS, ["Password: "])
    # The stack password is not PIN + OTP: rejected, the module asks for its own.
    asked = pamtester(stacked, "alice", ["unix-password", "1234" + server.otp("alice")])
    assert asked.returncode == 0, asked
    assert (asked.stdout).count("Password: ") == 2
    # Without a stack password try_first_pass prompts.
    alone = services.install(module_line(build, server, "try_first_pass"))
    prompted = python_pam(alone, "alice", "1234" + server.otp("alice"))
    assert (prompted.code, prompted.messages) == (PAM_SUCCESS, ["Password: "])
    # use_first_pass never prompts: without a stack password there is nothing to send.
    strict = services.install(module_line(build, server, "use_first_pass"))
    refused = python_pam(strict, "alice", "1234" + server.otp("alice"))
    assert (refused.code, refused.messages) == (PAM_AUTHTOK_RECOVERY_ERR, [])
    server.used["alice"] -= 1  # that value never reached the daemon


def test_daemon_unreachable_is_authinfo_unavail(build: Build, services: PamServices, tmp_path: Path) -> None:
    missing = services.install(module_line(build, tmp_path / "absent.sock"))
    assert python_pam(missing, "alice", "1234" + RFC_VALUE).code == PAM_AUTHINFO_UNAVAIL
    # A socket file that nobody listens on any more: the daemon was killed.
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(stale))
    down = services.install(module_line(build, stale))
    result = pamtester(down, "alice", ["1234" + RFC_VALUE])
    assert result.returncode == 1 and "cannot retrieve authentication info" in result.stdout, result


def test_asan_build_on_every_path(server: PamServer, build: Build, services: PamServices, tmp_path: Path) -> None:
    """The AddressSanitizer (and UBSan) build through accept, reject, two-prompt challenge,
    try_first_pass and an unreachable daemon: no report, and the same answers."""
    runtime = subprocess.run(["cc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    require(Path(runtime).is_file(), "the compiler's AddressSanitizer runtime (libasan) is missing")
    env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": runtime, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1"}
    service = services.install(UNIX_FIRST, module_line(build, server, "try_first_pass", "debug", asan=True))
    down = services.install(module_line(build, tmp_path / "absent.sock", asan=True))
    otp = server.otp("alice")
    runs = [(service, "alice", ["1234" + otp], 0), (service, "alice", ["1234" + otp, "1234" + otp], 1),
            (service, "carol", ["5678", server.otp("carol")], 0), (down, "alice", ["1234" + otp], 1)]
    for name, user, answers, status in runs:
        result = pamtester(name, user, answers, env=env)
        assert "Sanitizer" not in result.stdout and "runtime error" not in result.stdout, result.stdout
        assert result.returncode == status, result.stdout


def test_module_links_only_libpam_and_libc_with_full_relro(build: Build) -> None:
    dynamic = subprocess.run(["readelf", "-d", "-W", str(build.module)], capture_output=True, text=True).stdout
    needed = {line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line}
    assert needed == {"libpam.so.0", "libc.so.6"}
    assert "BIND_NOW" in dynamic
    headers = subprocess.run(["readelf", "-l", "-W", str(build.module)], capture_output=True, text=True).stdout
    assert "GNU_RELRO" in headers
    [stack] = [line.split() for line in headers.splitlines() if "GNU_STACK" in line]
    assert stack[-2] == "RW"  # not executable
