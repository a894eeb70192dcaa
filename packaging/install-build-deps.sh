#!/usr/bin/env bash
# Installs the Debian packages that building and testing the distribution packages needs:
# debhelper + dh-virtualenv (the .deb), lintian, mmdebstrap (a clean Debian root for the
# install test), rpm (rpmbuild), libpam0g-dev (the PAM module), systemd (systemd-analyze).
# As root with apt; otherwise it names what is missing (the installer is shared with the tests).
exec "$(dirname "$0")/../scripts/install-test-deps.sh" debhelper dh-virtualenv dpkg-dev lintian mmdebstrap rpm \
    libpam0g-dev systemd python3-venv python3-dev build-essential
