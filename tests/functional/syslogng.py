# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers to run syslog-ng with the threatq() source in functional tests.

Environment:
  THREATQ_MODULE_DIR   directory holding libthreatq.so
                       (default: <repo>/modules/threatq/.libs)
  THREATQ_INSTALLED=1  use the installed module: no --module-path at all
  SYSLOG_NG            syslog-ng binary (default: syslog-ng from PATH, else /usr/sbin)
  SYSLOG_NG_CTL        syslog-ng-ctl binary
  SYSLOG_NG_MODULE_DIR syslog-ng's own module dir (default: the Module-Directory
                       of `syslog-ng --version`, e.g. /usr/lib/syslog-ng/4.8)

Memory checks (tests/sanitizers.sh, tests/valgrind.sh):
  THREATQ_SYSLOG_NG_ENV      extra environment for syslog-ng processes only, as shell
                             words "VAR=value ..." (e.g. LD_PRELOAD=/usr/lib/.../libasan.so.8)
  THREATQ_SYSLOG_NG_WRAPPER  a command prefix for syslog-ng, as shell words
                             (e.g. "valgrind --error-exitcode=99")
  THREATQ_TEST_TIMEOUT_SCALE multiply every wait and timeout by this (default 1)
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FIELDS = "*,sources,attributes,attributes.name,attributes.value"


def _which(name, fallback):
    return shutil.which(name) or fallback


SYSLOG_NG = os.environ.get("SYSLOG_NG") or _which("syslog-ng", "/usr/sbin/syslog-ng")
SYSLOG_NG_CTL = os.environ.get("SYSLOG_NG_CTL") or _which("syslog-ng-ctl",
                                                          "/usr/sbin/syslog-ng-ctl")


def _version_info():
    """{'Installer-Version': '4.8.1', 'Module-Directory': ...} from `syslog-ng --version`."""
    try:
        out = subprocess.run([SYSLOG_NG, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30).stdout.decode()
    except OSError:
        return {}
    return dict(re.findall(r"^([\w-]+): *(.*)$", out, re.M))


_VERSION_INFO = _version_info()
# the syslog-ng under test: (major, minor), its series "4.8", and the @version line for it,
# so that every configuration gets the semantics of that release (typed values on 4.x)
VERSION = tuple(int(x) for x in
                _VERSION_INFO.get("Installer-Version", "3.38").split(".")[:2])
SERIES = "%d.%d" % VERSION
VERSION_LINE = "@version: " + SERIES
TYPED_VALUES = VERSION >= (4, 0)
SYSTEM_MODULE_DIR = os.environ.get("SYSLOG_NG_MODULE_DIR") or _VERSION_INFO.get(
    "Module-Directory", "/usr/lib/syslog-ng/" + SERIES)
SCL_CONF = next((p for p in (Path("/etc/syslog-ng/scl.conf"),
                             Path(_VERSION_INFO.get("Include-Path", "/usr/share/syslog-ng/include"))
                             / "scl.conf") if p.exists()), Path("/etc/syslog-ng/scl.conf"))
TIMEOUT_SCALE = float(os.environ.get("THREATQ_TEST_TIMEOUT_SCALE") or 1)


def syslog_ng_wrapper():
    """THREATQ_SYSLOG_NG_WRAPPER as a list of words (empty: none)."""
    return shlex.split(os.environ.get("THREATQ_SYSLOG_NG_WRAPPER", ""))


def syslog_ng_env():
    """The environment for syslog-ng: ours plus THREATQ_SYSLOG_NG_ENV (None: just ours)."""
    extra = {}
    for word in shlex.split(os.environ.get("THREATQ_SYSLOG_NG_ENV", "")):
        name, sep, value = word.partition("=")
        if not sep or not name:
            raise ValueError("THREATQ_SYSLOG_NG_ENV: %r is not VAR=value" % word)
        extra[name] = value
    return dict(os.environ, **extra) if extra else None


def installed_mode():
    return os.environ.get("THREATQ_INSTALLED") == "1"


def module_dir():
    return Path(os.environ.get("THREATQ_MODULE_DIR") or REPO / "modules" / "threatq" / ".libs")


def module_args():
    if installed_mode():
        return []
    return ["--module-path=%s:%s" % (SYSTEM_MODULE_DIR, module_dir())]


def module_available():
    """(ok, reason)"""
    if installed_mode():
        return True, "installed"
    so = module_dir() / "libthreatq.so"
    if so.exists():
        return True, str(so)
    return False, "%s does not exist (build the module or set THREATQ_MODULE_DIR / " \
                  "THREATQ_INSTALLED=1)" % so


# ---------------------------------------------------------------------------
# configuration text

class Raw(str):
    """An option value written as is (e.g. Raw('"a", "b"') for tags())."""


def _opt_value(v):
    if isinstance(v, Raw):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_opt_value(x) for x in v)
    return json.dumps(str(v))  # a double-quoted string with escapes


