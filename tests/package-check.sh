#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the syslog-ng-mod-threatq .deb, install it with apt-get, test the
# installed files, and remove it again.
#
#   tests/package-check.sh [pytest arguments]
#
# The tests run with THREATQ_INSTALLED=1: syslog-ng gets no --module-path and
# the configurations only `@include "scl.conf"`, so they see exactly what the
# package installed ($(pkg-config --variable=moduledir syslog-ng)/libthreatq.so, the SCL in
# /usr/share/syslog-ng/include/scl/threatq/, the examples in
# /usr/share/doc/syslog-ng-mod-threatq/examples/).  Without arguments the
# ecosystem tests run (tests/functional/test_ecosystem.py); pass other pytest
# paths or options to run more.
#
# Needs root (apt-get) and everything tests/install-deps.sh installs.  While
# the package is installed, tests of a source tree (--module-path) on the same
# machine would see the installed copy too, so it is removed on exit in every
# case; the script refuses to run if the package was installed beforehand.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
pkg=syslog-ng-mod-threatq
python=${PYTEST_PYTHON:-/usr/bin/python3}

fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root: the package is installed and removed with apt-get"
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
  fail "$pkg is already installed; remove it first (apt-get remove $pkg)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/threatq-pkgcheck.XXXXXX")
installed=no
cleanup() {
  rc=$?
  if [ "$installed" = yes ]; then
    echo "== apt-get remove --purge $pkg"
    DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q "$pkg" >/dev/null || rc=1
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# 1. Build.
"$src/tests/build-deb.sh" "$work"
deb=$(ls "$work"/${pkg}_*.deb)

# 2. What the .deb holds.
moduledir=$(pkg-config --variable=moduledir syslog-ng)
scldir=$(pkg-config --variable=scldir syslog-ng)
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in "$moduledir/libthreatq.so" \
         "$scldir/threatq/threatq.conf" \
         /usr/share/doc/$pkg/README.md.gz \
         /usr/share/doc/$pkg/copyright \
         /usr/share/doc/$pkg/examples/threatq-to-elasticsearch.conf \
         /usr/share/doc/$pkg/examples/threatq-to-ndjson.conf \
         /usr/share/doc/$pkg/examples/threatq-to-postgresql.conf \
         /usr/share/doc/$pkg/examples/threatq-to-kafka.conf \
         /usr/share/doc/$pkg/examples/threatq-to-splunk.conf \
         /usr/share/doc/$pkg/docs/sinks.md.gz \
         /usr/share/$pkg/elasticsearch-template.json \
         /usr/share/$pkg/threatq-es-template; do
  grep -qxF "$f" <<<"$contents" || fail "$deb lacks $f"
done
if grep -q '\.la$\|\.a$' <<<"$contents"; then fail "$deb ships libtool/static archives"; fi
depends=$(dpkg-deb -f "$deb" Depends)
sng_version=$(pkg-config --modversion syslog-ng)
sng_next=$(awk -F. '{ print $1 "." $2 + 1 }' <<<"$sng_version")
grep -qF "syslog-ng-core (>= $sng_version~)" <<<"$depends" && grep -qF "syslog-ng-core (<< $sng_next~)" <<<"$depends" \
  || fail "Depends does not pin syslog-ng-core to the $sng_version series (< $sng_next): $depends"
echo "ok: $(basename "$deb") holds the module, the SCL, README and examples; Depends: $depends"

# 3. Install it the way users do.
chmod 755 "$work"   # so that apt's _apt user can read the file
echo "== apt-get install ./$(basename "$deb")"
installed=yes
(cd "$work" && DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "./$(basename "$deb")" >/dev/null)
registry=$(syslog-ng --module-registry 2>&1) || fail "syslog-ng --module-registry failed: $registry"
grep -q 'Module: threatq' <<<"$registry" || fail "syslog-ng does not find the installed threatq module"
echo "ok: syslog-ng finds the installed threatq module without --module-path"

# 4. Test the installed files.
echo "== THREATQ_INSTALLED=1 pytest ${*:-tests/functional/test_ecosystem.py}"
cd "$src"
if [ $# -eq 0 ]; then set -- tests/functional/test_ecosystem.py; fi
THREATQ_INSTALLED=1 "$python" -m pytest -q -p no:cacheprovider "$@"
