from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread

from tests.ldap.slapd import CertAuthority, make_ca
from tests.sms.sink import Sink, http_sink


class ReactorThread:
    """The global reactor, run in a thread for the session, so tests drive real sockets
    and processes through it and wait for the Deferreds it fires."""

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return blockingCallFromThread(reactor, fn, *args, **kwargs)


@pytest.fixture(scope="session")
def running_reactor() -> Iterator[ReactorThread]:
    thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True)
    thread.start()
    yield ReactorThread()
    reactor.callFromThread(reactor.stop)  # type: ignore[attr-defined]
    thread.join(10)


@pytest.fixture
def sink() -> Iterator[Sink]:
    with http_sink() as started:
        yield started


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def tls_sink(test_ca: CertAuthority) -> Iterator[Sink]:
    with http_sink((test_ca.cert_file, test_ca.key_file)) as started:
        yield started


@pytest.fixture
def script_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "scripts"
    directory.mkdir()
    return directory
