"""The LDAP resolver against a real slapd: lookups, attribute mapping, paged listing,
password checks, TLS (LDAPS, StartTLS, wrong CA, wrong host name), failover, the breaker,
the bounded pool, the cache, Active Directory specifics and editing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.users.base import ResolverError, UserError, UserStoreUnavailable
from tesserad.core.users.ldap import LDAPResolver

from tests.ldap import slapd as directory
from tests.ldap.conftest import ad_config, people_config
from tests.ldap.hung import HungServer
from tests.ldap.slapd import Slapd

NOWHERE = "ldap://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def resolvers(clock: FixedClock) -> Iterator[list[LDAPResolver]]:
    """Resolvers built by a test, closed after it."""
    made: list[LDAPResolver] = []
    yield made
    for resolver in made:
        resolver.close()


def build(resolvers: list[LDAPResolver], clock: FixedClock, config: dict, name: str = "ldap") -> LDAPResolver:
    resolver = LDAPResolver(name, config, clock=clock)
    resolvers.append(resolver)
    return resolver


def test_lookup_maps_attributes_with_multi_values_and_custom_keys(slapd: Slapd, resolvers, clock) -> None:
    resolver = build(resolvers, clock, people_config(slapd, MULTIVALUEATTRIBUTES='["mobile", "email"]'))
    uid = resolver.uid_for("alice")
    assert uid and len(uid) == 36  # an entryUUID
    record = resolver.get(uid)
    assert record is not None and record.login == "alice" and record.uid == uid
    assert record.attributes == {
        "username": "alice", "userid": uid, "email": ["alice@tesserad.test"], "surname": "Example",
        "givenname": "Alice", "phone": "+49 30 1000", "mobile": ["+49 170 1000", "+49 171 1000"],
        "homedir": "/home/alice"}
    assert resolver.uid_for("ALICE") == uid  # LDAP matches logins case-insensitively
    assert resolver.uid_for("nobody") is None
    assert resolver.uid_for("*") is None  # a login is a value, never a filter
    assert resolver.get("00000000-0000-0000-0000-000000000000") is None


@pytest.mark.parametrize("uidtype, expected", [("DN", f"uid=bob,ou=people,{directory.BASE}"),
                                               ("uidNumber", "1001")])
def test_uid_types(slapd: Slapd, resolvers, clock, uidtype: str, expected: str) -> None:
    resolver = build(resolvers, clock, people_config(slapd, UIDTYPE=uidtype))
    assert resolver.uid_for("bob") == expected
    record = resolver.get(expected)
    assert record is not None and record.login == "bob"
    assert resolver.get("uid=nobody,ou=people," + directory.BASE if uidtype == "DN" else "4711") is None


def test_listing_pages_past_the_servers_size_limit(slapd: Slapd, resolvers, clock) -> None:
    """The reader may get 10 entries per plain search; 27 people come back page by page.
    The referral ou=elsewhere is dropped, not chased."""
    resolver = build(resolvers, clock, people_config(slapd))
    everyone = resolver.search()
    assert sorted(r.login for r in everyone) == sorted(directory.PEOPLE)
    page = resolver.search(offset=5, limit=12)
    assert [r.login for r in page] == [r.login for r in everyone[5:17]]
    assert [r.login for r in resolver.search({"username": "user1*"})] == [f"user1{n}" for n in range(10)]
    assert [r.login for r in resolver.search({"email": "*CAROL@*"})] == ["carol"]
    assert [r.login for r in resolver.search({"userid": everyone[0].uid})] == [everyone[0].login]
    assert resolver.search({"shoesize": "42"}) == []
    assert resolver.search({"email": "*)(uid=*"}) == []  # filter characters are escaped
    assert resolver.test_connection() == (True, "Resolver config seems OK. 27 Users found.")


def test_password_check_by_bind(slapd: Slapd, resolvers, clock) -> None:
    resolver = build(resolvers, clock, people_config(slapd))
    uid = resolver.uid_for("carol")
    assert uid is not None
    assert resolver.check_password(uid, "carol-secret") is True
    assert resolver.check_password(uid, "wrong") is False
    assert resolver.check_password(uid, "") is False  # would be an anonymous bind
    assert resolver.check_password("00000000-0000-0000-0000-000000000000", "carol-secret") is False


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_tls_with_the_test_ca(slapd: Slapd, resolvers, clock, transport: str) -> None:
    config = people_config(slapd, LDAPURI=slapd.ldaps_uri) if transport == "ldaps" else \
        people_config(slapd, START_TLS="1")
    resolver = build(resolvers, clock, config)
    uid = resolver.uid_for("bob")
    assert uid is not None and resolver.check_password(uid, "bob-secret")


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_a_wrong_ca_is_rejected(slapd: Slapd, resolvers, clock, transport: str) -> None:
    uri = slapd.ldaps_uri if transport == "ldaps" else slapd.ldap_uri
    config = people_config(slapd, LDAPURI=uri, START_TLS=transport == "starttls",
                           TLS_CA_FILE=str(slapd.ca.other_ca_file))
    resolver = build(resolvers, clock, config)
    with pytest.raises(ResolverError, match="certificate verify failed"):
        resolver.uid_for("bob")
    # Verification off (TLS_VERIFY=0) is the operator's explicit choice.
    unverified = build(resolvers, clock, {**config, "TLS_VERIFY": False})
    assert unverified.uid_for("bob") is not None


def test_the_host_name_is_checked(slapd: Slapd, resolvers, clock) -> None:
    resolver = build(resolvers, clock, people_config(slapd, LDAPURI=slapd.mismatched_uri))
    with pytest.raises(ResolverError, match="certificate does not name this host"):
        resolver.uid_for("bob")


def test_failover_to_the_second_uri_and_the_breaker(slapd: Slapd, resolvers, clock) -> None:
    resolver = build(resolvers, clock, people_config(slapd, LDAPURI=f"{NOWHERE}, {slapd.ldap_uri}",
                                                     SERVERPOOL_SKIP=30, CACHE_TIMEOUT=0))
    assert resolver.uid_for("alice") is not None
    assert resolver.breaker.is_open("ldap://127.0.0.1:9")
    clock.advance(31)
    assert not resolver.breaker.is_open("ldap://127.0.0.1:9")
    assert resolver.check_password(resolver.uid_for("alice") or "", "alice-secret")
    assert resolver.breaker.is_open("ldap://127.0.0.1:9")  # tried again, failed again


def test_a_hung_server_costs_the_timeout_once_then_is_skipped(slapd: Slapd, hung: HungServer, resolvers,
                                                              clock) -> None:
    resolver = build(resolvers, clock, people_config(slapd, LDAPURI=f"{hung.uri}, {slapd.ldap_uri}",
                                                     TIMEOUT=1, SERVERPOOL_SKIP=60, CACHE_TIMEOUT=0))
    started = time.monotonic()
    assert resolver.uid_for("alice") is not None
    assert 0.9 < time.monotonic() - started < 5
    started = time.monotonic()
    for _ in range(5):
        assert resolver.uid_for("bob") is not None
    assert time.monotonic() - started < 0.9  # five lookups, none waited for the hung server
    assert hung.connections == 1

    alone = build(resolvers, clock, people_config(slapd, LDAPURI=hung.uri, TIMEOUT=1), name="hungonly")
    started = time.monotonic()
    with pytest.raises(UserStoreUnavailable, match="no answer within the timeout"):
        alone.uid_for("alice")
    assert time.monotonic() - started < 3
    with pytest.raises(UserStoreUnavailable, match="skipped after a recent failure"):
        alone.uid_for("alice")


def test_the_pool_is_bounded_and_busy_callers_fail_fast(hung: HungServer, resolvers, clock, slapd: Slapd) -> None:
    resolver = build(resolvers, clock, people_config(slapd, LDAPURI=hung.uri, TIMEOUT=3, POOL_SIZE=1,
                                                     POOL_TIMEOUT=1))
    errors: list[Exception] = []

    def stuck() -> None:
        try:
            resolver.uid_for("alice")
        except ResolverError as exc:
            errors.append(exc)

    worker = threading.Thread(target=stuck)
    worker.start()
    hung.wait_for_connections(1)
    started = time.monotonic()
    with pytest.raises(UserStoreUnavailable, match="all LDAP connections are busy"):
        resolver.uid_for("bob")
    assert 0.9 < time.monotonic() - started < 2.5
    worker.join(10)
    assert len(errors) == 1 and "no answer within the timeout" in str(errors[0])


def test_cache_hits_reach_no_server_until_the_ttl_ends(slapd: Slapd, resolvers, clock) -> None:
    resolver = build(resolvers, clock, people_config(slapd, CACHE_TIMEOUT=120))
    before = slapd.completed_searches()
    uid = resolver.uid_for("alice")
    assert uid is not None
    for _ in range(3):  # a login: lookup, user info, password check, audit
        assert resolver.uid_for("alice") == uid
        assert resolver.get(uid) is not None
        assert resolver.check_password(uid, "alice-secret")
    assert slapd.completed_searches() - before == 1
    clock.advance(121)
    assert resolver.uid_for("alice") == uid
    assert slapd.completed_searches() - before == 2

    uncached = build(resolvers, clock, people_config(slapd, CACHE_TIMEOUT=0), name="uncached")
    before = slapd.completed_searches()
    for _ in range(3):
        assert uncached.uid_for("alice") == uid
    assert slapd.completed_searches() - before == 3


def test_active_directory_guid_logins_and_disabled_accounts(slapd: Slapd, resolvers, clock) -> None:
    resolver = build(resolvers, clock, ad_config(slapd))
    guid = str(directory.DAVE_GUID)
    assert resolver.uid_for("dave") == guid
    assert resolver.uid_for("dave@ad.tesserad.test") == guid
    record = resolver.get(guid)
    assert record is not None and record.login == "dave"
    assert record.attributes["guid"] == guid and record.attributes["upn"] == "dave@ad.tesserad.test"
    assert resolver.check_password(guid, "dave-secret") is True
    # erin's account has the ACCOUNTDISABLE bit: no login, no password check, still listed.
    assert resolver.uid_for("erin") is None
    assert resolver.check_password(str(directory.ERIN_GUID), "erin-secret") is False
    assert sorted(r.login for r in resolver.search()) == ["dave", "erin"]
    with pytest.raises(UserError, match="not an objectGUID"):
        resolver.get("not-a-guid")


def test_editing_users(slapd: Slapd, resolvers, clock) -> None:
    config = people_config(slapd, LDAPBASE=f"ou=new,{directory.BASE}", BINDDN=directory.ADMIN_DN,
                           BINDPW=directory.ADMIN_PW, EDITABLE=True, DN_TEMPLATE="uid=<username>,<basedn>",
                           OBJECT_CLASSES="inetOrgPerson")
    config["USERINFO"]["commonname"] = "cn"
    resolver = build(resolvers, clock, config)
    uid = resolver.add_user({"username": "frank", "surname": "Castle", "givenname": "Frank", "commonname": "Frank",
                             "email": "frank@tesserad.test", "password": "frank-secret"})
    record = resolver.get(uid)
    assert record is not None and record.login == "frank" and record.attributes["email"] == "frank@tesserad.test"
    assert resolver.check_password(uid, "frank-secret")
    resolver.update_user(uid, {"email": "castle@tesserad.test", "password": "new-secret"})
    assert resolver.get(uid).attributes["email"] == "castle@tesserad.test"  # type: ignore[union-attr]
    assert resolver.check_password(uid, "new-secret") and not resolver.check_password(uid, "frank-secret")
    with pytest.raises(ResolverError, match="not in its USERINFO: shoesize"):
        resolver.update_user(uid, {"shoesize": "42", "email": "x@y"})
    assert resolver.get(uid).attributes["email"] == "castle@tesserad.test"  # type: ignore[union-attr]
    with pytest.raises(ResolverError, match="adding a user failed: entryAlreadyExists"):
        resolver.add_user({"username": "frank", "surname": "Again", "commonname": "F"})
    resolver.delete_user(uid)
    assert resolver.get(uid) is None and resolver.uid_for("frank") is None
    with pytest.raises(UserError):
        resolver.delete_user(uid)

    readonly = build(resolvers, clock, people_config(slapd), name="readonly")
    with pytest.raises(ResolverError, match="not editable"):
        readonly.add_user({"username": "gina"})


@pytest.mark.parametrize("override, message", [
    ({"LDAPURI": "http://example.com"}, "LDAPURI: cannot read 'http://example.com'"),
    ({"LDAPURI": ""}, "LDAPURI: missing"),
    ({"SCOPE": "DEEP"}, "SCOPE: 'DEEP' is not one of"),
    ({"AUTHTYPE": "NTLM"}, "AUTHTYPE: 'Ntlm' is not supported"),
    ({"LDAPURI": "ldaps://127.0.0.1:1", "TLS_CA_FILE": "/nonexistent/ca.pem"}, "TLS_CA_FILE: /nonexistent/ca.pem"),
    ({"TLS_VERSION": "1.0", "START_TLS": True}, "TLS_VERSION: '1.0' is not supported"),
    ({"USERINFO": "{nope"}, "USERINFO: not valid JSON"),
    ({"LDAPSEARCHFILTER": "(objectClass=person"}, "LDAPSEARCHFILTER: unbalanced"),
])
def test_bad_settings_are_refused_precisely(slapd: Slapd, override: dict, message: str) -> None:
    with pytest.raises(ResolverError) as caught:
        LDAPResolver("bad", people_config(slapd, **override))
    assert message in str(caught.value)


def test_a_wrong_bind_password_is_reported_without_it(slapd: Slapd, resolvers, clock) -> None:
    resolver = build(resolvers, clock, people_config(slapd, BINDPW="not-the-reader-password"))
    with pytest.raises(ResolverError) as caught:
        resolver.uid_for("alice")
    assert "refused the bind as BINDDN: invalidCredentials" in str(caught.value)
    assert "not-the-reader-password" not in str(caught.value)
    assert resolver.test_connection()[0] is False
