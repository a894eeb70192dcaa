"""Fixtures of the LDAP tests: one real slapd for the session (skipped with the reason
when slapd is not installed, a failure in CI), a hung server, and resolver settings."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import require
from tests.http.restapi import api  # noqa: F401  (a fixture)
from tests.ldap import slapd as directory
from tests.ldap.hung import HungServer

PEOPLE_USERINFO = {"email": "mail", "surname": "sn", "givenname": "givenName", "phone": "telephoneNumber",
                   "mobile": "mobile", "homedir": "homeDirectory"}


@pytest.fixture(scope="session")
def slapd() -> Iterator[directory.Slapd]:
    workdir = Path(tempfile.mkdtemp(prefix="tesserad-slapd-"))
    try:
        try:
            server = directory.start_slapd(workdir)
        except directory.SlapdUnavailable as exc:
            require(False, str(exc))
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def hung() -> Iterator[HungServer]:
    server = HungServer()
    try:
        yield server
    finally:
        server.close()


def people_config(slapd: directory.Slapd, **overrides: Any) -> dict[str, Any]:
    """Settings of a resolver over ou=people, bound as the (size-limited) reader."""
    return {"LDAPURI": slapd.ldap_uri, "LDAPBASE": f"ou=people,{directory.BASE}",
            "BINDDN": directory.READER_DN, "BINDPW": directory.READER_PW, "LOGINNAMEATTRIBUTE": "uid",
            "LDAPSEARCHFILTER": "(objectClass=inetOrgPerson)", "USERINFO": dict(PEOPLE_USERINFO),
            "UIDTYPE": "entryUUID", "SIZELIMIT": 10, "TIMEOUT": 2, "TLS_CA_FILE": str(slapd.ca.ca_file),
            **overrides}


def ad_config(slapd: directory.Slapd, **overrides: Any) -> dict[str, Any]:
    """Settings as for Active Directory: objectGUID, sAMAccountName or userPrincipalName."""
    return people_config(slapd, LDAPBASE=f"ou=ad,{directory.BASE}", UIDTYPE="objectGUID",
                         LOGINNAMEATTRIBUTE="sAMAccountName, userPrincipalName",
                         LDAPSEARCHFILTER="(objectClass=tesseraADUser)",
                         USERINFO={"email": "mail", "givenname": "givenName", "guid": "objectGUID",
                                   "upn": "userPrincipalName"}, **overrides)
