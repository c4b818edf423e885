# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by make-root.sh and run-in-root.sh: where the roots live, which
# suites there are, and the mounts below a root.
#
# A run that is killed (SIGKILL of its process group, a machine that stops a
# session) never reaches its cleanup trap, so its /proc, /sys and /dev mounts
# stay.  The next run must not mount over them (mount fails: "already
# mounted"), and above all must not `rm -rf` a tree with the host's /dev
# bound inside it.  Callers hold the root's lock, so every mount found here is
# a leftover.

roots_base=${THREATQ_ROOTS:-/var/cache/syslog-ng-threatq/roots}

# exits the script unless SUITE is one the scripts make a root for
roots_check_suite() {
  case "$1" in trixie|sid) ;; *) echo "unknown suite $1 (trixie|sid)" >&2; exit 2 ;; esac
}

# Mount points at or below DIR, deepest first (mountinfo's 5th field; the
# roots' paths hold no characters that mountinfo escapes).
roots_mounts_under() {
  local dir=${1%/}
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Unmount everything at or below DIR; fails if anything is still mounted.
roots_unmount_under() {
  local dir=$1 m left
  for m in $(roots_mounts_under "$dir"); do
    echo "unmounting $m, left by an earlier run" >&2
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  left=$(roots_mounts_under "$dir")
  if [ -n "$left" ]; then
    echo "still mounted below $dir: $left" >&2
    return 1
  fi
}
