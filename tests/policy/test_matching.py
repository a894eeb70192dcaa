"""Matching every policy attribute, and what the matching policies decide: priorities and
conflicts, switches that add up, highest integers, rights, extended conditions."""

from __future__ import annotations

from typing import Any

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.policy import PolicyError, PolicyQuery, PolicySet, build_policy
from tesserad.core.policy.matching import BrokenPolicy, compare
from tesserad.core.users.base import User

from tests.policy.conftest import local, snapshot


def names(policies: PolicySet, **query: Any) -> list[str]:
    return [p.name for p in policies.match(PolicyQuery(**query))]


# ---- attributes ---------------------------------------------------------------------------------

def test_realm_lists_case_insensitive_and_empty_matches_all(clock: FixedClock) -> None:
    ps = snapshot(clock, {"sales": {"scope": "user", "action": "enable", "realm": "sales, Support"},
                          "any": {"scope": "user", "action": "enable"}})
    assert names(ps, scope="user", realm="sales") == ["any", "sales"]
    assert names(ps, scope="user", realm="SUPPORT") == ["any", "sales"]
    assert names(ps, scope="user", realm="hr") == ["any"]
    assert names(ps, scope="user") == ["any", "sales"]  # realm not asked: not matched


@pytest.mark.parametrize("entries, login, expected", [
    ("*", "anyone", True),
    ("*, -admin", "alice", True),
    ("*, -admin", "admin", False),
    ("*, !Admin", "admin", False),
    ("customer_.*", "customer_42", True),
    ("customer_.*", "xcustomer_42", False),
    ("user1", "user1234", False),
    ("user1", "USER1", True),
    ("alice, bob", "bob", True),
    ("-admin", "alice", False),  # exclusions alone match nobody (privacyIDEA's reading)
    ("*, -admin_.*", "admin_eve", False),
    ("user+tag", "user+tag", True),  # a literal name with regex characters still matches itself
])
def test_user_entries(clock: FixedClock, entries: str, login: str, expected: bool) -> None:
    ps = snapshot(clock, {"p": {"scope": "user", "action": "enable", "user": entries}})
    assert bool(names(ps, scope="user", user=login)) is expected


def test_resolver_and_check_all_resolvers(clock: FixedClock) -> None:
    ps = snapshot(clock, {
        "primary-only": {"scope": "authentication", "action": "passOnNoToken", "resolver": "ldap2"},
        "all-resolvers": {"scope": "authentication", "action": "passOnNoToken", "resolver": "ldap2",
                          "check_all_resolvers": True}})
    calls: list[int] = []

    def resolvers() -> list[str]:
        calls.append(1)
        return ["ldap1", "ldap2"]

    user = User("alice", "realm1", "ldap1", "7")
    assert names(ps, scope="authentication", user_object=user, user_resolvers=resolvers) == ["all-resolvers"]
    assert calls == [1]  # fetched once, and only for the policy that needs it
    assert names(ps, scope="authentication", user_object=user) == []  # no resolver list given
    assert names(ps, scope="authentication", user_object=User("alice", "realm1", "ldap2", "7"),
                 user_resolvers=resolvers) == ["all-resolvers", "primary-only"]
    assert calls == [1]  # the user's own resolver matched: nothing fetched


def test_admin_attributes(clock: FixedClock) -> None:
    ps = snapshot(clock, {"helpdesk": {"scope": "admin", "action": "enable", "realm": "sales",
                                       "adminrealm": "helpdesk", "adminuser": "frank, -eve"}})
    base = {"scope": "admin", "action": "enable", "realm": "sales"}
    assert names(ps, **base, adminrealm="helpdesk", adminuser="frank") == ["helpdesk"]
    assert names(ps, **base, adminrealm="helpdesk", adminuser="eve") == []
    assert names(ps, **base, adminrealm="super", adminuser="frank") == []
    assert names(ps, scope="admin", action="enable", realm="hr", adminrealm="helpdesk", adminuser="frank") == []


