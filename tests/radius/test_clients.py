"""``[[radius.clients]]``: config checks with file, key and reason, secret files, masking."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from tesserad.core.config import SECRET_MASK, effective
from tesserad.core.errors import ConfigError
from tesserad.daemon import config as cfg
from tesserad.radius.clients import load_clients


def load(tmp_path: Path, *clients: dict[str, object]) -> cfg.Config:
    path = tmp_path / "t.toml"
    path.write_text(tomli_w.dumps({"radius": {"clients": list(clients)}}))
    return cfg.load(str(path), env={}, cwd=tmp_path)


def test_clients_are_read_with_their_defaults_and_the_secret_masked(tmp_path: Path) -> None:
    config = load(tmp_path, {"name": "vpn", "address": "10.0.0.0/8", "secret": "s{data_dir}"},
                  {"name": "fw", "address": "2001:db8::1", "secret_file": "{data_dir}/fw.secret",
                   "realm": "corp", "require_message_authenticator": False})
    vpn, fw = config.radius.clients
    assert vpn.secret == "s{data_dir}"  # a secret is taken literally
    assert (vpn.require_message_authenticator, vpn.limit_proxy_state, vpn.realm) == (True, True, "")
    assert fw.secret_file == f"{tmp_path}/var/fw.secret" and fw.require_message_authenticator is False
    shown = effective(config)["radius"]["clients"]
    assert [c["secret"] for c in shown] == [SECRET_MASK, ""]
    assert "s{data_dir}" not in repr(shown)


@pytest.mark.parametrize("clients, key, reason", [
    ([{"name": "a", "address": "10.0.0.1/8", "secret": "s"}], "radius.clients[0].address", "has host bits set"),
    ([{"name": "a", "address": "vpn.example", "secret": "s"}], "radius.clients[0].address",
     "must be an IP address or a CIDR network"),
    ([{"name": "a", "address": "10.0.0.1", "secret": "s", "port": 1}], "radius.clients[0].port", "unknown key"),
    ([{"name": "a", "address": "10.0.0.1", "secret": 5}], "radius.clients[0].secret", "expected a string"),
    ([{"address": "10.0.0.1", "secret": "s"}], "radius.clients", "[0]: name is required"),
    ([{"name": "a", "secret": "s"}], "radius.clients", "[0] (a): address is required"),
    ([{"name": "a", "address": "10.0.0.1"}], "radius.clients", "[0] (a): set either secret or secret_file"),
    ([{"name": "a", "address": "10.0.0.1", "secret": "s", "secret_file": "/f"}], "radius.clients",
     "set either secret or secret_file"),
    ([{"name": "a", "address": "10.0.0.1", "secret": "s"}, {"name": "a", "address": "10.0.0.2", "secret": "s"}],
     "radius.clients", "[1]: the name 'a' is used twice"),
    ([{"name": "a", "address": "10.0.0.1", "secret": "s"}, {"name": "b", "address": "10.0.0.1/32", "secret": "s"}],
     "radius.clients", "[1] (b): 10.0.0.1/32 is also the address of 'a'"),
])
def test_bad_clients_name_file_key_and_reason(tmp_path: Path, clients: list[dict[str, object]], key: str,
                                              reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, *clients)
    assert (caught.value.path, caught.value.key) == (str(tmp_path / "t.toml"), key)
    assert reason in caught.value.reason


def test_secret_files_are_read_and_unsafe_ones_refused(tmp_path: Path) -> None:
    secret = tmp_path / "nas.secret"
    secret.write_text("s3cret with spaces\nignored\n")
    secret.chmod(0o640)
    config = load(tmp_path, {"name": "vpn", "address": "10.0.0.1", "secret_file": str(secret)})
    [client] = load_clients(config.radius, config.source).clients
    assert client.secret == b"s3cret with spaces"
    assert "s3cret" not in repr(client)

    def refusal() -> str:
        with pytest.raises(ConfigError) as caught:
            load_clients(config.radius, config.source)
        assert caught.value.key == "radius.clients[0].secret_file"
        return caught.value.reason

    secret.chmod(0o644)
    assert refusal().endswith("nas.secret is readable by others (chmod o-r)")
    secret.write_text("\nsecond line\n")
    secret.chmod(0o600)
    assert refusal().endswith("the first line (the secret) is empty")
    secret.unlink()
    assert refusal().endswith("nas.secret does not exist")
