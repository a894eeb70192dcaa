"""``/ttype/<type>``: the token types' own endpoints, called without a login (push
registration, TiQR, U2F facets in privacyIDEA).

A token class offers one by defining ``api_endpoint(call)``, a classmethod that gets the
``Call`` (context, session, parameters, request facts) and returns ``result.value`` (or a
``rest.Body``); the call is audited like any other.
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.rest import PUBLIC, Call, Resource, endpoint
from tesserad.core.tokens.base import ParameterError
from tesserad.core.tokens.registry import token_class


class TokenTypeResource(Resource):
    @endpoint("GET", "/ttype/<ttype>", roles=PUBLIC)
    @endpoint("POST", "/ttype/<ttype>", roles=PUBLIC)
    def dispatch(self, call: Call, ttype: str) -> Any:
        """Hand the request to the token type's ``api_endpoint``."""
        cls = token_class(ttype)
        call.audit["token_type"] = cls.type
        handler = getattr(cls, "api_endpoint", None)
        if handler is None:
            raise ParameterError(f"token type {cls.type} has no /ttype endpoint")
        return handler(call)
