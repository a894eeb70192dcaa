"""Search by OTP in the core (``GET /token/getserial/<otp>`` only parses and renders it):
the first token by serial that generates the value, within the filter, nothing consumed."""

from __future__ import annotations

from tesserad.core.tokens.search import token_of_otp
from tesserad.core.tokens.service import TokenFilter

from tests.wired import RFC4226, RFC_SEED_HEX, Core


def search(core: Core, otp: str, wanted: TokenFilter) -> tuple[str | None, int]:
    with core.database.session() as session:
        token, count = token_of_otp(core.tokens, session, otp, wanted)
        return (token.serial if token else None), count


def test_the_first_token_that_generates_the_value_is_found_and_nothing_moves(core: Core) -> None:
    core.enroll(None, type="hotp", serial="S1", otpkey="00" * 20)
    core.enroll(None, type="hotp", serial="S3", otpkey=RFC_SEED_HEX)
    core.enroll("alice", type="hotp", serial="S2", otpkey=RFC_SEED_HEX)
    core.enroll(None, type="spass", serial="S0", pin=RFC4226[4])  # no OTP value of its own: not tried
    assert search(core, RFC4226[4], TokenFilter()) == ("S2", 4)
    assert search(core, RFC4226[4], TokenFilter(assigned=False)) == ("S3", 3)
    assert search(core, RFC4226[4], TokenFilter(serial="S1")) == (None, 0)
    assert search(core, "000000", TokenFilter()) == (None, 0)
    assert (core.token("S2").count, core.token("S2").failcount) == (0, 0)
    assert core.check(RFC4226[4], user="alice").accepted  # the value is still unused
