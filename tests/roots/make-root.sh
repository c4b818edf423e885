#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Create (or reuse) a Debian root with that release's syslog-ng and everything
# the build, the tests, the package check and the bench need.
#
#   tests/roots/make-root.sh trixie|sid [--rebuild]
#
# The root lives in ${THREATQ_ROOTS:-/var/cache/syslog-ng-threatq/roots}/<suite>.
# It is reused when its stamp file names the same suite and package list (and
# `syslog-ng --version` runs inside it); otherwise it is made again from
# Debian's archive with mmdebstrap (debootstrap as fallback).  Prints the root
# directory on the last line of stdout.  Needs root; run-in-root.sh calls it
# holding the root's lock.
set -euo pipefail
. "$(dirname "$0")/mounts.sh"

suite=${1:?usage: make-root.sh trixie|sid [--rebuild]}
rebuild=${2:-}
roots_check_suite "$suite"

root=$roots_base/$suite
mirror=${THREATQ_MIRROR:-http://deb.debian.org/debian}

# What tests/install-deps.sh installs on Debian 12, minus the sanitizer and
# valgrind tool chain (memory checks run on the host only), plus json-c whose
# headers syslog-ng 4.x's compat/json.h includes.
packages="build-essential autoconf automake libtool pkg-config bison flex python3
  syslog-ng-core syslog-ng-dev libglib2.0-dev libivykis-dev libjson-c-dev
  libcurl4-openssl-dev libssl-dev libyajl-dev
  libcriterion-dev python3-pytest curl ca-certificates openssl procps time
  syslog-ng-scl syslog-ng-mod-http syslog-ng-mod-sql libdbd-pgsql postgresql postgresql-client
  syslog-ng-mod-python syslog-ng-mod-rdkafka debhelper dpkg-dev fakeroot"
packages=$(echo $packages)
stamp="suite=$suite packages=$packages"

# sid's Release file may carry an expired Valid-Until.
apt_opts=(--aptopt='Acquire::Check-Valid-Until "false"' --aptopt='APT::Install-Recommends "false"')

valid() {
  [ -f "$root/.threatq-root" ] && [ "$(cat "$root/.threatq-root")" = "$stamp" ] &&
    chroot "$root" syslog-ng --version >/dev/null 2>&1
}

if [ "$rebuild" != --rebuild ] && valid; then
  echo "reusing $root ($(chroot "$root" pkg-config --modversion syslog-ng))" >&2
  echo "$root"
  exit 0
fi

mkdir -p "$roots_base"
tmp=$root.new
# Never remove a tree with anything mounted in it (a killed mmdebstrap leaves
# /proc and /dev bound inside): --one-file-system as well, in case.
roots_unmount_under "$tmp"
rm -rf --one-file-system "$tmp"
echo "creating $root from $mirror $suite (a few minutes)" >&2
if command -v mmdebstrap >/dev/null; then
  mmdebstrap --variant=apt --mode=root "${apt_opts[@]}" \
    --include="$(echo "$packages" | tr ' ' ',')" \
    "$suite" "$tmp" "$mirror" >&2
else
  debootstrap --variant=buildd --include="$(echo "$packages" | tr ' ' ',')" \
    "$suite" "$tmp" "$mirror" >&2
fi
echo 'Acquire::Check-Valid-Until "false";' > "$tmp/etc/apt/apt.conf.d/99threatq-no-valid-until"
# Daemons must not start inside the root during package installs (postgresql).
printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
chmod +x "$tmp/usr/sbin/policy-rc.d"
echo "$stamp" > "$tmp/.threatq-root"
roots_unmount_under "$root"
rm -rf --one-file-system "$root"
mv "$tmp" "$root"
echo "created $root ($(chroot "$root" pkg-config --modversion syslog-ng))" >&2
echo "$root"
