"""A TCP server that accepts connections and never answers: the hung directory of
privacyIDEA issues #505 and #549 (an LDAP server whose process is stuck, or a firewall
that lets the handshake through and drops the rest)."""

from __future__ import annotations

import socket
import threading


class HungServer:
    """Accepts on a free loopback port, reads whatever comes and never writes."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self._accepted = threading.Condition()
        self.connections = 0
        self._held: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="hung-ldap").start()

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._accepted:
                self._held.append(conn)
                self.connections += 1
                self._accepted.notify_all()
            threading.Thread(target=self._swallow, args=(conn,), daemon=True).start()

    @staticmethod
    def _swallow(conn: socket.socket) -> None:
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass

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
