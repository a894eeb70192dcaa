#!/usr/bin/env bash
# Builds the distribution packages from a copy of the source tree, so the build leaves the
# working tree untouched:  packaging/build.sh deb|rpm [OUTDIR]   (default OUTDIR: dist/)
#   deb: dpkg-buildpackage -us -uc -b  ->  tesserad_*.deb, libpam-tesserad_*.deb
#   rpm: rpmbuild -bb rpm/tesserad.spec  ->  tesserad-*.rpm, libpam-tesserad-*.rpm
# Build dependencies: packaging/install-build-deps.sh.
set -euo pipefail

kind=${1:?usage: packaging/build.sh deb|rpm [OUTDIR]}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${2:-$top/dist}" && cd "${2:-$top/dist}" && pwd)
# pyenv and other shims must not replace the system python the package is built for.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$top/_tesserad/__init__.py")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tesserad-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
src="$scratch/tesserad-$version"
mkdir "$src"
tar -C "$top" -c --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist --exclude=./var \
    --exclude=./test-artifacts --exclude=__pycache__ --exclude='*.egg-info' --exclude=.mypy_cache \
    --exclude=.ruff_cache --exclude=.pytest_cache . | tar -C "$src" -x

case "$kind" in
deb)
    (cd "$src" && dpkg-buildpackage -us -uc -b >"$scratch/build.log" 2>&1) || { tail -40 "$scratch/build.log"; exit 1; }
    mv "$scratch"/*.deb "$scratch"/*.changes "$scratch"/*.buildinfo "$out"/
    ;;
rpm)
    mkdir -p "$scratch"/rpmbuild/{SOURCES,BUILD,RPMS,SRPMS}
    tar -C "$scratch" -czf "$scratch/rpmbuild/SOURCES/tesserad-$version.tar.gz" "tesserad-$version"
    # Debian's rpm has no database of the build dependencies: --nodeps.
    rpmbuild --define "_topdir $scratch/rpmbuild" --define "version_from_tree $version" --nodeps \
        -bb "$src/rpm/tesserad.spec" >"$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log"; exit 1; }
    find "$scratch/rpmbuild/RPMS" -name '*.rpm' -exec mv {} "$out"/ \;
    ;;
*)
    echo "usage: packaging/build.sh deb|rpm [OUTDIR]" >&2
    exit 2
    ;;
esac
echo "packages in $out"
