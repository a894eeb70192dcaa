"""The [pam] keys: defaults, and bad values refused with the key named."""

from __future__ import annotations

import grp

import pytest

from tesserad.core.errors import ConfigError
from tesserad.daemon import config as configuration


def test_defaults() -> None:
    pam = configuration.Config().pam
    assert (pam.allowed_group, pam.max_connections, pam.idle_timeout, pam.max_frame) == ("", 64, 10, 8192)
    assert (pam.uid_share_percent, pam.root_reserve_percent) == (25, 25)


@pytest.mark.parametrize("toml, key, reason", [
    ('allowed_group = "no-such-group-xyz"', "pam.allowed_group", "no group named 'no-such-group-xyz'"),
    ("max_frame = 512", "pam.max_frame", "must be from 1024 to 65536 bytes, not 512"),
    ("max_connections = 0", "pam.max_connections", "must be a positive integer"),
    ("idle_timeout = -1", "pam.idle_timeout", "must be a positive integer"),
    ("uid_share_percent = 0", "pam.uid_share_percent", "must be a percentage from 1 to 100, not 0"),
    ("uid_share_percent = 101", "pam.uid_share_percent", "must be a percentage from 1 to 100, not 101"),
    ("root_reserve_percent = 100", "pam.root_reserve_percent", "must be a percentage from 1 to 99, not 100"),
    ("root_reserve_percent = 0.5", "pam.root_reserve_percent", "expected an integer, got a number"),
])
def test_bad_values(toml: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        configuration.parse(f"[pam]\n{toml}\n", "t.toml")
    assert caught.value.key == key and reason in caught.value.reason


def test_an_existing_group_is_accepted() -> None:
    name = grp.getgrgid(0).gr_name
    assert configuration.parse(f'[pam]\nallowed_group = "{name}"\n', "t.toml").pam.allowed_group == name
