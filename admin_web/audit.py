"""``/audit/``: the audit trail, searched page by page or downloaded as CSV.

Admins need ``auditlog`` (the CSV ``auditlog_download``) and see the entries of the realms
their right covers; users see their own entries. ``auditlog_age`` limits how old the
entries shown may be and ``hide_audit_columns`` removes columns, in both scopes.
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import Access
from tesserad.admin_web.policy import filename
from tesserad.admin_web.rest import ADMIN_OR_USER, Call, Resource, Stream, endpoint
from tesserad.admin_web.visibility import visible_realms
from tesserad.core.audit_search import AuditLog, AuditQuery, AuditScope, parse_age

AUDIT_REALMS = "any one realm; only entries of the realms the right covers"
OWN_ENTRIES = "auditlog (own entries only)"


def _scope(call: Call) -> AuditScope:
    """What the caller may see, from its policies."""
    rights = call.rights
    age = rights.value("auditlog_age", None)
    hidden = frozenset(rights.words("hide_audit_columns"))
    max_age = parse_age(age, "auditlog_age") if age else None
    if call.is_admin:
        return AuditScope(realms=visible_realms(call, "auditlog"), max_age=max_age, hidden=hidden)
    me = call.identity.user  # type: ignore[union-attr]
    return AuditScope(user=(me.login, me.realm), max_age=max_age, hidden=hidden)


def _log(call: Call) -> AuditLog:
    return AuditLog(call.ctx.auditor, call.ctx.clock)


class AuditResource(Resource):
    @endpoint("GET", "/audit/", roles=ADMIN_OR_USER, access=Access("auditlog", AUDIT_REALMS, OWN_ENTRIES))
    def search(self, call: Call) -> Any:
        """One page of entries, newest first: column filters with ``*`` wildcards, ``page``,
        ``page_size``, ``sortorder`` (asc/desc), ``timelimit`` (1d, 12h, 30m). Answers
        ``{auditdata, auditcolumns, count, current, prev, next}``."""
        call.require_somewhere("auditlog")
        query = AuditQuery.from_params(call.params.texts())
        return _log(call).search(call.session, query, _scope(call))

    @endpoint("GET", "/audit/<csvfile>", roles=ADMIN_OR_USER, access=Access(
        "auditlog_download", "any one realm; only entries of the realms ``auditlog`` covers", OWN_ENTRIES))
    def download(self, call: Call, csvfile: str) -> Any:
        """The matching entries (the same filters, no paging) as a CSV file, oldest first."""
        call.require_somewhere("auditlog_download" if call.is_admin else "auditlog")
        query = AuditQuery.from_params(call.params.texts())
        call.audit["info"] = f"download {filename(csvfile)}"
        return Stream(_log(call).export_csv(call.ctx.database, query, _scope(call)), "text/csv; charset=utf-8",
                      csvfile)
