"""privacyIDEA's SmtpSMSProvider: an email to an email-to-SMS gateway through the SMTP
server definition ``SMTPIDENTIFIED``; ``MAILTO``, ``SUBJECT`` (default ``{phone}``) and
``BODY`` (default ``{otp}``) take the tags ``{phone}`` and ``{otp}``."""

from __future__ import annotations

from tesserad.core.sms.delivery import Mail
from tesserad.core.sms.providers.base import GatewayConfig, Parameter, Provider, fill
from tesserad.core.smtp_servers import check_address
from tesserad.core.tokens.base import ParameterError


class SmtpProvider(Provider):
    module = "privacyidea.lib.smsprovider.SmtpSMSProvider.SmtpSMSProvider"
    parameters = {
        "SMTPIDENTIFIED": Parameter("The SMTP server definition that sends the email.", required=True),
        "MAILTO": Parameter("The gateway's address; {phone} and {otp} are filled in.", required=True),
        "SUBJECT": Parameter("Subject of the email (default {phone})."),
        "BODY": Parameter("Body of the email (default {otp})."),
    }

    def delivery(self, config: GatewayConfig, phone: str, message: str) -> Mail:
        options = config.options
        recipient = check_address("option.MAILTO", fill(options.get("MAILTO", ""), phone.replace(" ", ""), message))
        subject = fill(options.get("SUBJECT") or "{phone}", phone, message)
        if "\n" in subject or "\r" in subject:
            raise ParameterError("option.SUBJECT must give a subject of one line")
        return Mail(options.get("SMTPIDENTIFIED", ""), recipient, subject,
                    fill(options.get("BODY") or "{otp}", phone, message))
