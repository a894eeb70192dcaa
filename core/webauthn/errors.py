"""The two ways a WebAuthn answer fails."""

from tesserad.core.tokens.base import ParameterError, TokenError


class WebAuthnInputError(ParameterError):
    """A field is not web-safe base64, not CBOR, not JSON, or the wrong ceremony:
    the request is malformed (privacyIDEA ParameterError), nothing is checked or stored."""


class WebAuthnRefused(TokenError):
    """A well-formed answer that does not verify (origin, RP ID, challenge, signature,
    user verification, counter); the message names which check failed, never key material.
    At enrollment it is the error answer (privacyIDEA TokenAdminError); at authentication a reject."""
