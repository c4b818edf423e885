#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo: syslog-ng pulls a sample ThreatQ collection from the local emulator and
# prints one ECS JSON document per indicator, then shows the threatq() stats.
#
#   demo/run.sh                 (after ./autogen.sh && ./configure && make)
#   tests/roots/run-in-root.sh trixie 'demo/run.sh --build'
#                               the same in a Debian 13 root (syslog-ng 4.8)
#
# --build runs ./autogen.sh, ./configure and make first.  It works with
# syslog-ng 3.38 and 4.x alike: the @version and module dir come from the
# syslog-ng it finds; on 4.x it also shows `syslog-ng-ctl stats prometheus`.
#
# Environment:
#   THREATQ_MODULE_DIR   directory of libthreatq.so (default: modules/threatq/.libs)
#   THREATQ_INSTALLED=1  use the installed module (no --module-path)
#   DEMO_INDICATORS      how many sample indicators (default 20)
#   DEMO_KEEP=1          keep the temporary directory (config, logs, output)
#   PYTHON               python3 interpreter (default python3)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
n=${DEMO_INDICATORS:-20}
python=${PYTHON:-python3}
syslog_ng=${SYSLOG_NG:-$(command -v syslog-ng || echo /usr/sbin/syslog-ng)}
syslog_ng_ctl=${SYSLOG_NG_CTL:-$(command -v syslog-ng-ctl || echo /usr/sbin/syslog-ng-ctl)}
if [ "${1:-}" = --build ]; then
  (cd "$repo" && ./autogen.sh >/dev/null && ./configure -q && make -j2 >/dev/null)
fi
version=$("$syslog_ng" --version)
series=$(sed -n 's/^Installer-Version: *\([0-9]*\.[0-9]*\).*/\1/p' <<<"$version")
system_modules=${SYSLOG_NG_MODULE_DIR:-$(sed -n 's/^Module-Directory: *//p' <<<"$version")}

module_args=()
if [ "${THREATQ_INSTALLED:-}" != 1 ]; then
  module_dir=${THREATQ_MODULE_DIR:-$repo/modules/threatq/.libs}
  if [ ! -e "$module_dir/libthreatq.so" ]; then
    echo "demo: $module_dir/libthreatq.so not found; build first (./autogen.sh && ./configure && make)" >&2
    echo "      or set THREATQ_MODULE_DIR, or THREATQ_INSTALLED=1 for the installed package" >&2
    exit 1
  fi
  module_args=("--module-path=$system_modules:$module_dir")
fi

# syslog-ng opens /dev/stdout itself (a file of its own when stdout is a regular
# file): make this shell append too, so its lines do not overwrite syslog-ng's
if [ -f /dev/stdout ]; then
  exec >>/dev/stdout
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/threatq-demo.XXXXXX")
emu_pid=""
sng_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$sng_pid" ] && kill -0 "$sng_pid" 2>/dev/null; then
    kill -TERM "$sng_pid" 2>/dev/null || true
    wait "$sng_pid" 2>/dev/null || true
  fi
  if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
    kill -TERM "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
  fi
  if [ "${DEMO_KEEP:-}" = 1 ] || [ "$rc" != 0 ]; then
    echo "demo: files kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "demo: $*" >&2
  if [ -s "$tmp/syslog-ng.log" ]; then
    echo "----- syslog-ng output -----" >&2
    tail -n 40 "$tmp/syslog-ng.log" >&2
  fi
  exit 1
}

# wait_until SECONDS COMMAND...: poll until the command succeeds
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# 1. the emulator, on a free loopback port
"$python" "$repo/tests/emulator/threatq_emulator.py" --port 0 --collection demo \
  --indicators "$n" --client-id demo-client --client-secret demo-secret \
  --port-file "$tmp/port" >"$tmp/emulator.out" 2>"$tmp/emulator.err" &
emu_pid=$!
wait_until 10 test -s "$tmp/port" || fail "the emulator did not start: $(cat "$tmp/emulator.err")"
url="http://127.0.0.1:$(cat "$tmp/port")"
echo "demo: ThreatQ emulator at $url with $n indicators in collection 'demo'" >&2

# 2. the configuration
cat >"$tmp/syslog-ng.conf" <<EOF
@version: $series
options { stats-freq(0); };

source s_threatq {
  threatq(
    url("$url")
    collection("demo")
    client-id("demo-client")
    client-secret("demo-secret")
    poll-interval(5)
  );
};

destination d_terminal { file("/dev/stdout" template("\$MESSAGE\n")); };
destination d_copy { file("$tmp/out.ndjson" template("\$MESSAGE\n")); };

log { source(s_threatq); destination(d_terminal); destination(d_copy); };
EOF
echo "demo: configuration in $tmp/syslog-ng.conf" >&2

# 3. syslog-ng in the foreground (-F), internal messages to a log file
"$syslog_ng" -F --no-caps -f "$tmp/syslog-ng.conf" -R "$tmp/persist" -p "$tmp/pid" \
  -c "$tmp/ctl" "${module_args[@]}" -e 2>"$tmp/syslog-ng.log" &
sng_pid=$!

lines() { [ -f "$tmp/out.ndjson" ] && wc -l <"$tmp/out.ndjson" || echo 0; }
all_printed() {
  kill -0 "$sng_pid" 2>/dev/null || fail "syslog-ng exited"
  [ "$(lines)" -ge "$n" ]
}
wait_until 60 all_printed || fail "only $(lines) of $n indicators arrived in 60 s"

echo >&2
echo "demo: all $n indicators received; syslog-ng-ctl stats for the threatq source:" >&2
"$syslog_ng_ctl" stats -c "$tmp/ctl" | grep -Ei "threatq|s_threatq" | sort || true
if [ "${series%%.*}" -ge 4 ]; then
  echo "demo: syslog-ng-ctl stats prometheus (syslog-ng $series):" >&2
  "$syslog_ng_ctl" stats prometheus -c "$tmp/ctl" | grep -E "threatq|s_threatq" | sort || true
fi

kill -TERM "$sng_pid"
wait "$sng_pid" || fail "syslog-ng exited with status $? on SIGTERM"
sng_pid=""
echo "demo: done" >&2
