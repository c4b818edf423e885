#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the syslog-ng-mod-threatq Debian package from a clean copy of this
# source tree and leave the .deb in OUTDIR.
#
#   tests/build-deb.sh OUTDIR
#
# dpkg-buildpackage writes its results into the parent of the source tree and
# dh_autoreconf/dh_auto_* write into the tree itself, so the build runs in a
# copy under a temporary directory: the checkout (which may be configured and
# built for development) is neither read for build products nor written to.
# Needs the Build-Depends of debian/control plus dpkg-dev, debhelper, fakeroot
# (tests/install-deps.sh installs them all); dpkg-buildpackage checks them.
set -euo pipefail

out=${1:?usage: $0 OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
ac_version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac")
if [ "$version" != "$ac_version" ]; then
  echo "FAIL: debian/changelog says $version but configure.ac says $ac_version" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/threatq-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/syslog-ng-threatq-$version"
mkdir "$tree"

# Copy the sources only: the files git tracks plus new files it does not
# ignore; never Makefile, config.status, .libs/, generated grammar, ...
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  while IFS= read -r -d '' f; do
    if [ -e "$src/$f" ] || [ -L "$src/$f" ]; then printf '%s\0' "$f"; fi
  done < <(git -C "$src" ls-files -z --cached --others --exclude-standard) |
    tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf -
else
  # An unpacked release tarball: it must not have been configured.
  if [ -e "$src/config.status" ]; then
    echo "FAIL: $src is configured; run 'make distclean' first" >&2
    exit 1
  fi
  cp -a "$src/." "$tree/"
fi

echo "== dpkg-buildpackage -us -uc -b in $tree"
(cd "$tree" && dpkg-buildpackage -us -uc -b)

shopt -s nullglob
debs=("$work"/syslog-ng-mod-threatq_*.deb)
if [ ${#debs[@]} -ne 1 ]; then
  echo "FAIL: expected one syslog-ng-mod-threatq .deb in $work, found: ${debs[*]:-none}" >&2
  exit 1
fi
cp "${debs[0]}" "$out/"
echo "== built $out/$(basename "${debs[0]}")"