def threatq_source(**opts):
    """threatq(...) driver text.  Keyword names use '_' for '-';
    a value of None leaves the option out."""
    parts = []
    for k, v in opts.items():
        if v is None:
            continue
        parts.append("%s(%s)" % (k.replace("_", "-"), _opt_value(v)))
    return "threatq(%s)" % " ".join(parts)


def base_source_opts(emulator, collection, **overrides):
    opts = dict(url=emulator.url, collection=collection, client_id=emulator.client_id,
                client_secret=emulator.client_secret, poll_interval=1, page_size=1000)
    opts.update(overrides)
    return opts


def make_config(source_opts, out_file, extra=""):
    """A whole config: the threatq() source, a file destination writing $MESSAGE
    one per line to out_file, and any extra text (more destinations: they must
    add their own log paths; the source is called s_tq)."""
    return VERSION_LINE + """
options { stats-freq(0); time-reopen(1); };

source s_tq { %s; };

destination d_out { file("%s" template("$MESSAGE\\n")); };
log { source(s_tq); destination(d_out); };
%s
""" % (threatq_source(**source_opts), out_file, extra)


# ---------------------------------------------------------------------------
# reading output

def read_lines(path):
    """Complete lines of a file being written (a partial last line is ignored)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    text = data.decode("utf-8", "replace")
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return [line for line in text.split("\n")[:-1]]


def read_json_lines(path):
    """JSON documents, one per complete line; raises on a line that is not JSON."""
    out = []
    for n, line in enumerate(read_lines(path), 1):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise AssertionError("%s:%d is not JSON (%s): %r" % (path, n, e, line[:300]))
    return out


def dig(doc, dotted, default=KeyError):
    """doc['a']['b']['c'] for 'a.b.c' (ECS documents are nested objects)."""
    cur = doc
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            if default is KeyError:
                raise KeyError(dotted)
            return default
    return cur


def wait_for(predicate, timeout=30.0, interval=0.05, message="condition", alive=None):
    """Poll predicate() until it returns a true value (returned).  `alive`: an
    optional callable raising if a watched process died."""
    deadline = time.monotonic() + timeout * TIMEOUT_SCALE
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if alive is not None:
            alive()
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s (last: %r)"
                               % (timeout * TIMEOUT_SCALE, message, last))
        time.sleep(interval)


# ---------------------------------------------------------------------------

class SyslogNgError(AssertionError):
    pass


class SyslogNg:
    """One syslog-ng instance living in its own directory."""

    def __init__(self, workdir, name="syslog-ng"):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.conf_path = self.dir / ("%s.conf" % name)
        self.persist = self.dir / "persist"
        self.pidfile = self.dir / "pid"
        self.ctl = self.dir / "ctl"
        self.log_path = self.dir / ("%s.log" % name)
        self.proc = None
        self._logf = None
        self.starts = 0

    # -- config ---------------------------------------------------------
    def write_config(self, text):
        self.conf_path.write_text(text)
        return self.conf_path

    def command(self, *extra):
        return [*syslog_ng_wrapper(), SYSLOG_NG, "-F", "--no-caps", "-f", str(self.conf_path),
                "-R", str(self.persist), "-p", str(self.pidfile), "-c", str(self.ctl),
                *module_args(), "-e", *extra]

    def syntax_only(self, config=None, conf_path=None):
        """Run --syntax-only on config text (or the current config file).
        Returns (exit code, combined stdout+stderr)."""
        path = Path(conf_path) if conf_path else self.conf_path
        if config is not None:
            path.write_text(config)
        cmd = [*syslog_ng_wrapper(), SYSLOG_NG, "--syntax-only", "--no-caps", "-f", str(path),
               *module_args(), "-e"]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60 * TIMEOUT_SCALE,
                           env=syslog_ng_env())
        return p.returncode, p.stdout.decode("utf-8", "replace")

    # -- process --------------------------------------------------------
    def start(self, config=None, extra_args=(), timeout=20.0):
        if config is not None:
            self.write_config(config)
        if self.running():
            raise SyslogNgError("already running")
        self._logf = open(self.log_path, "ab")
        self.starts += 1
        self._logf.write(("\n===== start #%d: %s\n" % (self.starts, " ".join(
            self.command(*extra_args)))).encode())
        self._logf.flush()
        self.proc = subprocess.Popen(self.command(*extra_args), stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=subprocess.STDOUT,
                                     cwd=str(self.dir), env=syslog_ng_env())
        # ready = the control socket answers
        wait_for(lambda: self.ctl.exists() and self._ctl_ok(), timeout=timeout,
                 message="syslog-ng control socket", alive=self.check_alive)
        return self

    def _ctl_ok(self):
        try:
            p = subprocess.run([SYSLOG_NG_CTL, "stats", "-c", str(self.ctl)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=5 * TIMEOUT_SCALE)
            return p.returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        """Raise (with the log) if syslog-ng is not running any more."""
        if self.proc is not None and self.proc.poll() is not None:
            rc = self.proc.returncode
            raise SyslogNgError("syslog-ng exited unexpectedly (rc=%s); output:\n%s"
                                % (rc, self.output_tail()))

    def stop(self, timeout=15.0):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout * TIMEOUT_SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise SyslogNgError("syslog-ng did not stop within %ss of SIGTERM; output:\n%s"
                                    % (timeout * TIMEOUT_SCALE, self.output_tail()))
        return self._finish()

    def kill(self):
        """SIGKILL and reap."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        return self._finish()

    def _finish(self):
        rc = self.proc.returncode
        self.proc = None
        if self._logf:
            self._logf.close()
            self._logf = None
        return rc

    def wait_for(self, predicate, timeout=30.0, interval=0.05, message="condition"):
        """Poll predicate() while checking that syslog-ng stays alive."""
        return wait_for(predicate, timeout=timeout, interval=interval, message=message,
                        alive=self.check_alive)

    # -- output / stats -------------------------------------------------
    def output(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output_tail(self, n=60):
        return "\n".join(self.output().splitlines()[-n:])

    def stats_raw(self, *args):
        """`syslog-ng-ctl stats [args]` as text (args: e.g. "prometheus" on 4.x)."""
        p = subprocess.run([SYSLOG_NG_CTL, "stats", *args, "-c", str(self.ctl)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=10 * TIMEOUT_SCALE)
        return p.stdout.decode("utf-8", "replace")

    def stats(self):
        """syslog-ng-ctl stats as a list of dicts (SourceName, SourceId,
        SourceInstance, State, Type, Number)."""
        rows = []
        lines = self.stats_raw().splitlines()
        if not lines:
            return rows
        header = lines[0].split(";")
        for line in lines[1:]:
            cols = line.split(";")
            if len(cols) != len(header):
                continue
            row = dict(zip(header, cols))
            try:
                row["Number"] = int(row["Number"])
            except (KeyError, ValueError):
                pass
            rows.append(row)
        return rows

    def cleanup(self):
        if self.running():
            self.kill()


def hide_path(text, *paths):
    """Remove temp paths from output before looking for option names in it."""
    for p in paths:
        text = text.replace(str(p), "<tmp>")
    return text


def option_named(text, option):
    """True if text names the option (dash or underscore spelling)."""
    alts = {option, option.replace("-", "_")}
    return any(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(a), text) for a in alts)