@pytest.mark.parametrize("client, expected", [
    ("10.2.3.4", ["v4"]),
    ("10.2.0.1", []),  # excluded
    ("192.168.0.1", ["v4"]),
    ("192.168.0.2", []),
    ("2001:db8::1", ["v6"]),
    ("2001:db8:0:1::5", []),  # excluded subnet
    ("::ffff:10.2.3.4", ["v4"]),  # IPv4-mapped, from a dual-stack socket
    ("", []),  # unknown client: only unrestricted policies
])
def test_client_lists(clock: FixedClock, client: str, expected: list[str]) -> None:
    ps = snapshot(clock, {"v4": {"scope": "webui", "action": "show_node",
                                 "client": "10.2.0.0/16, -10.2.0.1, 192.168.0.1"},
                          "v6": {"scope": "webui", "action": "show_node",
                                 "client": "2001:db8::/32, !2001:db8:0:1::/64"}})
    assert names(ps, scope="webui", client=client) == expected


def test_unrestricted_policy_matches_every_client_and_bad_client_is_an_error(clock: FixedClock) -> None:
    ps = snapshot(clock, {"open": {"scope": "webui", "action": "show_node"}})
    assert names(ps, scope="webui", client="") == ["open"]
    assert names(ps, scope="webui", client="fe80::1") == ["open"]
    with pytest.raises(PolicyError, match="client: 'nas-1' is not an IP address"):
        ps.match(PolicyQuery(scope="webui", client="nas-1"))


@pytest.mark.parametrize("when, expected", [
    ((2024, 1, 10, 12, 0), ["office"]),  # Wednesday noon
    ((2024, 1, 10, 8, 0), ["office"]),
    ((2024, 1, 10, 18, 0), ["office"]),  # the end minute is included
    ((2024, 1, 10, 18, 1), []),
    ((2024, 1, 10, 7, 59), []),
    ((2024, 1, 13, 10, 0), ["weekend-morning"]),  # Saturday
    ((2024, 1, 13, 12, 31), []),
    ((2024, 1, 14, 12, 30), ["weekend-morning"]),  # Sunday, second window of the combination
    ((2024, 1, 12, 23, 59), ["late"]),  # Friday night
    ((2024, 1, 15, 23, 30), ["late"]),  # Monday: the days wrap, Fri-Mon
    ((2024, 1, 15, 0, 0), []),  # the window is 23:00-24:00, not overnight
    ((2024, 1, 16, 23, 30), []),  # Tuesday
])
def test_time_windows_at_fixed_clock_times(clock: FixedClock, when: tuple[int, int, int, int, int],
                                          expected: list[str]) -> None:
    ps = snapshot(clock, {"office": {"scope": "webui", "action": "show_node", "time": "Mon-Fri: 8-18"},
                          "weekend-morning": {"scope": "webui", "action": "show_node",
                                              "time": "Sat: 10:00-12:30, sun: 9-12:30"},
                          "late": {"scope": "webui", "action": "show_node", "time": "Fri-Mon: 23-24"}})
    clock.set(local(*when))
    assert names(ps, scope="webui") == expected


def test_inactive_policies_never_match(clock: FixedClock) -> None:
    ps = snapshot(clock, {"off": {"scope": "admin", "action": "enable", "active": False}})
    assert names(ps, scope="admin", action="enable") == []
    assert not ps.has_active("admin")


def test_pinode(clock: FixedClock) -> None:
    ps = snapshot(clock, {"node1": {"scope": "admin", "action": "enable", "pinode": "node1, node3"},
                          "anywhere": {"scope": "admin", "action": "enable"}})
    assert names(ps, scope="admin", node="node1") == ["anywhere", "node1"]
    assert names(ps, scope="admin", node="node2") == ["anywhere"]


def test_action_and_scope_select(clock: FixedClock) -> None:
    ps = snapshot(clock, {"a": {"scope": "admin", "action": "enable"},
                          "b": {"scope": "user", "action": "enable"},
                          "c": {"scope": "admin", "action": "disable"},
                          "none": {"scope": "admin"}})  # no actions: grants nothing
    assert names(ps, scope="admin", action="enable") == ["a"]
    assert names(ps, scope="admin") == ["a", "c", "none"]


def test_query_checks_scope_action_and_user_object() -> None:
    with pytest.raises(ValueError, match="unknown policy scope"):
        PolicyQuery(scope="selfservice")
    with pytest.raises(ValueError, match="'otppin' is not an action of scope 'admin'"):
        PolicyQuery(scope="admin", action="otppin")
    query = PolicyQuery(scope="user", user_object=User("bob", "r1", "files", "1001"))
    assert (query.user, query.realm, query.resolver) == ("bob", "r1", "files")
    with pytest.raises(ValueError, match="contradicts user_object"):
        PolicyQuery(scope="user", realm="r2", user_object=User("bob", "r1"))


