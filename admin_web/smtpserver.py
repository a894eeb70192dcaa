"""``/smtpserver/``: define, list, test and delete the SMTP servers that email tokens send
through (privacyIDEA 3.8's smtpserver API).

Definitions belong to no realm, so each call needs ``smtpserver_read`` or
``smtpserver_write`` from a policy bound to no realm (``core.rights``). The password is
write-only: listings never return it, and leaving it out of an update keeps it. A test
email is queued in the outbox like every other mail (one attempt); its outcome is in the
audit (action ``OUTBOX send``), as with privacyIDEA's job queue.
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import NO_REALM, Access
from tesserad.admin_web.rest import ADMIN_ONLY, Call, Resource, endpoint
from tesserad.core import smtp_servers
from tesserad.core.store.models.base import NAME_LENGTH

TEST_SUBJECT = "privacyIDEA test email"
TEST_BODY = "This is a test email from tesserad. The SMTP server definition {identifier} works."


class SMTPServerResource(Resource):
    @endpoint("GET", "/smtpserver/", roles=ADMIN_ONLY, access=Access("smtpserver_read", NO_REALM))
    def list(self, call: Call) -> Any:
        """``{identifier: {server, port, sender, username, tls, implicit_tls, timeout,
        enqueue_job, description}}``; no passwords."""
        call.require("smtpserver_read")
        return smtp_servers.listed(call.session)

    @endpoint("POST", "/smtpserver/send_test_email", roles=ADMIN_ONLY,
              access=Access("smtpserver_write", NO_REALM))
    def send_test_email(self, call: Call) -> Any:
        """Queue a test email to ``recipient`` through the saved definition ``identifier``;
        True once queued (``detail.message_id``)."""
        call.require("smtpserver_write")
        params = call.params
        identifier = smtp_servers.require(call.session, params.required("identifier", max_length=NAME_LENGTH))
        recipient = smtp_servers.check_address("recipient", params.required("recipient", max_length=NAME_LENGTH))
        call.audit["info"] = f"{identifier} to {recipient}"
        call.detail["message_id"] = call.ctx.outbox.enqueue(
            call.session, smtp_servers.channel(identifier), recipient,
            {"subject": TEST_SUBJECT, "body": TEST_BODY.format(identifier=identifier), "mime": "text/plain"},
            max_attempts=1)
        return True

    @endpoint("POST", "/smtpserver/<identifier>", roles=ADMIN_ONLY, access=Access("smtpserver_write", NO_REALM))
    def save(self, call: Call, identifier: str) -> Any:
        """Define the SMTP server or replace its settings; its id."""
        call.require("smtpserver_write")
        call.audit["info"] = identifier[:NAME_LENGTH]
        params = call.params
        implicit_tls = params.flag("implicit_tls")
        return smtp_servers.save(
            call.session, call.ctx.keys.security, identifier,
            server=params.required("server", max_length=NAME_LENGTH),
            port=params.integer("port", 465 if implicit_tls else 25, minimum=1, maximum=65535),
            sender=params.required("sender", max_length=NAME_LENGTH),
            username=params.text("username", "", max_length=NAME_LENGTH) or "",
            password=params.text("password", max_length=NAME_LENGTH),
            tls=params.flag("tls"), implicit_tls=implicit_tls,
            timeout=params.integer("timeout", 10, minimum=1, maximum=120),
            enqueue_job=params.flag("enqueue_job"),
            description=params.text("description", "", max_length=NAME_LENGTH) or "")

    @endpoint("DELETE", "/smtpserver/<identifier>", roles=ADMIN_ONLY, access=Access("smtpserver_write", NO_REALM))
    def delete(self, call: Call, identifier: str) -> Any:
        """Delete the SMTP server definition."""
        call.require("smtpserver_write")
        call.audit["info"] = identifier[:NAME_LENGTH]
        smtp_servers.delete(call.session, identifier)
        return True
