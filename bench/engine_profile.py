#!/usr/bin/env python3
"""CPU cost of one PIN+HOTP login in the core, without HTTP: AuthService.authenticate in one thread.

It provisions a throw-away store (flat-file realm, one HOTP token per user, PINs stored the
chosen way), warms the caches, then logs the users in round-robin with their next OTP values
and reports process CPU per successful login: the best of several runs (the one least
disturbed by other processes on the machine) and the median. The HTTP path
(bench/validate_load.py) adds the edge's cost on top. With --profile it repeats the run
under cProfile and prints the listing. Not part of the test suite.

    .venv/bin/python bench/engine_profile.py            # ms CPU per login
    .venv/bin/python bench/engine_profile.py -p         # plus a cProfile listing
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tesserad.core.auth.request import AuthRequest  # noqa: E402
from tesserad.core.context import Context  # noqa: E402
from tesserad.core.tokens.oath import hotp  # noqa: E402
from tesserad.daemon import config as configuration  # noqa: E402

from tests.helpers import daemon_config, write_config  # noqa: E402
from tests.provision import provision  # noqa: E402

SEED = bytes(range(20))
PIN = "4711"


class Logins:
    """Round-robin logins of ``users`` users, each with its next HOTP value."""

    def __init__(self, context: Context, users: int):
        self.context = context
        self.counters = [0] * users

    def run(self, count: int) -> None:
        for k in range(count):
            user = k % len(self.counters)
            result = self.context.auth.authenticate(
                AuthRequest(password=PIN + hotp(SEED, self.counters[user]), user=f"user{user}"))
            self.counters[user] += 1
            if not result.accepted:
                raise SystemExit(f"login of user{user} failed: {result.message}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=64, help="users, one HOTP token each")
    p.add_argument("--count", type=int, default=2000, help="timed logins")
    p.add_argument("--repeat", type=int, default=5,
                   help="timed runs; the best is the least disturbed by other processes")
    p.add_argument("--warmup", type=int, default=200, help="logins before timing (caches, statement cache)")
    p.add_argument("--pin", choices=("encrypted", "argon2"), default="encrypted",
                   help="PIN storage: encrypted (the cheapest check, policy encrypt_pin) or argon2id (test cost)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    p.add_argument("-p", "--profile", action="store_true", help="repeat the timed run under cProfile")
    p.add_argument("--lines", type=int, default=50, help="lines of each cProfile listing")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="tesserad-engine-") as tmp:
        workdir = Path(tmp)
        passwd = workdir / "passwd"
        passwd.write_text("".join(f"user{i}:x:{10000 + i}:100::/:/bin/false\n" for i in range(args.users)))
        data = daemon_config(workdir, log={"level": "warn"})
        if args.database_url:
            data["database"] = {"url": args.database_url}
        config_path = write_config(workdir, data)
        tokens = [{"user": f"user{i}", "type": "hotp", "otpkey": SEED.hex(), "pin": PIN,
                   "encryptpin": "1" if args.pin == "encrypted" else "0"} for i in range(args.users)]
        provision(config_path, passwd, tokens)
        context = Context.open(configuration.load(str(config_path), env={}))
        try:
            logins = Logins(context, args.users)
            logins.run(args.warmup)
            per_login = []
            for _ in range(args.repeat):
                started = time.process_time()
                logins.run(args.count)
                per_login.append(1000 * (time.process_time() - started) / args.count)
            print(f"ms CPU per login: best {min(per_login):.2f}, median {statistics.median(per_login):.2f} "
                  f"({args.repeat} x {args.count} logins, {args.users} users, PIN {args.pin})")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.runcall(logins.run, args.count)
                stats = pstats.Stats(profiler)
                stats.sort_stats("cumulative").print_stats(args.lines)
                stats.sort_stats("tottime").print_stats(args.lines)
        finally:
            context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
