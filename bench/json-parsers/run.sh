#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build and run the JSON parser benchmark for one ThreatQ indicator page.
# Why: justifies parsing ThreatQ pages with yajl's streaming callbacks instead of
# a DOM (json-glib / yajl_tree). Needs gcc, python3, libyajl-dev, libjson-glib-dev.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/build"
mkdir -p "$out"

pkg-config --exists json-glib-1.0 yajl glib-2.0 || {
  echo "missing dev packages: apt-get install -y libjson-glib-dev libyajl-dev" >&2
  exit 1
}
# shellcheck disable=SC2046  # pkg-config output must word-split
gcc -O2 -Wall -Wextra -o "$out/json_parsers" "$here/json_parsers.c" \
  $(pkg-config --cflags --libs json-glib-1.0 yajl glib-2.0)

python3 "$here/make_page.py" "$out/page.json" 1000 >/dev/null
size=$(wc -c <"$out/page.json")

echo "page:    $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1e6}") MB), 1000 indicators, $(awk "BEGIN{printf \"%.0f\", $size/1000}") B/indicator"
echo "machine: nproc=$(nproc), cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "libs:    json-glib $(pkg-config --modversion json-glib-1.0), yajl $(pkg-config --modversion yajl), glib $(pkg-config --modversion glib-2.0), gcc $(gcc -dumpversion) -O2"
echo "(MB = 10^6 bytes; each method timed >= 2 s; peak_RSS+_KB = peak RSS above the loaded page, one parse)"
"$out/json_parsers" "$out/page.json"
python3 "$here/python_json.py" "$out/page.json"
