"""Reply attribute rules: each mapping kind encoded as the NAS receives it, and bad rules,
dictionaries and secret files refused with file, key and reason (also by
``tesserad-manage config check``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tesserad.core.errors import ConfigError
from tesserad.daemon import config as cfg
from tesserad.radius.clients import load_clients
from tesserad.radius.replyrules import ReplyRule

from tests.helpers import daemon_config, manage, write_config

CLIENT = {"name": "vpn", "address": "10.0.0.1", "secret": "s"}


def load(tmp_path: Path, radius: dict[str, Any]) -> cfg.Config:
    path = tmp_path / "t.toml"
    path.write_text(tomli_w.dumps({"radius": radius}))
    return cfg.load(str(path), env={}, cwd=tmp_path)


def rules(tmp_path: Path, *reply: dict[str, Any], **client: Any) -> tuple[ReplyRule, ...]:
    config = load(tmp_path, {"reply": list(reply), "clients": [dict(CLIENT, **client)]})
    [nas] = load_clients(config.radius, config.source).clients
    return nas.reply


def test_fixed_values_by_data_type_value_name_tag_and_vendor(tmp_path: Path) -> None:
    found = rules(tmp_path, {"attribute": "Class", "value": "100"},
                  {"attribute": "Service-Type", "value": "Administrative-User"},
                  {"attribute": "Session-Timeout", "value": "3600"},
                  {"attribute": "Tunnel-Private-Group-Id", "value": "42", "tag": 1},
                  {"attribute": "Tunnel-Type", "value": "VLAN", "tag": 1},
                  {"attribute": "Framed-IP-Address", "value": "192.0.2.7"},
                  {"attribute": "Fortinet-Group-Name", "value": "vpn-users"},
                  {"attribute": "Cisco-AVPair", "value": "shell:priv-lvl=15"})
    assert [(r.key, r.fixed) for r in found] == [
        (25, b"100"),  # octets take the text, not one octet of 100
        (6, (6).to_bytes(4, "big")), (27, (3600).to_bytes(4, "big")), (81, b"\x0142"),
        (64, b"\x01\x00\x00\x0d"), (8, bytes([192, 0, 2, 7])), ((12356, 1), b"vpn-users"),
        ((9, 1), b"shell:priv-lvl=15")]
    assert all(r.on == {"accept"} for r in found)


def test_sources_with_regex_templates_and_several_values(tmp_path: Path) -> None:
    group, serial, quoted = rules(
        tmp_path, {"attribute": "Filter-Id", "source": "user.memberOf", "match": "^cn=([^,]+),ou=(\\w+)",
                   "value": "{2}:{1}"},
        {"attribute": "privacyIDEA-Serial", "source": "serial", "on": ["accept", "challenge"]},
        {"attribute": "Reply-Message", "source": "user.givenname", "value": "{{hi}} {0}"})
    facts = {"user.memberOf": ["cn=vpn,ou=groups,dc=x", "uid=nobody", "cn=admins,ou=roles,dc=x"],
             "serial": ["HOTP1"], "user.givenname": ["Alice"]}
    assert group.values(facts) == ([b"groups:vpn", b"roles:admins"], 0)
    assert serial.values(facts) == ([b"HOTP1"], 0) and serial.on == {"accept", "challenge"}
    assert quoted.values(facts) == ([b"{hi} Alice"], 0)
    assert group.values({}) == ([], 0)


def test_values_the_data_type_cannot_carry_are_counted_not_sent(tmp_path: Path) -> None:
    timeout, address, name = rules(tmp_path, {"attribute": "Session-Timeout", "source": "user.timeout"},
                                   {"attribute": "Framed-IP-Address", "source": "user.ip"},
                                   {"attribute": "Fortinet-Group-Name", "source": "user.group"})
    assert timeout.values({"user.timeout": ["60", "soon"]}) == ([(60).to_bytes(4, "big")], 1)
    assert address.values({"user.ip": ["198.51.100.1", "no-ip"]}) == ([bytes([198, 51, 100, 1])], 1)
    assert name.values({"user.group": ["x" * 247, "x" * 248]}) == ([b"x" * 247], 1)  # 253 minus the VSA header


def test_global_rules_come_first_and_a_client_may_leave_them_out(tmp_path: Path) -> None:
    shared = {"attribute": "Class", "value": "all"}
    own = {"attribute": "Filter-Id", "value": "mine"}
    assert [r.attribute for r in rules(tmp_path, shared, reply=[own])] == ["Class", "Filter-Id"]
    assert [r.attribute for r in rules(tmp_path, shared, reply=[own], global_reply=False)] == ["Filter-Id"]


def test_an_operator_dictionary_adds_a_vendor(tmp_path: Path) -> None:
    extra = tmp_path / "dictionary.local"
    extra.write_text("VENDOR Example 32473\nBEGIN-VENDOR Example\nATTRIBUTE Example-Serial 1 string\n"
                     "END-VENDOR Example\n")
    config = load(tmp_path, {"dictionaries": [str(extra)], "reply": [{"attribute": "Example-Serial",
                                                                      "source": "serial"}],
                             "clients": [CLIENT]})
    [nas] = load_clients(config.radius, config.source).clients
    assert nas.reply[0].key == (32473, 1)


@pytest.mark.parametrize("rule, key, reason", [
    ({"value": "x"}, "attribute", "required"),
    ({"attribute": "Nope-Attribute", "value": "x"}, "attribute", "'Nope-Attribute' is not in the RADIUS dictionaries"),
    ({"attribute": "State", "value": "x"}, "attribute", "tesserad sets State itself"),
    ({"attribute": "Message-Authenticator", "value": "x"}, "attribute", "tesserad sets Message-Authenticator"),
    ({"attribute": "Tunnel-Password", "value": "x"}, "attribute", "Tunnel-Password is encrypted"),
    ({"attribute": "Class"}, "value", "set a value, or a source"),
    ({"attribute": "Class", "value": "x", "match": "a"}, "match", "a match needs a source"),
    ({"attribute": "Session-Timeout", "value": "soon"}, "value", "'soon' is neither a number nor a value name"),
    ({"attribute": "Framed-IP-Address", "value": "10.0.0.300"}, "value", "not a valid ipaddr"),
    ({"attribute": "Filter-Id", "value": "x" * 254}, "value", "254 octets, more than the 253"),
    ({"attribute": "Class", "source": "email"}, "source", "unknown source 'email'"),
    ({"attribute": "Class", "source": "user."}, "source", "unknown source"),
    ({"attribute": "Class", "source": "user.groups", "match": "(unclosed"}, "match", "not a regular expression"),
    ({"attribute": "Class", "source": "serial", "match": "(a)", "value": "{2}"}, "value", "{1}..{1} for the groups"),
    ({"attribute": "Class", "source": "serial", "value": "{name}"}, "value", "bad template"),
    ({"attribute": "Class", "source": "user.groups", "on": ["challenge"]}, "on", "user.groups is sent on accept only"),
    ({"attribute": "Class", "source": "realm", "on": ["accept", "challenge"]}, "on", "realm is sent on accept only"),
    ({"attribute": "Class", "value": "x", "on": []}, "on", "must list accept and/or challenge"),
    ({"attribute": "Class", "value": "x", "on": ["reject"]}, "on", "must list accept and/or challenge"),
    ({"attribute": "Session-Timeout", "value": "5", "on": ["challenge"]}, "on", "sets Session-Timeout of a challenge"),
    ({"attribute": "Class", "value": "x", "tag": 1}, "tag", "Class is not a tagged attribute"),
    ({"attribute": "Tunnel-Type", "value": "VLAN", "tag": 32}, "tag", "must be 0..31"),
])
def test_bad_rules_name_file_key_and_reason(tmp_path: Path, rule: dict[str, Any], key: str, reason: str) -> None:
    for radius, prefix in (({"reply": [{"attribute": "Class", "value": "ok"}, rule], "clients": [CLIENT]},
                            "radius.reply[1]"),
                           ({"clients": [CLIENT, {"name": "b", "address": "10.0.0.2", "secret": "s",
                                                  "reply": [rule]}]}, "radius.clients[1].reply[0]")):
        config = load(tmp_path, radius)
        with pytest.raises(ConfigError) as caught:
            load_clients(config.radius, config.source)
        assert (caught.value.path, caught.value.key) == (str(tmp_path / "t.toml"), f"{prefix}.{key}")
        assert reason in caught.value.reason


def test_unknown_rule_keys_and_unreadable_dictionaries_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, {"reply": [{"attribute": "Class", "value": "x", "prefix": "p"}]})
    assert caught.value.key == "radius.reply[0].prefix" and "unknown key" in caught.value.reason
    broken = tmp_path / "dictionary.broken"
    broken.write_text("ATTRIBUTE Broken\n")
    for files, index in (([str(broken)], 0), ([str(broken.with_name("absent"))], 0)):
        config = load(tmp_path, {"dictionaries": files})
        with pytest.raises(ConfigError) as caught:
            load_clients(config.radius, config.source)
        assert caught.value.key == f"radius.dictionaries[{index}]"
        assert caught.value.reason.startswith(f"cannot read the dictionary {files[0]}: ")


def test_config_check_reads_secret_files_and_reply_rules(tmp_path: Path) -> None:
    secret = tmp_path / "nas.secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    data = daemon_config(tmp_path, radius={"clients": [{"name": "vpn", "address": "10.0.0.1",
                                                        "secret_file": str(secret)}],
                                           "reply": [{"attribute": "Class", "source": "serial"}]})
    config = write_config(tmp_path, data)
    assert manage("config", "check", config=config).returncode == 0
    secret.chmod(0o644)
    result = manage("config", "check", config=config)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"tesserad-manage: {config}: radius.clients[0].secret_file: "
                                     f"{secret} is readable by others (chmod o-r)")
    secret.unlink()
    assert manage("config", "check", config=config).stderr.strip().endswith(f"{secret} does not exist")
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    data["radius"]["reply"] = [{"attribute": "Class"}]
    config.write_text(tomli_w.dumps(data))
    result = manage("config", "check", config=config)
    assert result.returncode == 2 and "radius.reply[0].value: set a value, or a source" in result.stderr
