#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs functional test files under pytest.  `make check` uses it as the log compiler
# of every tests/functional/test_*.py (one TESTS entry each); by hand:
#
#   THREATQ_MODULE_DIR=$PWD/modules/threatq/.libs tests/functional/run.sh [FILE|pytest args...]
#
# Without arguments it runs the whole directory.  PYTEST_PYTHON (set by configure, "no"
# when no python3 with pytest was found) picks the interpreter; by hand the first of
# python3 and /usr/bin/python3 that has pytest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTEST_PYTHON:-}
if [ -z "$py" ]; then
  for py in python3 /usr/bin/python3; do "$py" -c 'import pytest' 2>/dev/null && break; done
fi
if [ "$py" = no ] || ! "$py" -c 'import pytest' 2>/dev/null; then
  echo "pytest not found: install python3-pytest"
  exit 99  # a hard error for automake's test driver, not a skip
fi
# The source tree may be read-only (make distcheck): no .pyc files, no pytest cache.
export PYTHONDONTWRITEBYTECODE=1
[ "$#" -gt 0 ] || set -- "$here"
exec "$py" -m pytest -q -p no:cacheprovider "$@"
