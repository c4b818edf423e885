#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run a command on a copy of this source tree inside a Debian root made by
# make-root.sh (created there first if it is missing or stale).
#
#   tests/roots/run-in-root.sh trixie|sid [COMMAND...]
#
# Without COMMAND the whole suite runs: the package check (build the .deb,
# apt-get install ./...deb, test the installed copy), build with -Werror,
# make check (unit and functional tests against that release's syslog-ng) and
# bench/run.sh --small.  COMMAND runs with `bash -c` in the copy of the tree,
# e.g. `tests/roots/run-in-root.sh trixie demo/run.sh`.
#
# The copy is fresh each time (git-tracked and new unignored files, like
# tests/build-deb.sh), in <root>/build/src.  /proc, /sys and /dev are mounted for the
# command and unmounted on every exit path.  One run per root at a time
# (flock), which also covers making the root; mounts an earlier, killed run
# left are unmounted first.  Needs root.
set -euo pipefail

suite=${1:?usage: run-in-root.sh trixie|sid [COMMAND...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/mounts.sh"
roots_check_suite "$suite"

mkdir -p "$roots_base"
exec 9>"$roots_base/$suite.lock"
flock 9
roots_unmount_under "$roots_base/$suite"
roots_unmount_under "$roots_base/$suite.new"
root=$("$here/make-root.sh" "$suite" | tail -n 1)

mounted=()
cleanup() {
  local rc=$? m
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    m=${mounted[i]}
    umount "$m" 2>/dev/null || umount -l "$m" || rc=1
  done
  exit $rc
}
trap cleanup EXIT INT TERM HUP

mount_in() {  # mount_in TARGET mount-args...
  local target=$root/$1
  shift
  mount "$@" "$target"
  mounted+=("$target")
}
mount_in proc -t proc proc
mount_in sys -t sysfs sysfs
mount_in dev --bind /dev
mount_in dev/pts --bind /dev/pts
mountpoint -q /dev/shm && mount_in dev/shm --bind /dev/shm

# A fresh copy of the sources.
rm -rf "$root/build"
mkdir -p "$root/build/src"
git -C "$src" ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do
    if [ -e "$src/$f" ] || [ -L "$src/$f" ]; then printf '%s\0' "$f"; fi
  done | tar -C "$src" --null -T - -cf - | tar -C "$root/build/src" -xf -

# The package check first: the copy is no git checkout, and tests/build-deb.sh
# only packages an unconfigured tree then.
if [ $# -eq 0 ]; then
  set -- 'bash tests/package-check.sh && ./autogen.sh && ./configure --enable-werror && make -j2 && make check && bench/run.sh --small'
fi
echo "== [$suite: syslog-ng $(chroot "$root" pkg-config --modversion syslog-ng)] $*" >&2
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  TERM="${TERM:-dumb}" THREATQ_TEST_TIMEOUT_SCALE="${THREATQ_TEST_TIMEOUT_SCALE:-}" \
  chroot "$root" /bin/bash -c 'cd /build/src && '"$*"
