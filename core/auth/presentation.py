"""How a challenge is presented: its message and the client mode to prefer.

``challenge_text_header`` (authentication) builds the message of a challenge from the
texts of all its tokens, as privacyIDEA's ``mangle_challenge_response`` does: the distinct
texts sorted, as HTML list items when the header ends with ``<ul>`` or ``<ol>``, else
comma-joined on a line of their own, then ``challenge_text_footer``. Without a header the
message is the distinct texts comma-joined, in token order. ``preferred_client_mode``
names the first mode of the preference list that one of the challenges has, else
``interactive``.
"""

from __future__ import annotations

from collections.abc import Sequence


def challenge_message(texts: Sequence[str], header: str | None, footer: str | None) -> str:
    if not header:
        return ", ".join(dict.fromkeys(texts))
    distinct = sorted(set(texts))
    if header[-4:].lower() in ("<ol>", "<ul>"):
        body = "".join(f"<li>{text}</li>\n" for text in distinct)
    else:
        body = "\n" + ", ".join(distinct) + "\n"
    return header + body + (footer or "")


def preferred_client_mode(modes: Sequence[str], preference: Sequence[str]) -> str:
    return next((mode for mode in preference if mode in modes), "interactive")
