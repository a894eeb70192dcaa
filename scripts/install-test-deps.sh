#!/usr/bin/env bash
# Installs the Debian packages that the real-part tests use (PostgreSQL, radclient, ...).
# Needs root and apt; without them it says what is missing and leaves it to the tests,
# which skip with a reason (and fail under CI=true, where everything must run).
set -euo pipefail

PACKAGES=(postgresql freeradius-utils systemd groff-base chromium slapd ldap-utils gcc make libc6-dev libpam0g-dev pamtester)
# Other package lists (packaging/install-build-deps.sh) pass their own as arguments.
[ $# -eq 0 ] || PACKAGES=("$@")

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-test-deps: not root or no apt-get; missing: ${missing[*]} (those tests will be skipped)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-test-deps: installed ${missing[*]}"