# ---- what the policies decide ---------------------------------------------------------------------

def test_lower_priority_number_wins_and_same_priority_conflicts(clock: FixedClock) -> None:
    ps = snapshot(clock, {"pol1": {"scope": "authentication", "action": "otppin=userstore", "priority": 3},
                          "pol2": {"scope": "authentication", "action": "otppin=none", "priority": 2}})
    query = PolicyQuery(scope="authentication", action="otppin")
    assert ps.get_value(query, None) == ("none", ["pol2"])
    clash = snapshot(clock, {"a": {"scope": "authentication", "action": "otppin=userstore"},
                             "b": {"scope": "authentication", "action": "otppin=none"},
                             "c": {"scope": "authentication", "action": "otppin=tokenpin", "priority": 5}})
    with pytest.raises(PolicyError, match=r"conflicting values for 'otppin' in the policies 'a', 'b'"):
        clash.get_value(PolicyQuery(scope="authentication", action="otppin"), "tokenpin")
    with pytest.raises(PolicyError, match="conflicting"):
        clash.action_values(PolicyQuery(scope="authentication", action="otppin"), unique=True)


def test_agreeing_policies_and_default(clock: FixedClock) -> None:
    ps = snapshot(clock, {"a": {"scope": "webui", "action": "logout_time=300"},
                          "b": {"scope": "webui", "action": "logout_time=300"}})
    assert ps.get_value(PolicyQuery(scope="webui", action="logout_time"), 120) == (300, ["a", "b"])
    assert ps.get_value(PolicyQuery(scope="webui", action="login_text"), "Please sign in") == ("Please sign in", [])


def test_action_values_like_privacyidea(clock: FixedClock) -> None:
    ps = snapshot(clock, {
        "types1": {"scope": "authorization", "action": "tokentype=hotp totp"},
        "types2": {"scope": "authorization", "action": "tokentype=totp spass", "priority": 2},
        "quoted": {"scope": "authorization", "action": "tokentype='hotp yubikey'", "priority": 3}})
    query = PolicyQuery(scope="authorization", action="tokentype")
    assert ps.action_values(query, unique=False) == {
        "hotp": ["types1"], "totp": ["types1", "types2"], "spass": ["types2"], "hotp yubikey": ["quoted"]}
    assert ps.action_values(query, unique=False, allow_white_space_in_action=True) == {
        "hotp totp": ["types1"], "totp spass": ["types2"], "hotp yubikey": ["quoted"]}
    with pytest.raises(PolicyError, match="conflicting"):  # one policy, two blank-separated values
        ps.action_values(query, unique=True)
    texts = snapshot(clock, {"t": {"scope": "authentication", "action": "challenge_text=Enter the code"}})
    assert texts.action_values(PolicyQuery(scope="authentication", action="challenge_text"), unique=True,
                               allow_white_space_in_action=True) == {"Enter the code": ["t"]}


def test_switches_add_up_across_priorities(clock: FixedClock) -> None:
    ps = snapshot(clock, {"r1": {"scope": "admin", "action": "tokenlist", "realm": "r1", "priority": 1},
                          "r2": {"scope": "admin", "action": "tokenlist", "realm": "r2", "priority": 9},
                          "other": {"scope": "admin", "action": "enable"}})
    assert ps.get_bool(PolicyQuery(scope="admin", action="tokenlist")) == (True, ["r1", "r2"])
    assert ps.get_bool(PolicyQuery(scope="admin", action="tokenlist", realm="r2")) == (True, ["r2"])
    assert ps.get_bool(PolicyQuery(scope="admin", action="delete")) == (False, [])
    switches = snapshot(clock, {"s": {"scope": "authentication", "action": "passOnNoToken"}})
    assert switches.action_values(PolicyQuery(scope="authentication", action="passOnNoToken"),
                                  unique=False) == {}  # switches carry no value


