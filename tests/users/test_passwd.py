"""The flat-file resolver: GECOS attributes, uid stability, reload on change, passwords, search."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from passlib.hash import sha512_crypt

from tesserad.core.users.base import ResolverError
from tesserad.core.users.passwd import PasswdResolver

from tests.users.conftest import PASSWD

SHA512_HELLO = ("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLi"
                "BFdcbYEdFCoEOfaS35inz1")


def resolver(path: Path) -> PasswdResolver:
    return PasswdResolver("files", {"fileName": str(path)})


def test_lookup_and_gecos_attributes(passwd_file: Path) -> None:
    r = resolver(passwd_file)
    assert r.uid_for("alice") == "1000"
    assert r.uid_for("Alice") is None  # logins are case-sensitive, like getpwnam
    assert r.uid_for("nobody") is None
    alice = r.get("1000")
    assert alice is not None and alice.login == "alice"
    assert alice.attributes == {
        "username": "alice", "userid": "1000", "givenname": "Alice", "surname": "Liddell",
        "description": "Alice Liddell,Room 1,+49 111,+49 222,alice@example.com",
        # privacyIDEA's reading: mobile = office phone (3rd), phone = home phone (4th)
        "mobile": "+49 111", "phone": "+49 222", "email": "alice@example.com",
    }
    carol = r.get("1002")
    assert carol is not None
    assert (carol.attributes["givenname"], carol.attributes["surname"], carol.attributes["phone"]) == ("Carol", "", "")
    assert r.get("4711") is None


def test_renamed_login_keeps_its_uid(passwd_file: Path) -> None:
    r = resolver(passwd_file)
    assert r.uid_for("alice") == "1000"
    passwd_file.write_text(PASSWD.replace("alice:", "alice.liddell:"))
    assert r.uid_for("alice") is None
    assert r.uid_for("alice.liddell") == "1000"
    record = r.get("1000")
    assert record is not None and record.login == "alice.liddell"


def test_file_is_read_again_when_it_changes(passwd_file: Path) -> None:
    r = resolver(passwd_file)
    assert r.uid_for("dave") is None
    passwd_file.write_text(PASSWD + "dave:x:1003:1003:Dave:/home/dave:/bin/sh\n")
    assert r.uid_for("dave") == "1003"
    # Replaced by rename (how editors and config management write), same size, same mtime.
    stat = passwd_file.stat()
    replacement = passwd_file.with_name("passwd.new")
    replacement.write_text(PASSWD + "erin:x:1003:1003:Dave:/home/dave:/bin/sh\n")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, passwd_file)
    assert r.uid_for("dave") is None
    assert r.uid_for("erin") == "1003"


def test_unchanged_file_is_not_parsed_again(passwd_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = resolver(passwd_file)
    assert r.uid_for("bob") == "1001"
    calls: list[int] = []
    original = r._load

    def counting_load() -> object:
        calls.append(1)
        return original()

    monkeypatch.setattr(r, "_load", counting_load)
    for _ in range(100):
        assert r.uid_for("bob") == "1001"
    assert calls == []


def test_concurrent_lookups_during_changes(passwd_file: Path) -> None:
    r = resolver(passwd_file)
    errors: list[BaseException] = []

    def lookups() -> None:
        try:
            for _ in range(2000):
                assert r.uid_for("bob") == "1001"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=lookups) for _ in range(4)]
    for t in threads:
        t.start()
    for n in range(50):
        replacement = passwd_file.with_name(f"passwd.{n}")
        replacement.write_text(PASSWD + f"user{n}:x:{2000 + n}:1:U:/:/bin/sh\n")
        os.replace(replacement, passwd_file)
    for t in threads:
        t.join()
    assert errors == []
    assert r.uid_for("user49") == "2049"


def test_password_check_with_sha512_crypt(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text(
        f"hello:{SHA512_HELLO}:2000:2000:Hello World:/home/hello:/bin/sh\n"
        f"fresh:{sha512_crypt.using(rounds=5000).hash('Fr3sh!')}:2001:2001::/:/bin/sh\n"
        "shadowed:x:2002:2002::/:/bin/sh\n"
        "locked:!$6$saltstring$abc:2003:2003::/:/bin/sh\n"
        "empty::2004:2004::/:/bin/sh\n"
    )
    r = resolver(path)
    assert r.check_password("2000", "Hello world!")
    assert not r.check_password("2000", "hello world!")
    assert r.check_password("2001", "Fr3sh!")
    assert not r.check_password("2001", "Hello world!")
    # No usable password: shadow placeholder, locked account, empty field (never "no password").
    assert not r.check_password("2002", "x")
    assert not r.check_password("2003", "")
    assert not r.check_password("2004", "")
    assert not r.check_password("9999", "Hello world!")


def test_search_wildcards_and_uid_patterns(passwd_file: Path) -> None:
    r = resolver(passwd_file)

    def logins(**filters: str) -> list[str]:
        return [u.login for u in r.search(filters)]

    assert logins() == ["alice", "bob", "carol"]
    assert logins(username="*") == ["alice", "bob", "carol"]
    assert logins(username="a*") == ["alice"]
    assert logins(username="*O*") == ["bob", "carol"]  # case-insensitive
    assert logins(username="bob") == ["bob"]
    assert logins(username="bo") == []
    assert logins(surname="*er") == ["bob"]
    assert logins(givenname="carol") == ["carol"]
    assert logins(email="*@example.com") == ["alice"]
    assert logins(userid="=1001") == ["bob"]
    assert logins(userid=">=1001") == ["bob", "carol"]
    assert logins(userid=">1001") == ["carol"]
    assert logins(userid="<1001") == ["alice"]
    assert logins(userid="<=1001") == ["alice", "bob"]
    assert logins(userid="between 1002, 1000") == ["alice", "bob", "carol"]
    assert logins(userid="100*") == ["alice", "bob", "carol"]
    assert logins(username="a*", userid=">1000") == []
    assert logins(shell="/bin/bash") == []  # not an attribute: nothing matches
    assert [u.login for u in r.search(offset=1, limit=1)] == ["bob"]
    assert [u.login for u in r.search(offset=2, limit=5)] == ["carol"]


def test_comments_blank_and_malformed_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("# comment\n\nbroken line\nroot:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n"
                    "short:x:5\n")
    r = resolver(path)
    assert [u.login for u in r.search()] == ["root", "short"]
    assert r.uid_for("toor") == "0"  # a second login of uid 0 resolves to it
    record = r.get("0")
    assert record is not None and record.login == "root"
    assert r.uid_for("short") == "5"


def test_missing_file_is_a_resolver_error(tmp_path: Path) -> None:
    r = resolver(tmp_path / "nope")
    with pytest.raises(ResolverError, match="cannot read .*nope"):
        r.uid_for("alice")
    assert r.test_connection()[0] is False


def test_test_connection_counts_users(passwd_file: Path) -> None:
    assert resolver(passwd_file).test_connection() == (True, "Resolver config seems OK. 3 Users found.")


def test_default_file_is_etc_passwd() -> None:
    r = PasswdResolver("local", {})
    assert r.path == "/etc/passwd"
    assert r.uid_for("root") == "0"
