"""A policy stored by an earlier version with actions tesserad does not enforce is named at
daemon start, one warning line per policy without values, and the daemon starts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from tesserad.core.store import Database
from tesserad.core.store.models import Policy
from tesserad.daemon import config as configuration

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, write_config
from tests.provision import provision


def test_the_daemon_names_stored_policies_with_unsupported_actions(tmp_path: Path) -> None:
    config = write_config(tmp_path, daemon_config(tmp_path))
    (tmp_path / "passwd").write_text("")
    provision(config, tmp_path / "passwd", [], policies={
        "legacy": {"scope": "authentication", "action": "otppin=userstore"},
        "fine": {"scope": "admin", "action": "tokenlist"}})
    database = Database(configuration.load(str(config), env={}).database.url)
    try:
        with database.session() as session:
            session.execute(update(Policy).where(Policy.name == "legacy").values(
                action="otppin=userstore, u2f_challenge_text='Qz7-text <otp>', u2f_facets='Rd4-mail'"))
            session.commit()
    finally:
        database.dispose()
    daemon = DaemonProcess(tmp_path / "run", config).start()
    try:
        assert daemon.stop() == 0
    finally:
        daemon.close()
    output = daemon.stdout + daemon.stderr
    lines = [line for line in output.splitlines() if "does not enforce" in line]
    assert len(lines) == 1, output
    assert "policy 'legacy' (authentication) has actions tesserad does not enforce yet, which are ignored: " \
           "u2f_challenge_text, u2f_facets" in lines[0]
    assert "Qz7-text" not in output and "Rd4-mail" not in output and "'fine'" not in output
