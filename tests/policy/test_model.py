"""Parsing and validating a policy: every error names the attribute at fault, and the
canonical text written to the store parses back to the same policy."""

from __future__ import annotations

from typing import Any

import pytest

from tesserad.core.policy import Condition, PolicyError, build_policy
from tesserad.core.policy.model import split_actions


@pytest.mark.parametrize("name, fields, field, fragment", [
    ("p", {"scope": "adm"}, "scope", "'adm' is not a scope"),
    ("p", {}, "scope", "None is not a scope"),
    ("p", {"scope": "admin", "action": "otppin=none"}, "action", "'otppin' is not an action of scope 'admin'"),
    ("p", {"scope": "authentication", "action": "otpin=none"}, "action", "did you mean 'otppin'?"),
    ("p", {"scope": "authentication", "action": "otppin=always"}, "action", "allows tokenpin, userstore, none"),
    ("p", {"scope": "authentication", "action": "otppin"}, "action", "needs a value"),
    ("p", {"scope": "enrollment", "action": "max_token_per_user=many"}, "action", "needs an integer"),
    ("p", {"scope": "admin", "action": "disable=maybe"}, "action", "is a switch"),
    ("p", {"scope": "admin", "action": "disable, enable, disable"}, "action", "'disable' is given twice"),
    ("p", {"scope": "authentication", "action": 'challenge_text="open, otppin=none'}, "action",
     "the value of 'challenge_text' opens a quote it does not close"),
    ("p", {"scope": "authentication", "action": "challenge_text=it's done, otppin=none, x"}, "action",
     "'x' is not an action"),
    ("p", {"scope": "admin", "action": 42}, "action", "expected a comma-separated string"),
    ("p", {"scope": "authorization", "action": "tokeninfo=key/a,b/"}, "action",
     "'tokeninfo': expected the form key/regex/, not 'key/a'"),
    ("p", {"scope": "admin", "client": "10.0.0.0/8, 10.0.0.300"}, "client",
     "'10.0.0.300' is not an IP address or network"),
    ("p", {"scope": "admin", "client": "-"}, "client", "'' is not an IP address"),
    ("p", {"scope": "admin", "time": "Mon-Fri 8-18"}, "time", "is not a time window"),
    ("p", {"scope": "admin", "time": "Mon-Xyz: 8-18"}, "time", "is not a time window"),
    ("p", {"scope": "admin", "time": "Mon: 8-25"}, "time", "25:00 is not a time of day"),
    ("p", {"scope": "admin", "time": "Mon: 8:75-9"}, "time", "8:75 is not a time of day"),
    ("p", {"scope": "admin", "time": "Mon: 22-6"}, "time", "ends before it starts"),
    ("p", {"scope": "admin", "user": "alice, cust[omer"}, "user", "'cust[omer' is not a valid regular expression"),
    ("p", {"scope": "admin", "user": "*, -"}, "user", "an exclusion needs a name"),
    ("p", {"scope": "admin", "realm": ["r1", 2]}, "realm", "expected a comma-separated string or a list"),
    ("p", {"scope": "admin", "resolver": "(ldap"}, "resolver", "not a valid regular expression"),
    ("p", {"scope": "user", "adminrealm": "helpdesk"}, "adminrealm", "only admin policies"),
    ("p", {"scope": "admin", "priority": 0}, "priority", "expected a positive integer, not 0"),
    ("p", {"scope": "admin", "priority": "high"}, "priority", "expected a positive integer"),
    ("p", {"scope": "admin", "active": "sometimes"}, "active", "expected true or false"),
    ("p", {"scope": "admin", "check_all_resolvers": 2}, "check_all_resolvers", "expected true or false"),
    ("p", {"scope": "admin", "description": 5}, "description", "expected text"),
    ("p", {"scope": "admin", "colour": "red"}, "colour", "unknown policy attribute"),
    ("bad/name", {"scope": "admin"}, "name", "is not a policy name"),
    (" padded", {"scope": "admin"}, "name", "is not a policy name"),
    ("x" * 256, {"scope": "admin"}, "name", "longer than 255"),
    ("p", {"scope": "admin", "conditions": "userinfo"}, "conditions", "expected a list"),
    ("p", {"scope": "admin", "conditions": [["userdata", "email", "equals", "x", True]]}, "conditions",
     "condition 1: 'userdata' is not a section"),
    ("p", {"scope": "admin", "conditions": [["userinfo", "email", "equals", "x"], ["token", "count", "~", "1"]]},
     "conditions", "condition 2: '~' is not a comparator"),
    ("p", {"scope": "admin", "conditions": [["userinfo", " ", "equals", "x"]]}, "conditions", "the key is empty"),
    ("p", {"scope": "admin", "conditions": [["userinfo", "email", "matches", "*@x"]]}, "conditions",
     "not a valid regular expression"),
    ("p", {"scope": "admin", "conditions": [["token", "failcount", "<", "ten"]]}, "conditions",
     "< compares numbers"),
    ("p", {"scope": "admin", "conditions": [["token", "active", "equals", "1", "perhaps"]]}, "conditions",
     "active must be true or false"),
])
def test_invalid_policies_name_the_field(name: str, fields: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(PolicyError) as caught:
        build_policy(name, fields)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert fragment in str(caught.value)


def test_action_values_as_written() -> None:
    policy = build_policy("texts", {"scope": "authentication", "action": (
        "otppin = userstore, challenge_text=\"Hello, <otp>\", "
        "challenge_response=hotp totp, passOnNoToken")})
    assert dict(policy.actions) == {"otppin": "userstore", "challenge_text": '"Hello, <otp>"',
                                    "challenge_response": "hotp totp", "passOnNoToken": True}
    assert policy.value("challenge_text") == "Hello, <otp>"
    assert policy.value("passOnNoToken") is True
    login = build_policy("login", {"scope": "webui", "action": "login_text='Your code is <otp>'"})
    assert login.actions == {"login_text": "'Your code is <otp>'"}
    assert login.value("login_text") == "Your code is <otp>"


def test_actions_from_dict_and_list() -> None:
    from_dict = build_policy("d", {"scope": "enrollment", "action": {
        "max_token_per_user": 3, "encrypt_pin": True, "change_pin_on_first_use": False,
        "tokenlabel": "{user}, {realm}"}})
    assert dict(from_dict.actions) == {"max_token_per_user": "3", "encrypt_pin": True,
                                       "tokenlabel": '"{user}, {realm}"'}
    assert from_dict.value("max_token_per_user") == 3
    from_list = build_policy("l", {"scope": "admin", "action": ["enable", "disable=true, tokenlist=false"]})
    assert dict(from_list.actions) == {"enable": True, "disable": True}


def test_canonical_columns_parse_back() -> None:
    policy = build_policy("round", {
        "scope": "admin", "action": "enable,  disable", "realm": ["r1", "r2"], "user": " *, -root ",
        "adminrealm": "helpdesk", "client": "10.0.0.0/8,-10.0.0.1", "time": " Mon-Fri: 8-18 ",
        "priority": "3", "active": "false", "check_all_resolvers": 1,
        "conditions": [("userinfo", "groups", "contains", "ops")], "description": "helpdesk"})
    columns = policy.columns()
    assert columns == {"scope": "admin", "action": "enable, disable", "realm": "r1, r2",
                       "resolver": "", "user": "*, -root", "adminrealm": "helpdesk", "adminuser": "",
                       "pinode": "", "client": "10.0.0.0/8, -10.0.0.1", "time": "Mon-Fri: 8-18",
                       "priority": 3, "active": False, "check_all_resolvers": True, "description": "helpdesk"}
    again = build_policy("round", {**columns, "conditions": [c.as_list() for c in policy.conditions]})
    assert again == policy
    assert policy.conditions == (Condition("userinfo", "groups", "contains", "ops", True),)


def test_split_actions_respects_quotes() -> None:
    assert split_actions('a, b=1, c="x, y", , d = z ') == [("a", None), ("b", "1"), ("c", '"x, y"'), ("d", "z")]
    assert split_actions("t= 'Hi, <otp>', u=it's, v") == [("t", "'Hi, <otp>'"), ("u", "it's"), ("v", None)]
    assert split_actions("m=user/a,b/c/") == [("m", "user/a"), ("b/c/", None)]


def test_comma_and_double_quote_cannot_be_stored() -> None:
    with pytest.raises(PolicyError, match="action: the value of 'challenge_text' has a comma and a double quote"):
        build_policy("q", {"scope": "authentication", "action": {"challenge_text": 'say "hi", <otp>'}})


def test_empty_lists_and_policy_without_actions() -> None:
    policy = build_policy("empty", {"scope": "audit", "realm": " , ", "client": []})
    assert policy.actions == {} and policy.realm.entries == () and policy.client.entries == ()
