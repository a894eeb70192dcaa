"""The token type registry: every module in this package registers its class on import,
so adding a token type is adding one module."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from tesserad.core.tokens.base import ParameterError, TokenClass

TOKEN_TYPES: dict[str, type[TokenClass]] = {}
# Types of the spec left unbuilt rather than guessed, with the reason their refusal gives.
REFUSED = {
    "tiqr": "the specification names the TiQR protocol but does not give it (the enrolment URL, the metadata "
            "and messages the app exchanges with /ttype/tiqr, their answers, the tiqrauth URL, the OCRA suite)",
}
_INFRASTRUCTURE = {"base", "registry", "record", "oath", "otpauth", "service"}


def register(cls: type[TokenClass]) -> type[TokenClass]:
    """Class decorator: make a token type known by its ``type`` name."""
    TOKEN_TYPES[cls.type] = cls
    return cls


@functools.cache
def load_all() -> dict[str, type[TokenClass]]:
    """Import every token module of this package (once) and return the registry."""
    import tesserad.core.tokens as package
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"{package.__name__}.{module.name}")
    return TOKEN_TYPES


def token_class(tokentype: str) -> type[TokenClass]:
    types = load_all()
    try:
        return types[tokentype.lower()]
    except KeyError:
        reason = REFUSED.get(tokentype.lower())
        if reason is not None:
            raise ParameterError(f"token type {tokentype.lower()} is not supported: {reason}") from None
        raise ParameterError(f"unknown token type {tokentype!r}; known: {', '.join(sorted(types))}") from None
