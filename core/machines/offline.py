"""The ``offline`` machine application: hashed OTP values for a host to log in offline.

When a PIN+OTP login succeeds with an HOTP token attached to the requesting host for
``offline``, the answer carries privacyIDEA's ``auth_items.offline``: passlib
``$pbkdf2-sha512$`` hashes of PIN+OTP (in the order the user types them) for the next
``count`` counters, a new 80-hex-digit ``refilltoken``, the owner and the attachment's
options; the token counter moves past the whole bag with one conditional UPDATE, so those
values are dead online. After an answer to a challenge (PIN, then OTP: privacyIDEA's PAM
module) or an ``otponly`` check the client never sent the PIN, so the bag hashes the OTP
values alone, as privacyIDEA's does; tokeninfo ``offline_otp_only`` records that, and a refill
of such a bag is proven by an OTP value alone. ``/validate/offlinerefill`` proves the use of one bag value (with the
refilltoken) and gets as many new hashes as the host used up.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, selectinload

from tesserad.core.auth.request import AuthRequest, AuthResult
from tesserad.core.machines import pbkdf2
from tesserad.core.machines.service import machines_of_request
from tesserad.core.store.models import MachineToken, Token
from tesserad.core.store.prepared import Prepared
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenClass, TokenEnv, TokenError
from tesserad.core.tokens.record import settle
from tesserad.core.tokens.registry import token_class

APPLICATION = "offline"
DEFAULT_COUNT = 100
DEFAULT_ROUNDS = 6549
REFILLTOKEN_BYTES = 40
# User-Agent keys that name the client's computer (privacyIDEA's computer name keys).
_COMPUTER_NAME = re.compile(r"(?:^|\s)(?:ComputerName|Hostname|MachineName|Windows|Linux|Mac)/([^\s/]+)")
# Tokeninfo: the outstanding bag hashes the OTP values without the PIN.
OTP_ONLY = "offline_otp_only"
BAD_REFILL = "Token is not an offline token or refill token is incorrect"
# Asked after every successful HOTP login: built once, a plain query (most tokens have no bag).
_HAS_ATTACHMENT = Prepared(select(MachineToken.id).join(Token, Token.id == MachineToken.token_id)
                            .where(Token.serial == bindparam("serial"), MachineToken.application == APPLICATION)
                            .limit(1))


class WrongOfflineValue(ParameterError):
    """A refill with a value that is not one of the outstanding offline values."""


def computer_name(user_agent: str) -> str | None:
    """The host a client names in its User-Agent (``... Hostname/host1``), if any."""
    found = _COMPUTER_NAME.search(user_agent or "")
    return found.group(1) if found else None


def _attachment(session: Session, serial: str, req: AuthRequest) -> MachineToken | None:
    """The token's offline attachment that holds for the requesting host: one for every
    machine first, else one for a machine named by the request or at its address."""
    rows = session.scalars(select(MachineToken).join(Token, Token.id == MachineToken.token_id)
                           .where(Token.serial == serial, MachineToken.application == APPLICATION)
                           .order_by(MachineToken.id).options(selectinload(MachineToken.options))).all()
    if not rows:
        return None
    general = [row for row in rows if row.resolver_id is None]
    if general:
        return general[0]
    machines = machines_of_request(session, [req.nas, computer_name(req.user_agent) or ""], req.client)
    return next((row for row in rows if (row.resolver_id, row.machine_id) in machines), None)


def _options(row: MachineToken) -> dict[str, str]:
    return {option.key: option.value for option in row.options}


def _load(session: Session, serial: str, env: TokenEnv) -> TokenClass:
    row = session.scalar(select(Token).where(Token.serial == serial).options(selectinload(Token.info),
                                                                             selectinload(Token.owners)))
    if row is None:
        raise ParameterError(BAD_REFILL)
    return token_class(row.tokentype)(row, env)


def _typed(token: TokenClass, pin: str, otp: str) -> str:
    """PIN and OTP in the order the user types them (system setting PrependPin)."""
    return pin + otp if token.env.settings.PrependPin else otp + pin


def _issue(session: Session, token: TokenClass, pin: str, count: int, rounds: int, current: int) -> dict[str, str]:
    """Hashes for counters [current, current+count), and the counter moved past them; {}
    when a concurrent request moved the counter first."""
    moved = session.execute(update(Token).where(Token.id == token.row.id, Token.count == current)
                            .values(count=current + count).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return {}
    settle(token.row, "count", current + count)
    key, digits, algorithm = token.secret(), token.row.otplen, token.info("hashlib") or "sha1"
    return {str(counter): pbkdf2.hash_value(_typed(token, pin, oath.hotp(key, counter, digits, algorithm)), rounds)
            for counter in range(current, current + count)}


def _counter(session: Session, token: TokenClass) -> int:
    """The counter as stored now (the ORM object may lag behind the engine's statements)."""
    return int(session.scalar(select(Token.count).where(Token.id == token.row.id)) or 0)


def _new_refilltoken(token: TokenClass) -> str:
    value = secrets.token_hex(REFILLTOKEN_BYTES)
    token.set_info("refilltoken", value, secret=True)
    return value


def _numbers(options: dict[str, str]) -> tuple[int, int]:
    return int(options.get("count") or DEFAULT_COUNT), int(options.get("rounds") or DEFAULT_ROUNDS)


def auth_items(session: Session, req: AuthRequest, result: AuthResult, env: TokenEnv) -> dict[str, Any] | None:
    """``auth_items`` for a successful check with an HOTP token, or None (no offline
    attachment for this host, not an HOTP token)."""
    if not result.accepted or not result.serial or result.token_type != "hotp":
        return None
    if _HAS_ATTACHMENT.execute(session, {"serial": result.serial}).first() is None:
        return None
    attachment = _attachment(session, result.serial, req)
    if attachment is None:
        return None
    token = _load(session, result.serial, env)
    if token.type != "hotp":
        return None
    options = _options(attachment)
    count, rounds = _numbers(options)
    otp_only = bool(req.transaction_id or req.otp_only)
    pin = "" if otp_only else token.split_pin(req.password)[0]
    response = _issue(session, token, pin, count, rounds, _counter(session, token))
    if not response:
        return None
    if otp_only:
        token.set_info(OTP_ONLY, "True")
    else:
        token.del_info(OTP_ONLY)
    item: dict[str, Any] = {"serial": token.serial, "refilltoken": _new_refilltoken(token), "response": response}
    if result.user is not None:
        item["user"] = item["username"] = result.user.login
    token.set_info("offline_counter", count)
    item.update(options)
    return {APPLICATION: [item]}


def refill(session: Session, serial: str, refilltoken: str, password: str, env: TokenEnv) -> dict[str, Any]:
    """``/validate/offlinerefill``: ``password`` is PIN + an outstanding offline value; the
    answer holds a new refilltoken and hashes for as many counters as were used up."""
    token = _load(session, serial, env)
    attachment = session.scalar(select(MachineToken).where(
        MachineToken.token_id == token.row.id, MachineToken.application == APPLICATION)
        .order_by(MachineToken.id).options(selectinload(MachineToken.options)))
    stored = token.secret_info("refilltoken") if attachment is not None else None
    if not stored or not hmac.compare_digest(stored.encode(), refilltoken.encode()):
        raise ParameterError(BAD_REFILL)
    assert attachment is not None
    if not token.row.active or token.row.revoked:
        raise TokenError("This action is not possible, since the token is disabled or revoked")
    count, rounds = _numbers(_options(attachment))
    pin, otp = token.split_pin(password)
    has_pin = token.row.pin_hash is not None or token.row.pin_enc is not None
    current = _counter(session, token)
    first = max(current - count, 0)
    matched = oath.find_counter(token.secret(), otp, first, current - first, token.row.otplen,
                                token.info("hashlib") or "sha1")
    pin_ok = not has_pin or (token.info(OTP_ONLY) == "True" and not pin) or token.check_pin(pin)
    if matched < 0 or not pin_ok:
        raise WrongOfflineValue("You provided a wrong OTP value.")
    response = _issue(session, token, pin, matched - first + 1, rounds, current)
    if not response:
        raise WrongOfflineValue("You provided a wrong OTP value.")  # a concurrent refill used it first
    return {APPLICATION: [{"serial": token.serial, "refilltoken": _new_refilltoken(token), "response": response}]}
