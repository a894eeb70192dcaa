"""The web UI's session: the API token in an HttpOnly cookie, so page scripts never hold it.

A cookie is sent by the browser on every request, also on requests another site makes it
send, so the API accepts the cookie only together with the header ``X-CSRF-Token`` carrying
an HMAC of the cookie's token (a key of its own, derived through the security module). Pages
render that value for their scripts; another origin can neither read it nor set the header.
Nothing is stored on the server: every process sharing the keys accepts the pair.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie

from tesserad.core.security.base import SecurityModule
from tesserad.core.sessions import DECODING_ERROR, MISSING_HEADER, AuthError, Identity, Sessions

COOKIE = "tesserad_session"
CSRF_HEADER = "x-csrf-token"


def session_cookie(headers: Mapping[str, str]) -> str | None:
    """The session token from a ``Cookie`` header (lower-cased header names), if any."""
    raw = headers.get("cookie")
    if not raw:
        return None
    try:
        jar = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


class BrowserSessions:
    """Checks cookie + CSRF header pairs and makes the cookies of login and logout."""

    def __init__(self, sessions: Sessions, security: SecurityModule):
        self.sessions = sessions
        self._security = security

    def csrf_token(self, token: str) -> str:
        """The CSRF value that belongs to the session token ``token``."""
        mac = self._security.hmac(token.encode("ascii", "replace"), purpose="web-ui-csrf")
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def identify(self, headers: Mapping[str, str]) -> Identity:
        """The identity of a cookie-authenticated API request; 401 unless the CSRF header
        matches the cookie (checked in constant time, before the token is trusted)."""
        token = session_cookie(headers)
        if token is None:
            raise AuthError("Authentication failure. Missing Authorization header.", code=MISSING_HEADER)
        sent = headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode("ascii", "replace"), self.csrf_token(token).encode("ascii")):
            raise AuthError("Authentication failure. Missing or wrong CSRF token.", code=DECODING_ERROR)
        return self.sessions.verify(token)

    def page_identity(self, headers: Mapping[str, str]) -> tuple[Identity, str]:
        """The identity and CSRF value for rendering a page (a GET changes nothing, so the
        cookie alone suffices); AuthError when the cookie is missing, forged or expired."""
        token = session_cookie(headers)
        if token is None:
            raise AuthError("Authentication failure. Missing session.", code=MISSING_HEADER)
        return self.sessions.verify(token), self.csrf_token(token)

    def login_cookie(self, token: str, *, secure: bool) -> str:
        """The ``Set-Cookie`` value that starts a session; it ends with the browser or with
        the token's own expiry, whichever comes first."""
        return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{'; Secure' if secure else ''}"

    def logout_cookie(self, *, secure: bool) -> str:
        return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{'; Secure' if secure else ''}"
