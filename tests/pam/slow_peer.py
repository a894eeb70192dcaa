"""A local user that tries to hold the PAM socket: run by the tests as a child process under
another uid (so SO_PEERCRED sees that uid), with only the standard library.

``python3 slow_peer.py SOCKET COUNT`` opens COUNT connections one after the other. On each
it sends a request for an unknown user and reads the answer: ``reject`` means the daemon
admitted the connection, which then starts the next frame with one byte and holds it;
anything else (the daemon's refusal) is reported and that connection closed. It prints
the answers as one JSON line, waits for a line on stdin, and prints as JSON which held
connections the daemon still keeps open.
"""

import json
import socket
import struct
import sys

REQUEST = b"v=1\0op=auth\0user=slow-peer\0password=x\0"
HEADER = struct.Struct(">I")


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed by the daemon")
        data += chunk
    return data


def answer(sock: socket.socket) -> str:
    """The reply's result, with the message when it is not a reject."""
    (length,) = HEADER.unpack(read_exactly(sock, HEADER.size))
    fields = dict(field.split("=", 1) for field in read_exactly(sock, length).decode().split("\0") if field)
    return fields["result"] if fields["result"] == "reject" else f"{fields['result']}: {fields['message']}"


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main(path: str, count: int) -> None:
    held, answers = [], []
    for _ in range(count):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(20)
        sock.connect(path)
        try:
            sock.sendall(HEADER.pack(len(REQUEST)) + REQUEST)
        except OSError:
            pass  # refused and closed already: the refusal waits to be read
        answers.append(answer(sock))
        if answers[-1] == "reject":
            sock.sendall(HEADER.pack(len(REQUEST))[:1])  # a slow peer: the next frame's first byte
            held.append(sock)
        else:
            sock.close()
    print(json.dumps(answers), flush=True)
    sys.stdin.readline()
    print(json.dumps([still_open(sock) for sock in held]), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
