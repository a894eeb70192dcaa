"""A throwaway OpenLDAP ``slapd`` for tests: a slapd.conf in a temporary directory, users
loaded with slapadd, plain LDAP, LDAPS and StartTLS with a test CA made here, on free
loopback ports. Nothing is installed: slapd and ldap-utils come from
scripts/install-test-deps.sh.

The directory (``dc=tesserad,dc=test``):
- ``ou=people``: alice, bob, carol and user01..user24 (inetOrgPerson + posixAccount), and a
  referral ``ou=elsewhere`` pointing at a server that does not exist;
- ``ou=groups``: ``cn=staff`` with alice and bob;
- ``ou=ad``: Active Directory-like users (a small schema adds objectGUID, sAMAccountName,
  userPrincipalName, userAccountControl): dave, and erin whose account is disabled;
- ``ou=new``: empty, for editing tests;
- ``cn=reader``: the service account the resolver binds as; it may read 10 entries per
  plain search, so listing everything needs paged searches.
``cn=Monitor`` counts the operations, so tests can prove what reached the server.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import free_port

BASE = "dc=tesserad,dc=test"
ADMIN_DN, ADMIN_PW = f"cn=admin,{BASE}", "adminpw"
READER_DN, READER_PW = f"cn=reader,{BASE}", "readerpw"
PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret", "carol": "carol-secret",
             "dave": "dave-secret", "erin": "erin-secret"}
PAGED_USERS = [f"user{n:02d}" for n in range(1, 25)]
PEOPLE = ["alice", "bob", "carol", *PAGED_USERS]
DAVE_GUID = uuid.UUID("6d2a4c1e-85b0-4f3a-9d51-0c7e2f19ab34")
ERIN_GUID = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"

AD_SCHEMA = """\
attributetype ( 1.3.6.1.4.1.4203.666.11.1 NAME 'objectGUID' EQUALITY octetStringMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.2 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch
    SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.3 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch
    SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.4 NAME 'userAccountControl' EQUALITY integerMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.10 NAME 'tesseraADUser' SUP top AUXILIARY
    MAY ( objectGUID $ sAMAccountName $ userPrincipalName $ userAccountControl ) )
"""


class SlapdUnavailable(Exception):
    """slapd or slapadd is not installed."""


@dataclass
class CertAuthority:
    """A CA, a server certificate for 127.0.0.1/localhost signed by it, and the
    certificate of an unrelated CA (for the wrong-CA test)."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    other_ca_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_ca(directory: Path) -> CertAuthority:
    ca_key, ca_cert = _ca("tesserad test LDAP CA")
    _, other_cert = _ca("some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = CertAuthority(directory / "ca.pem", directory / "server.pem", directory / "server.key",
                   directory / "other-ca.pem")
    paths.ca_file.write_bytes(ca_cert.public_bytes(pem))
    paths.other_ca_file.write_bytes(other_cert.public_bytes(pem))
    paths.cert_file.write_bytes(cert.public_bytes(pem))
    paths.key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    paths.key_file.chmod(0o600)
    return paths


def _person(login: str, number: int) -> str:
    password = PASSWORDS.get(login, f"{login}-secret")
    return f"""\
dn: uid={login},ou=people,{BASE}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: {login}
cn: {login.capitalize()} Example
sn: Example
givenName: {login.capitalize()}
mail: {login}@tesserad.test
telephoneNumber: +49 30 {number}
mobile: +49 170 {number}
mobile: +49 171 {number}
uidNumber: {number}
gidNumber: 100
homeDirectory: /home/{login}
userPassword: {password}
"""


def _ad_user(login: str, guid: uuid.UUID, control: int) -> str:
    return f"""\
dn: cn={login.capitalize()} AD,ou=ad,{BASE}
objectClass: inetOrgPerson
objectClass: tesseraADUser
cn: {login.capitalize()} AD
sn: AD
givenName: {login.capitalize()}
mail: {login}@ad.tesserad.test
sAMAccountName: {login}
userPrincipalName: {login}@ad.tesserad.test
objectGUID:: {base64.b64encode(guid.bytes_le).decode()}
userAccountControl: {control}
userPassword: {PASSWORDS[login]}
"""