def test_max_int_takes_the_highest_ignoring_priority(clock: FixedClock) -> None:
    ps = snapshot(clock, {"strict": {"scope": "enrollment", "action": "max_token_per_user=2", "priority": 1},
                          "loose": {"scope": "enrollment", "action": "max_token_per_user=5", "priority": 10},
                          "sales": {"scope": "enrollment", "action": "max_token_per_user=9", "realm": "sales"}})
    assert ps.get_max_int(PolicyQuery(scope="enrollment", action="max_token_per_user", realm="hr"), 0) == 5
    assert ps.get_max_int(PolicyQuery(scope="enrollment", action="max_token_per_user", realm="sales"), 0) == 9
    assert ps.get_max_int(PolicyQuery(scope="enrollment", action="max_token_per_realm"), 100) == 100
    with pytest.raises(ValueError, match="not an integer action"):
        ps.get_max_int(PolicyQuery(scope="enrollment", action="tokenlabel"), 0)
    with pytest.raises(ValueError, match="needs a query with an action"):
        ps.get_max_int(PolicyQuery(scope="enrollment"), 0)


def test_allowed_without_admin_policies_is_everything(clock: FixedClock) -> None:
    nothing = snapshot(clock, {"auth": {"scope": "authentication", "action": "otppin=none"},
                               "off": {"scope": "admin", "action": "enable", "active": False}})
    assert nothing.allowed(PolicyQuery(scope="admin", action="delete", adminuser="frank"))


def test_allowed_once_one_admin_policy_exists_only_what_is_granted(clock: FixedClock) -> None:
    ps = snapshot(clock, {"helpdesk": {"scope": "admin", "action": "enable, disable", "realm": "sales",
                                       "adminrealm": "helpdesk"}})
    def allowed(**query: Any) -> bool:
        return ps.allowed(PolicyQuery(scope="admin", **query))

    assert allowed(action="enable", realm="sales", adminrealm="helpdesk", adminuser="frank")
    assert not allowed(action="delete", realm="sales", adminrealm="helpdesk", adminuser="frank")
    assert not allowed(action="enable", realm="hr", adminrealm="helpdesk", adminuser="frank")
    # The policy is for another admin realm, but it exists: the superusers lose their blanket rights.
    assert not allowed(action="enable", realm="sales", adminrealm="super", adminuser="root")
    # The user scope has no policy: users may do everything with their own tokens.
    assert ps.allowed(PolicyQuery(scope="user", action="delete", user="alice", realm="sales"))


# ---- extended conditions ------------------------------------------------------------------------

@pytest.mark.parametrize("left, comparator, right, expected", [
    ("alice@example.com", "equals", "alice@example.com", True),
    ("alice@example.com", "!equals", "alice@example.com", False),
    (6, "equals", "6", True),
    (True, "equals", "True", True),
    (True, "equals", "0", False),
    (False, "equals", "false", True),
    (["cn=ops", "cn=dev"], "contains", "cn=ops", True),
    (["cn=ops", "cn=dev"], "!contains", "cn=ops", False),
    ("cn=ops", "contains", "cn=ops", True),
    ("hotp", "in", 'hotp, totp, "a, b"', True),
    ("a, b", "in", 'hotp, totp, "a, b"', True),
    ("spass", "!in", "hotp, totp", True),
    ("alice@example.com", "matches", r".*@example\.com", True),
    ("alice@example.com.evil", "matches", r".*@example\.com", False),  # the whole value must match
    ("alice", "!matches", "bob|carol", True),
    (3, "<", "10", True),
    ("12", ">", "10", True),
    (True, "<", "1", False),
])
def test_comparators(left: Any, comparator: str, right: str, expected: bool) -> None:
    assert compare(left, comparator, right) is expected


