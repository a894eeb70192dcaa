#!/usr/bin/env python3
"""How fast the outbox drains: emails/s from a tesserad to a local SMTP server (aiosmtpd).

It provisions a throw-away store with one SMTP server definition pointing at an aiosmtpd
sink on loopback, queues ``--count`` messages (as email challenges do, payload encrypted),
starts the daemon and measures from its READY until the sink holds every message; then it
checks that each message arrived exactly once. Not part of the test suite.

    .venv/bin/python bench/outbox_load.py                         # 2000 mails, 1 worker
    .venv/bin/python bench/outbox_load.py --workers 2 --concurrency 20
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tesserad.core import smtp_servers  # noqa: E402
from tesserad.core.context import Context  # noqa: E402
from tesserad.daemon import config as configuration  # noqa: E402

from tests.daemon_process import DaemonProcess  # noqa: E402
from tests.helpers import daemon_config, write_config  # noqa: E402
from tests.outbox.smtp_sink import Sink  # noqa: E402
from tests.provision import provision  # noqa: E402


def queue(config: Path, port: int, count: int) -> None:
    ctx = Context.open(configuration.load(str(config), env={}))
    try:
        with ctx.database.session() as session:
            smtp_servers.save(session, ctx.keys.security, "bench", server="127.0.0.1", port=port,
                              sender="otp@example.org", username="", password=None, tls=False, implicit_tls=False,
                              timeout=10, enqueue_job=False, description="")
            for n in range(count):
                ctx.outbox.enqueue(session, "smtp:bench", f"user{n}@example.org",
                                   {"subject": "Your OTP", "body": f"{n:06d}", "mime": "text/plain"})
                if n % 500 == 499:
                    session.commit()
            session.commit()
    finally:
        ctx.close()


def process_cpu(daemon: DaemonProcess) -> float:
    """CPU seconds of the daemon and its worker processes so far."""
    assert daemon.proc is not None
    pids = [daemon.proc.pid, *(int(p) for p in Path(f"/proc/{daemon.proc.pid}/task/{daemon.proc.pid}/children")
                                .read_text().split())]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=50, help="outbox.concurrency (the shipped default)")
    parser.add_argument("--batch", type=int, default=100, help="outbox.batch (the shipped default)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outbox-bench-") as tmp:
        work = Path(tmp)
        with Sink(work) as sink:
            data = daemon_config(work, server={"workers": args.workers, "threads": args.threads},
                                 outbox={"concurrency": args.concurrency, "batch": args.batch,
                                         "poll_interval_ms": 100},
                                 **({"database": {"url": args.database_url}} if args.database_url else {}))
            config = write_config(work, data)
            (work / "passwd").write_text("")
            provision(config, work / "passwd", [])
            queue(config, sink.port, args.count)
            daemon = DaemonProcess(work / "run", config)
            started = time.monotonic()
            daemon.start()
            ready = time.monotonic()
            try:
                while len(sink.received) < args.count and time.monotonic() - ready < 600:
                    time.sleep(0.05)
                done = time.monotonic()
                cpu = process_cpu(daemon)
            finally:
                daemon.stop()
                daemon.close()
            got = len(sink.received)
            twice = sum(1 for n in Counter(m.recipients[0] for m in sink.received).values() if n > 1)
            print(f"{got} of {args.count} mails in {done - ready:.2f} s after READY "
                  f"(start {ready - started:.2f} s): {got / (done - ready):.0f} emails/s; "
                  f"{twice} recipients got a mail twice; daemon CPU {cpu * 1000 / max(got, 1):.2f} ms per mail "
                  f"(with start-up; the sink runs in this process)")


if __name__ == "__main__":
    main()
