"""WebAuthn on the core side: a thin wrapper of py_webauthn (``webauthn``) that speaks
privacyIDEA's wire fields (web-safe base64 without padding) and turns every refusal into
a precise ``ParameterError`` (bad input) or ``WebAuthnRefused`` (a well-formed answer that
does not verify). No CBOR, COSE or signature code of our own lives here.
"""
