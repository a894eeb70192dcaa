"""A TCP server that accepts connections and never answers: the hung directory of
privacyIDEA issues #505 and #549 (an LDAP server whose process is stuck, or a firewall
that lets the handshake through and drops the rest). Given an upstream, it is a relay to a
real server until ``stall``, and again after ``resume``: the directory that hangs and
comes back."""

from __future__ import annotations

import contextlib
import socket
import threading


class HungServer:
    """Accepts on a free loopback port, reads whatever comes and never writes; with
    ``upstream`` (host, port), relays to it while not stalled."""

    def __init__(self, upstream: tuple[str, int] | None = None) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self._upstream = upstream
        self._stalled = upstream is None
        self._accepted = threading.Condition()
        self.connections = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="hung-ldap").start()

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def stall(self) -> None:
        """From now on nothing reaches the upstream and nothing comes back."""
        with self._accepted:
            self._stalled = True

    def resume(self) -> None:
        """Relay again. Connections of the stall are cut: their requests were lost, as a
        restarted server or a reset firewall would lose them."""
        with self._accepted:
            self._stalled = self._upstream is None
            held, self._held = self._held, []
        for conn in held:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._accepted:
                self._held.append(conn)
                self.connections += 1
                stalled = self._stalled
                self._accepted.notify_all()
            if stalled or self._upstream is None:
                threading.Thread(target=self._pump, args=(conn, None), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                conn.close()
                continue
            upstream.settimeout(None)
            with self._accepted:
                self._held.append(upstream)
            for source, target in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket | None) -> None:
        """Copy ``source`` to ``target`` while not stalled; swallow it while stalled."""
        try:
            while data := source.recv(4096):
                if target is not None and not self._stalled:
                    target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            if end is not None:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def wait_for_connections(self, count: int, timeout: float = 10) -> None:
        """Block until ``count`` connections were accepted in total."""
        with self._accepted:
            assert self._accepted.wait_for(lambda: self.connections >= count, timeout), \
                f"{self.connections} of {count} connections within {timeout}s"

    def close(self) -> None:
        self._listener.close()
        with self._accepted:
            held, self._held = self._held, []
        for conn in held:
            conn.close()
