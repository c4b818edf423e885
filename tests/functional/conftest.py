# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for the threatq() functional tests.

Run from the repository root:
    python3 -m pytest tests/functional        (Debian's python3-pytest: /usr/bin/python3)
"""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "emulator"))
sys.path.insert(0, str(HERE))

from threatq_emulator import ThreatQEmulator  # noqa: E402
import syslogng  # noqa: E402

CLIENT_ID = "tq-client-id"
CLIENT_SECRET = "tq-s3cr3t-value"
COLLECTION = "abc123"


@pytest.fixture
def emulator_factory():
    """emulator_factory(**kwargs) -> a started ThreatQEmulator with collection
    COLLECTION (stopped at teardown)."""
    started = []

    def make(indicators=0, collection=COLLECTION, seed=1, **kwargs):
        kwargs.setdefault("client_id", CLIENT_ID)
        kwargs.setdefault("client_secret", CLIENT_SECRET)
        emu = ThreatQEmulator(seed=seed, **kwargs)
        emu.add_collection(collection)
        if indicators:
            emu.add_indicators(indicators, collection=collection)
        emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def emulator(emulator_factory):
    return emulator_factory()


def require_module():
    ok, why = syslogng.module_available()
    if not ok:
        pytest.fail("threatq module not available: " + why, pytrace=False)


@pytest.fixture
def syslog_ng_factory(tmp_path):
    """syslog_ng_factory(name='syslog-ng') -> SyslogNg in a unique temp dir;
    every instance is killed at teardown if still running, and its output is
    printed when the test failed (pytest shows captured stdout)."""
    require_module()
    made = []

    def make(name="syslog-ng", workdir=None):
        s = syslogng.SyslogNg(workdir or tmp_path / name, name)
        made.append(s)
        return s

    yield make
    for s in made:
        s.cleanup()
        out = s.output()
        if out:
            print("----- %s output (%s) -----\n%s" % (s.name, s.log_path, out[-20000:]))


@pytest.fixture
def syslog_ng(syslog_ng_factory):
    return syslog_ng_factory()
