"""``/validate/triggerchallenge``: an admin (typically a service account with the right
``triggerchallenge``) starts challenges for a user's tokens without knowing a PIN, e.g. for
a login page that asks for the OTP first."""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import TOKEN, Access
from tesserad.admin_web.rest import ADMIN_ONLY, Call, Resource, endpoint
from tesserad.admin_web.validate import VALIDATE_ID, result_detail
from tesserad.core.auth.request import AuthRequest, Outcome
from tesserad.core.rights import Target
from tesserad.core.token_access import TokenAccess

TRIGGER = Access("triggerchallenge", f"the realm of ``user``; with ``serial``: {TOKEN}")


class TriggerResource(Resource):
    @endpoint("GET", "/validate/triggerchallenge", roles=ADMIN_ONLY, request_id=VALIDATE_ID, access=TRIGGER)
    @endpoint("POST", "/validate/triggerchallenge", roles=ADMIN_ONLY, request_id=VALIDATE_ID, access=TRIGGER)
    def trigger(self, call: Call) -> Any:
        """Challenges for the tokens of ``user`` (``realm``, ``type``) or for ``serial``;
        the number of challenges, described in ``detail`` as /validate/check does."""
        params = call.params
        serial = params.text("serial", max_length=40)
        user = call.user_param(required=not serial)
        if serial:
            TokenAccess(call.session, call.ctx, call.rights).get(serial, "triggerchallenge")
        else:
            assert user is not None
            call.require("triggerchallenge", [Target.of_user(user)])
        result = call.ctx.auth.trigger_challenges(call.session, AuthRequest(
            password="", user=user.login if user else None, realm=user.realm if user else None, serial=serial,
            token_type=params.text("type", max_length=30), client=call.client,
            user_agent=call.facts.user_agent))
        call.audit.update(serial=",".join(c.serial for c in result.challenges), info=result.message,
                          authentication=result.outcome.value, token_type=result.token_type or "")
        if result.user is not None:
            call.audit.update(user=result.user.login, realm=result.user.realm, resolver=result.user.resolver)
        call.extra["authentication"] = result.outcome.value
        if result.outcome is Outcome.CHALLENGE:
            call.detail.update(result_detail(result))
        else:
            call.detail.update(messages=[], transaction_ids=[])
        return len(result.challenges)