def directory_ldif() -> str:
    entries = [f"""\
dn: {BASE}
objectClass: dcObject
objectClass: organization
dc: tesserad
o: tesserad tests
""", f"""\
dn: {READER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: {READER_PW}
"""]
    entries += [f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n"
                for ou in ("people", "groups", "ad", "new")]
    entries += [_person(login, 1000 + n) for n, login in enumerate(PEOPLE)]
    entries.append(f"""\
dn: ou=elsewhere,ou=people,{BASE}
objectClass: referral
objectClass: extensibleObject
ou: elsewhere
ref: ldap://127.0.0.1:9/ou=elsewhere,dc=other
""")
    entries.append(f"""\
dn: cn=staff,ou=groups,{BASE}
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,{BASE}
member: uid=bob,ou=people,{BASE}
""")
    entries += [_ad_user("dave", DAVE_GUID, 512), _ad_user("erin", ERIN_GUID, 514)]
    return "\n".join(entries)


def slapd_conf(workdir: Path, ca: CertAuthority) -> str:
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    return f"""\
{includes}
include {workdir}/ad.schema
pidfile {workdir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {ca.ca_file}
TLSCertificateFile {ca.cert_file}
TLSCertificateKeyFile {ca.key_file}

database mdb
suffix "{BASE}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PW}
directory {workdir}/db
index objectClass eq
limits dn.exact="{READER_DN}" size.soft=10 size.hard=10 size.pr=10 size.prtotal=unlimited
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read

database monitor
access to dn.subtree="cn=Monitor" by dn.exact="{ADMIN_DN}" read by * none
"""


@dataclass
class Slapd:
    workdir: Path
    ca: CertAuthority
    port: int
    ldaps_port: int
    # LDAPS on 127.0.0.2, a name the server certificate does not carry.
    mismatched_port: int
    process: subprocess.Popen[bytes] | None = None
    monitor_queries: int = 0

    @property
    def ldap_uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def mismatched_uri(self) -> str:
        return f"ldaps://127.0.0.2:{self.mismatched_port}"

    def start(self, timeout: float = 20) -> None:
        """Start slapd in the foreground (as a child) and wait until it accepts."""
        uris = f"{self.ldap_uri}/ {self.ldaps_uri}/ {self.mismatched_uri}/"
        self.process = subprocess.Popen([SLAPD, "-d", "0", "-f", str(self.workdir / "slapd.conf"), "-h", uris],
                                        stdout=subprocess.DEVNULL, stderr=open(self.workdir / "slapd.log", "wb"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.process.returncode}: "
                                   f"{(self.workdir / 'slapd.log').read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                # Not listening yet: wait for the child to change state (or 50 ms) instead of spinning.
                try:
                    self.process.wait(0.05)
                except subprocess.TimeoutExpired:
                    pass
        raise RuntimeError(f"slapd did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def completed_searches(self) -> int:
        """How many search operations slapd has completed (from cn=Monitor)."""
        result = subprocess.run(
            ["ldapsearch", "-x", "-LLL", "-H", self.ldap_uri, "-D", ADMIN_DN, "-w", ADMIN_PW,
             "-b", "cn=Search,cn=Operations,cn=Monitor", "-s", "base", "(objectClass=*)", "monitorOpCompleted"],
            capture_output=True, text=True, timeout=20, check=True)
        for line in result.stdout.splitlines():
            if line.startswith("monitorOpCompleted:"):
                # Earlier monitor queries are searches too: they are not counted.
                self.monitor_queries += 1
                return int(line.split(":", 1)[1]) - (self.monitor_queries - 1)
        raise AssertionError(f"no monitorOpCompleted in {result.stdout!r}")


def start_slapd(workdir: Path) -> Slapd:
    """Configure, load and start a slapd in ``workdir``."""
    if not (Path(SLAPD).exists() and Path(SLAPADD).exists()):
        raise SlapdUnavailable("slapd is not installed (Debian slapd; scripts/install-test-deps.sh)")
    if shutil.which("ldapsearch") is None:
        raise SlapdUnavailable("ldapsearch is not installed (Debian ldap-utils; scripts/install-test-deps.sh)")
    (workdir / "db").mkdir(parents=True)
    ca = make_ca(workdir)
    (workdir / "ad.schema").write_text(AD_SCHEMA)
    (workdir / "slapd.conf").write_text(slapd_conf(workdir, ca))
    (workdir / "directory.ldif").write_text(directory_ldif())
    loaded = subprocess.run([SLAPADD, "-f", str(workdir / "slapd.conf"), "-l", str(workdir / "directory.ldif")],
                            capture_output=True, text=True, timeout=60)
    if loaded.returncode != 0:
        raise RuntimeError(f"slapadd failed: {loaded.stderr[-2000:]}")
    server = Slapd(workdir, ca, free_port(), free_port(), free_port(host="127.0.0.2"))
    server.start()
    return server