@pytest.mark.parametrize("left, comparator, right, message", [
    (["a"], "equals", "a", "use contains"),
    (5, "contains", "5", "'contains' needs a list"),
    ("many", "<", "3", "'many' is not a number"),
])
def test_comparators_refuse_values_that_do_not_fit(left: Any, comparator: str, right: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(left, comparator, right)


def conditioned(clock: FixedClock, *conditions: list[Any]) -> PolicySet:
    return snapshot(clock, {"cond": {"scope": "webui", "action": "login_mode=disable",
                                     "conditions": list(conditions)},
                            "other-realm": {"scope": "webui", "action": "login_mode=disable", "realm": "hr",
                                            "conditions": [["userinfo", "email", "equals", "x", True]]}})


def test_all_active_conditions_must_hold(clock: FixedClock) -> None:
    ps = conditioned(clock, ["userinfo", "email", "matches", ".*@example.com", True],
                     ["userinfo", "groups", "contains", "cn=restricted", True],
                     ["userinfo", "phone", "equals", "never evaluated", False])
    query = PolicyQuery(scope="webui", realm="sales", userinfo={
        "email": "alice@example.com", "groups": ["cn=restricted", "cn=staff"]})
    assert [p.name for p in ps.match(query)] == ["cond"]
    other = PolicyQuery(scope="webui", realm="sales", userinfo={"email": "bob@example.com", "groups": ["cn=staff"]})
    assert ps.match(other) == []


def test_missing_data_is_an_error_not_a_mismatch(clock: FixedClock) -> None:
    ps = conditioned(clock, ["userinfo", "email", "equals", "a@b", True])
    with pytest.raises(PolicyError, match="policy 'cond' has a condition on userinfo 'email', but the request "
                                          "has no user attributes"):
        ps.match(PolicyQuery(scope="webui", realm="sales"))
    with pytest.raises(PolicyError, match="which this request does not have"):
        ps.match(PolicyQuery(scope="webui", realm="sales", userinfo={"mail": "a@b"}))
    tokens = conditioned(clock, ["token", "failcount", ">", "3", True])
    with pytest.raises(PolicyError, match="condition on token 'failcount', but the request has no token"):
        tokens.match(PolicyQuery(scope="webui", realm="sales"))
    broken = conditioned(clock, ["token", "description", "<", "3", True])
    with pytest.raises(PolicyError, match="cannot be evaluated: 'spare' is not a number"):
        broken.match(PolicyQuery(scope="webui", realm="sales", token={"description": "spare"}))


def test_condition_sections_can_be_left_out(clock: FixedClock) -> None:
    ps = conditioned(clock, ["userinfo", "email", "equals", "a@b", True],
                     ["tokeninfo", "tokenkind", "equals", "hardware", True])
    query = PolicyQuery(scope="webui", realm="sales", userinfo={"email": "a@b"},
                        condition_sections=frozenset({"userinfo"}))
    assert [p.name for p in ps.match(query)] == ["cond"]


def test_token_tokeninfo_headers_and_environment(clock: FixedClock) -> None:
    ps = conditioned(clock, ["token", "active", "<", "1", True],
                     ["tokeninfo", "tokenkind", "in", "hardware, virtual", True],
                     ["HTTP Request header", "user-agent", "matches", "privacyIDEA-LDAP-Proxy.*", True],
                     ["HTTP Environment", "PATH_INFO", "equals", "/token/", True])
    query = PolicyQuery(scope="webui", realm="sales", token={"active": False, "serial": "OATH1"},
                        tokeninfo=lambda: {"tokenkind": "hardware"},
                        headers={"User-Agent": "privacyIDEA-LDAP-Proxy/1.0"}, environ={"PATH_INFO": "/token/"})
    assert [p.name for p in ps.match(query)] == ["cond"]
    with pytest.raises(PolicyError, match="HTTP Environment 'PATH_INFO', which this request does not have"):
        ps.match(PolicyQuery(scope="webui", realm="sales", token={"active": False},
                             tokeninfo={"tokenkind": "hardware"}, headers={"user-agent": "privacyIDEA-LDAP-Proxy"},
                             environ={"path_info": "/token/"}))  # the environment is case sensitive


def test_lazy_facts_are_fetched_only_for_otherwise_matching_policies(clock: FixedClock) -> None:
    ps = conditioned(clock, ["userinfo", "email", "equals", "a@b", True],
                     ["userinfo", "phone", "equals", "1", True])
    fetched: list[str] = []

    def userinfo() -> dict[str, str]:
        fetched.append("userinfo")
        return {"email": "a@b", "phone": "1"}

    assert ps.match(PolicyQuery(scope="webui", realm="sales", action="show_node", userinfo=userinfo)) == []
    assert fetched == []  # no policy with that action: nothing asked of the user store
    assert [p.name for p in ps.match(PolicyQuery(scope="webui", realm="sales", userinfo=userinfo))] == ["cond"]
    assert fetched == ["userinfo"]  # once, although two conditions and two policies need it


def test_a_broken_stored_policy_blocks_its_scope_only(clock: FixedClock) -> None:
    ps = PolicySet([build_policy("ok", {"scope": "webui", "action": "show_node"})], clock,
                   [BrokenPolicy("old", "admin", True, "action: 'enrollFOO' is not an action of scope 'admin'")])
    assert ps.has_active("admin")
    with pytest.raises(PolicyError, match="policy 'old' is invalid"):
        ps.allowed(PolicyQuery(scope="admin", action="enable"))
    assert [p.name for p in ps.match(PolicyQuery(scope="webui"))] == ["ok"]
