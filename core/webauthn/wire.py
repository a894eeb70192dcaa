"""An answer to a WebAuthn challenge as privacyIDEA's /validate/check carries it: web-safe
base64 fields and the Origin header, which the edge puts on the AuthRequest unread. The
core decodes and parses it once, before any lookup, so malformed input changes nothing."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tesserad.core.webauthn import parsing
from tesserad.core.webauthn.assertion import AssertionAnswer
from tesserad.core.webauthn.encoding import b64url_decode
from tesserad.core.webauthn.errors import WebAuthnInputError

# The request parameters of an answer; any of the first four marks a request as one.
FIELDS = ("credentialid", "clientdata", "signaturedata", "authenticatordata", "userhandle",
          "assertionclientextensions")


@dataclass(frozen=True)
class SignResponse:
    credentialid: str = ""
    clientdata: str = ""
    signaturedata: str = ""
    authenticatordata: str = ""
    userhandle: str | None = None
    assertionclientextensions: str | None = None
    origin: str | None = None

    @functools.cached_property
    def decoded(self) -> AssertionAnswer:
        """The answer's bytes; raises WebAuthnInputError naming the bad field."""
        for name in FIELDS[:4]:
            if not getattr(self, name):
                raise WebAuthnInputError(f"missing parameter: {name}")
        if not self.origin:
            raise WebAuthnInputError("the Origin header is required to answer a WebAuthn challenge")
        clientdata = b64url_decode(self.clientdata, "clientdata")
        authenticatordata = b64url_decode(self.authenticatordata, "authenticatordata")
        parsing.client_data(clientdata, parsing.GET)
        parsing.authenticator_data(authenticatordata)
        if self.assertionclientextensions:
            b64url_decode(self.assertionclientextensions, "assertionclientextensions")
        return AssertionAnswer(credential_id=b64url_decode(self.credentialid, "credentialid"),
                               clientdata=clientdata, authenticatordata=authenticatordata,
                               signature=b64url_decode(self.signaturedata, "signaturedata"),
                               userhandle=self.userhandle.encode() if self.userhandle else None)
