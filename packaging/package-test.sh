#!/usr/bin/env bash
# The packaging test (make package-test): builds the .deb and .rpm, runs lintian, installs
# the .debs into a clean Debian 12 root (mmdebstrap) and checks there that the package
# works and keeps or removes what it should:
#   first install: user, config, keys, database, initial admin; config check; daemon start
#   reinstall and upgrade to a bumped version: keys, database and config unchanged
#   remove keeps config and data, purge deletes them; the PAM profile is not enabled
# Needs root, network access to the Debian mirror and PyPI, and packaging/install-build-deps.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tesserad-package-test.XXXXXX")
root="$work/root"
trap 'rm -rf "$work"' EXIT
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
started=$(date +%s)
step() { echo "== $(( $(date +%s) - started ))s: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
fingerprint() { in_root sh -c 'sha256sum /etc/tesserad/tesserad.toml /var/lib/tesserad/keys/* /var/lib/tesserad/tesserad.db'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

step "building the .deb packages"
"$top/packaging/build.sh" deb "$work/out" >/dev/null
deb=$(ls "$work"/out/tesserad_*.deb)
pam=$(ls "$work"/out/libpam-tesserad_*_*.deb)
step "lintian (errors fail the test)"
lintian --fail-on error --suppress-tags unusual-interpreter "$work"/out/*.changes

step "building the .rpm packages"
"$top/packaging/build.sh" rpm "$work/out" >/dev/null
for rpm in tesserad libpam-tesserad; do
    ls "$work"/out/$rpm-[0-9]*.rpm >/dev/null || fail "no $rpm rpm"
done
rpm -qpl "$work"/out/tesserad-[0-9]*.rpm | grep -x /usr/lib/systemd/system/tesserad.service >/dev/null || fail "rpm lacks the unit"
rpm -qp --scripts "$work"/out/tesserad-[0-9]*.rpm | grep setup-instance >/dev/null || fail "rpm %post lacks setup-instance"

step "creating a clean Debian 12 root"
mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/lists bookworm "$root" >/dev/null
mkdir -p "$root/tmp/packages"
cp "$deb" "$pam" "$root/tmp/packages/"

step "first install"
in_root apt-get install -y -q /tmp/packages/"$(basename "$deb")" /tmp/packages/"$(basename "$pam")" >"$work/apt.log" 2>&1 \
    || { tail -30 "$work/apt.log"; fail "apt-get install"; }
in_root getent passwd tesserad >/dev/null || fail "no user tesserad"
[ "$(in_root stat -c '%U:%G %a' /etc/tesserad/tesserad.toml)" = "root:tesserad 640" ] || fail "config owner/mode"
[ "$(in_root stat -c '%U:%G %a' /var/lib/tesserad)" = "tesserad:tesserad 700" ] || fail "data dir owner/mode"
for key in secrets.key audit-signing.pem audit-verify.pem; do
    [ "$(in_root stat -c '%U %a' "/var/lib/tesserad/keys/$key")" = "tesserad 600" ] || fail "key $key"
done
[ "$(in_root stat -c '%U %a' /var/lib/tesserad/initial-admin-password)" = "root 600" ] || fail "password file"
grep -q "$(cat "$root/var/lib/tesserad/initial-admin-password")" "$work/apt.log" && fail "password in apt output"
in_root sh -c 'cd /var/lib/tesserad && runuser -u tesserad -- tesserad-manage admin verify admin' \
    < "$root/var/lib/tesserad/initial-admin-password" || fail "initial admin password"
[ -f "$root/lib/x86_64-linux-gnu/security/pam_tesserad.so" ] || fail "no pam_tesserad.so"
grep -q pam_tesserad "$root/etc/pam.d/common-auth" && fail "PAM profile enabled by default"
in_root man -w tesserad tesserad-manage >/dev/null 2>&1 || [ -f "$root/usr/share/man/man8/tesserad-manage.8.gz" ] \
    || fail "no man pages"

step "config check and a daemon start in the root"
web=$(free_port)
sed -i -e "s/tcp:8080:/tcp:$web:/" -e "s/127.0.0.1:1812/127.0.0.1:$(free_port)/" \
    -e "s/127.0.0.1:1813/127.0.0.1:$(free_port)/" "$root/etc/tesserad/tesserad.toml"
in_root tesserad-manage --config /etc/tesserad/tesserad.toml config check | grep "configuration is valid" >/dev/null \
    || fail "config check"
python3 "$top/packaging/chroot-daemon.py" "$root" "$web"
before=$(fingerprint)

step "reinstall the same version, then upgrade to a bumped version"
in_root apt-get install -y -q --reinstall /tmp/packages/"$(basename "$deb")" >/dev/null 2>&1 || fail "reinstall"
[ "$(fingerprint)" = "$before" ] || fail "reinstall changed config, keys or database"
bumped="$work/bumped"
dpkg-deb -R "$deb" "$bumped"
sed -i 's/^Version: \(.*\)/Version: \1+test1/' "$bumped/DEBIAN/control"
dpkg-deb -Zgzip -b "$bumped" "$root/tmp/packages/tesserad-bumped.deb" >/dev/null
in_root apt-get install -y -q /tmp/packages/tesserad-bumped.deb >/dev/null 2>&1 || fail "upgrade"
in_root dpkg-query -W -f='${Version}' tesserad | grep '+test1$' >/dev/null || fail "upgrade did not happen"
[ "$(fingerprint)" = "$before" ] || fail "upgrade changed config, keys or database"
python3 "$top/packaging/chroot-daemon.py" "$root" "$web"

step "remove keeps config and data, purge deletes them"
in_root dpkg -r tesserad >/dev/null
[ -f "$root/etc/tesserad/tesserad.toml" ] && [ -f "$root/var/lib/tesserad/keys/secrets.key" ] || fail "remove deleted data"
in_root dpkg -P tesserad >/dev/null
[ ! -e "$root/etc/tesserad" ] && [ ! -e "$root/var/lib/tesserad" ] || fail "purge left data behind"
in_root dpkg -P libpam-tesserad >/dev/null
[ ! -e "$root/usr/lib/tesserad" ] || fail "files left in /usr/lib/tesserad"
[ ! -e "$root/lib/x86_64-linux-gnu/security/pam_tesserad.so" ] || fail "PAM module left behind"

step "package test passed"
