#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Record wire transcripts between the real (Debian-packaged) Network UPS Tools
# programs and write them as test fixtures for the Rust reimplementation.
#
# Everything runs on 127.0.0.1 / Unix sockets inside a fresh temporary
# directory.  Only the bytes the real programs exchange are recorded; no NUT
# code or text is reused here.
#
# Usage:  python3 tools/record-transcripts.py [--keep] [--out DIR]
#
# Python 3 standard library only.

import argparse
import datetime
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "nut-proto" / "tests" / "transcripts"

# Hard upper bound for the whole run; every loop below also checks it.
RUN_LIMIT_S = 420.0
START = time.monotonic()
DEADLINE = START + RUN_LIMIT_S
MAX_ITER = 200000  # generic iteration cap for loops

ADMIN_PW = "adminpass"
PRIMARY_PW = "primarypass"
SECONDARY_PW = "secondarypass"

STOP = threading.Event()


def now():
    return time.monotonic()


def time_left():
    return DEADLINE - now()


def log(msg):
    print("[record] %6.1fs %s" % (now() - START, msg), file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Locating the real programs


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def find_binary(name, candidates):
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK) and is_elf(c):
            return c
    w = shutil.which(name)
    if w and is_elf(w):
        return w
    raise SystemExit("cannot find a real %s binary (tried %s)" % (name, candidates))


def pkg_versions():
    try:
        out = subprocess.run(["dpkg-query", "-W", "nut-server", "nut-client"],
                             capture_output=True, text=True, timeout=10).stdout
        parts = [" ".join(l.split()) for l in out.splitlines() if l.strip()]
        return ", ".join(parts) if parts else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ---------------------------------------------------------------------------
# Recording


class Recorder:
    """Thread-safe ordered list of (time, tag, line-bytes, had_lf)."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.items = []
        self.opened = now()
        self.done = threading.Event()

    def add(self, tag, line, complete=True):
        with self.lock:
            self.items.append((now(), tag, bytes(line), complete))

    def snapshot(self):
        with self.lock:
            return list(self.items)

    def count(self, tag, text):
        return sum(1 for (_, t, l, _) in self.snapshot() if t == tag and l == text)

    def index_of(self, tag, text, start=0):
        items = self.snapshot()
        for i in range(start, len(items)):
            if items[i][1] == tag and items[i][2] == text:
                return i
        return None


def wait_until(pred, timeout, step=0.1):
    end = min(now() + timeout, DEADLINE)
    for _ in range(MAX_ITER):
        if pred():
            return True
        if now() >= end or STOP.is_set():
            return False
        time.sleep(step)
    return False


def pump(src, dst, tag, rec):
    """Copy bytes src->dst, recording every LF-terminated line first."""
    buf = b""
    src.settimeout(0.25)
    for _ in range(MAX_ITER):
        if STOP.is_set() or now() > DEADLINE:
            break
        try:
            data = src.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            rec.add(tag, line, True)
        try:
            dst.sendall(data)
        except OSError:
            break
    if buf:
        rec.add(tag, buf, False)
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def run_pair(a, b, tag_ab, tag_ba, rec):
    t1 = threading.Thread(target=pump, args=(a, b, tag_ab, rec), daemon=True)
    t2 = threading.Thread(target=pump, args=(b, a, tag_ba, rec), daemon=True)
    t1.start()
    t2.start()

    def closer():
        t1.join(max(1.0, time_left()))
        t2.join(max(1.0, time_left()))
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass
        rec.done.set()

    threading.Thread(target=closer, daemon=True).start()


class Listener:
    """Accept loop in a thread; handler(conn) per accepted socket."""

    def __init__(self, sock, handler):
        self.sock = sock
        self.handler = handler
        self.sock.settimeout(0.25)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        for _ in range(MAX_ITER):
            if STOP.is_set() or now() > DEADLINE:
                break
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn.settimeout(None)
            try:
                self.handler(conn)
            except Exception as e:  # keep accepting
                log("handler error: %r" % (e,))
                conn.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.thread.join(2)


class TcpProxy:
    """127.0.0.1:<free port> -> 127.0.0.1:<upstream>, one Recorder per connection."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        self.port = s.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []
        self.listener = Listener(s, self._handle)

    def _handle(self, csock):
        usock = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        usock.settimeout(None)
        rec = Recorder("tcp")
        with self.lock:
            self.conns.append(rec)
        run_pair(csock, usock, "C", "S", rec)

    def mark(self):
        with self.lock:
            return len(self.conns)

    def since(self, mark):
        with self.lock:
            return list(self.conns[mark:])

    def close(self):
        self.listener.close()


class UnixProxy:
    """Listens where upsd expects a driver socket, forwards to the real one."""

    def __init__(self, listen_path, upstream_path):
        self.upstream_path = upstream_path
        if os.path.exists(listen_path):
            os.unlink(listen_path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(listen_path)
        os.chmod(listen_path, 0o660)
        s.listen(16)
        self.lock = threading.Lock()
        self.conns = []
        self.listener = Listener(s, self._handle)

    def _handle(self, csock):
        usock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        usock.settimeout(5)
        usock.connect(self.upstream_path)
        usock.settimeout(None)
        rec = Recorder("unix")
        with self.lock:
            self.conns.append(rec)
        run_pair(csock, usock, "U", "D", rec)

    def first(self):
        with self.lock:
            return self.conns[0] if self.conns else None

    def close(self):
        self.listener.close()


# ---------------------------------------------------------------------------
# A tiny fake driver (our own code) for ENUM / RANGE / tracking data


def tokenize(line):
    """Split a protocol line: whitespace separated, "..." only at word start,
    backslash escapes the next character.  Good enough for upsd's output."""
    words, cur, inword, quoted, esc = [], "", False, False, False
    for ch in line:
        if esc:
            cur += ch
            esc = False
            continue
        if ch == "\\":
            esc = True
            inword = True
            continue
        if quoted:
            if ch == '"':
                words.append(cur)
                cur, inword, quoted = "", False, False
            else:
                cur += ch
            continue
        if ch in " \t\r":
            if inword:
                words.append(cur)
                cur, inword = "", False
            continue
        if ch == '"' and not inword:
            quoted, inword = True, True
            continue
        cur += ch
        inword = True
    if inword:
        words.append(cur)
    return words


def encode(value):
    out = ""
    for ch in value:
        if ch in '\\"#':
            out += "\\"
        out += ch
    return out


FAKE_DUMP = [
    'SETINFO device.model "Fake Model"',
    'SETINFO input.transfer.high "127"',
    "ADDRANGE input.transfer.high 120 135",
    "ADDRANGE input.transfer.high 140 150",
    "SETFLAGS input.transfer.high RW NUMBER",
    'SETINFO input.transfer.low "103"',
    'ADDENUM input.transfer.low "103"',
    'ADDENUM input.transfer.low "106"',
    'ADDENUM input.transfer.low "108"',
    "SETFLAGS input.transfer.low RW NUMBER",
    'SETINFO ups.id "fake id"',
    "SETAUX ups.id 8",
    "SETFLAGS ups.id RW STRING",
    'SETINFO ups.location "nowhere"',
    "SETFLAGS ups.location RW STRING",
    'SETINFO ups.status "OL"',
    "ADDCMD beeper.toggle",
    "ADDCMD load.off",
    "ADDCMD test.battery.start",
    "DATAOK",
    "DUMPDONE",
]

# a driver that reports its own data as stale (for ERR DATA-STALE)
STALE_DUMP = [
    'SETINFO ups.status "OL"',
    "ADDCMD load.off",
    "DATASTALE",
    "DUMPDONE",
]


class FakeDriver:
    def __init__(self, path, dump):
        self.dump = dump
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        os.chmod(path, 0o660)
        s.listen(16)
        self.lock = threading.Lock()
        self.conns = []
        self.listener = Listener(s, self._handle)

    def _handle(self, sock):
        rec = Recorder("fake")
        with self.lock:
            self.conns.append(rec)
        threading.Thread(target=self._serve, args=(sock, rec), daemon=True).start()

    def _serve(self, sock, rec):
        buf = b""
        sock.settimeout(0.25)

        def send(line):
            rec.add("D", line.encode())
            sock.sendall(line.encode() + b"\n")

        try:
            for _ in range(MAX_ITER):
                if STOP.is_set() or now() > DEADLINE:
                    break
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    continue
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    rec.add("U", raw)
                    w = tokenize(raw.decode("ascii", "replace"))
                    if not w:
                        continue
                    cmd = w[0].upper()
                    if cmd == "DUMPALL":
                        for l in self.dump:
                            send(l)
                    elif cmd == "PING":
                        send("PONG")
                    elif cmd == "SET" and len(w) >= 3:
                        send('SETINFO %s "%s"' % (w[1], encode(w[2])))
                        if len(w) >= 5 and w[3].upper() == "TRACKING":
                            send("TRACKING %s 0" % w[4])
                    elif cmd == "INSTCMD" and len(w) >= 2:
                        if len(w) >= 4 and w[-2].upper() == "TRACKING":
                            send("TRACKING %s 0" % w[-1])
        except OSError:
            pass
        finally:
            if buf:
                rec.add("U", buf, False)
            sock.close()
            rec.done.set()

    def first(self):
        with self.lock:
            return self.conns[0] if self.conns else None

    def close(self):
        self.listener.close()


# ---------------------------------------------------------------------------
# Scripted raw client (talks through the TCP proxy, which does the recording)


class RawClient:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def readline(self, timeout=5.0):
        end = min(now() + timeout, DEADLINE)
        for _ in range(MAX_ITER):
            if b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                return line
            left = end - now()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(4096)
            except socket.timeout:
                return None
            except OSError:
                return None
            if not data:
                return None
            self.buf += data
        return None

    def ask(self, cmd):
        self.s.sendall(cmd.encode("ascii") + b"\n")
        first = self.readline()
        if first is None:
            return []
        lines = [first]
        if first.startswith(b"BEGIN LIST"):
            for _ in range(5000):
                l = self.readline()
                if l is None:
                    break
                lines.append(l)
                if l.startswith(b"END LIST"):
                    break
        return lines

    def logout(self):
        r = self.ask("LOGOUT")
        # upsd closes the connection on its next main-loop pass
        self.s.settimeout(5)
        end = min(now() + 6, DEADLINE)
        for _ in range(1000):
            if now() > end:
                break
            try:
                if not self.s.recv(4096):
                    break
            except (socket.timeout, OSError):
                break
        self.close()
        return r

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def tracking_id(reply):
    if reply and reply[0].startswith(b"OK TRACKING "):
        return reply[0].split()[2].decode()
    return None


# ---------------------------------------------------------------------------
# Processes


class Procs:
    def __init__(self, logdir):
        self.logdir = logdir
        self.procs = []  # (name, Popen, logfile)

    def start(self, name, argv, env):
        lf = open(os.path.join(self.logdir, name + ".log"), "wb")
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                             stdout=lf, stderr=subprocess.STDOUT)
        self.procs.append((name, p, lf))
        log("started %s pid %d: %s" % (name, p.pid, " ".join(argv)))
        return p

    def stop(self, p):
        for name, q, lf in list(self.procs):
            if q is not p:
                continue
            if q.poll() is None:
                try:
                    os.kill(q.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    q.wait(5)
                except subprocess.TimeoutExpired:
                    try:
                        os.kill(q.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    q.wait(5)
            lf.close()
            self.procs.remove((name, q, lf))
            log("stopped %s pid %d (rc %s)" % (name, q.pid, q.returncode))

    def stop_all(self):
        for _, p, _ in list(reversed(self.procs)):
            self.stop(p)


def run_client(argv, env, timeout=15):
    """Run a client program to completion; subprocess.run kills it on timeout."""
    try:
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b"", e.stderr or b""


# ---------------------------------------------------------------------------
# Fixture writing


def printable(b):
    return all(0x20 <= c <= 0x7E for c in b)


class Fixture:
    def __init__(self, fname, title, what):
        self.fname = fname
        self.title = title
        self.what = list(what)
        self.notes = []
        self.entries = []  # (tag, bytes, complete)
        self.kind = "sock" if fname.startswith("sock-") else "net"

    def add_recorder_items(self, items):
        for (_, tag, line, complete) in items:
            self.entries.append((tag, line, complete))

    def note(self, text):
        self.notes.append(text)

    def client_output(self, argv, rc, out, err):
        self.note("client command: %s" % " ".join(argv))
        self.note("client exit status: %s" % rc)
        for label, data in (("stdout", out), ("stderr", err)):
            lines = data.decode("ascii", "replace").splitlines()
            for l in lines[:40]:
                l = "".join(ch if 0x20 <= ord(ch) <= 0x7E else "?" for ch in l)
                self.note("client %s| %s" % (label, l))
            if len(lines) > 40:
                self.note("client %s| ... (%d more lines)" % (label, len(lines) - 40))

    def render(self, header):
        req = "C" if self.kind == "net" else "U"
        # group into exchanges: a request line plus the lines that follow it
        groups, cur = [], []
        for e in self.entries:
            if e[0] == req and cur:
                groups.append(cur)
                cur = []
            cur.append(e)
        if cur:
            groups.append(cur)
        body, notes = [], list(self.notes)
        for g in groups:
            bad = [l for (_, l, _) in g if not printable(l)]
            if bad:
                notes.append("left out one exchange (first line %r...): it contains"
                             " bytes outside printable ASCII" % g[0][1][:40])
                continue
            for tag, line, complete in g:
                if not complete:
                    notes.append("a %s line arrived without a trailing LF (%d bytes,"
                                 " starts %r) and is not recorded"
                                 % (tag, len(line), line[:40].decode("ascii", "replace")))
                    continue
                if tag == "S" and len(line) > 512:
                    notes.append("an S line of %d bytes (a reply cut at 512 bytes without"
                                 " LF merged with the next reply) is not recorded" % len(line))
                    continue
                body.append("%s: %s" % (tag, line.decode("ascii")))
        out = ["# %s" % self.title]
        out += ["# %s" % w for w in self.what]
        out += ["# %s" % h for h in header]
        out += ["# note: %s" % n for n in notes]
        out += body
        return "\n".join(out) + "\n", len(body)


def trim_pings(items, keep_pairs):
    """Drop PING/PONG lines after the first keep_pairs PINGs; return (items, dropped)."""
    out, seen, dropped, skip_pong = [], 0, 0, False
    for it in items:
        tag, line = it[1], it[2]
        if tag == "U" and line == b"PING":
            seen += 1
            if seen > keep_pairs:
                dropped += 1
                skip_pong = True
                continue
        if tag == "D" and line == b"PONG" and skip_pong:
            skip_pong = False
            continue
        out.append(it)
    return out, dropped


# ---------------------------------------------------------------------------
# Configuration


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def setup_dirs(tmp, upsd_port):
    etc = os.path.join(tmp, "etc")
    state = os.path.join(tmp, "state")      # upsd's STATEPATH (proxies live here)
    drvstate = os.path.join(tmp, "drvstate")  # real dummy-ups sockets
    pids = os.path.join(tmp, "pid")
    logs = os.path.join(tmp, "log")
    for d in (etc, state, drvstate, pids, logs):
        os.mkdir(d)
        os.chmod(d, 0o770)
    write(os.path.join(etc, "ups.conf"), "\n".join([
        "# written by record-transcripts.py",
        "[dummy]",
        "  driver = dummy-ups",
        "  port = dummy.dev",
        '  desc = "Test \\"quoted\\" \\# box"',
        "",
        "[seq]",
        "  driver = dummy-ups",
        "  port = seq.seq",
        "",
        "[fake]",
        "  driver = dummy-ups",
        "  port = fake.dev",
        '  desc = "Fake driver with enums and ranges"',
        "",
        "[nodriver]",
        "  driver = dummy-ups",
        "  port = nodriver.dev",
        '  desc = "Configured but no driver running"',
        "",
        "[stale]",
        "  driver = dummy-ups",
        "  port = stale.dev",
        '  desc = "Fake driver that reports DATASTALE"',
        "",
    ]))
    # dummy-ups input: one value with a double quote and a backslash
    write(os.path.join(etc, "dummy.dev"), "\n".join([
        "ups.status: OL",
        "battery.charge: 100",
        "ups.id: Quote\"Corp\\\\x",
        "input.voltage: 230.0",
        "",
    ]))
    write(os.path.join(etc, "seq.seq"), "\n".join([
        "ups.status: OL",
        "battery.charge: 100",
        "TIMER 3",
        "ups.status: OB DISCHRG",
        "battery.charge: 80",
        "TIMER 3",
        "ups.status: OB LB DISCHRG",
        "battery.charge: 10",
        "TIMER 3",
        "",
    ]))
    write(os.path.join(etc, "upsd.conf"), "\n".join([
        "LISTEN 127.0.0.1 %d" % upsd_port,
        "MAXAGE 6",
        "",
    ]))
    write(os.path.join(etc, "upsd.users"), "\n".join([
        "[admin]",
        "  password = %s" % ADMIN_PW,
        "  actions = SET FSD",
        "  instcmds = ALL",
        "",
        "[monprimary]",
        "  password = %s" % PRIMARY_PW,
        "  upsmon primary",
        "",
        "[monsecondary]",
        "  password = %s" % SECONDARY_PW,
        "  upsmon secondary",
        "",
    ]))
    return etc, state, drvstate, pids, logs


# Debian's upsmon 2.8.0 writes its PID file into the compiled-in PID directory
# (/run/nut) and ignores NUT_ALTPIDPATH; it also probes the PID found there.
# To keep it away from the system's /run/nut we run it in a private mount
# namespace with a temp directory bind-mounted over that path.
SYSTEM_PIDDIRS = ["/run/nut", "/var/run/nut"]


def upsmon_argv(upsmon_bin, tmp, name, as_root):
    base = [upsmon_bin, "-F", "-D", "-p"]
    dirs = []
    for d in SYSTEM_PIDDIRS:
        if os.path.isdir(d) and os.path.realpath(d) not in dirs:
            dirs.append(os.path.realpath(d))
    if not dirs:
        return base, "no system PID directory exists; upsmon started directly"
    unshare = shutil.which("unshare")
    if as_root and unshare:
        try:
            r = subprocess.run([unshare, "-m", "--propagation", "private", "true"],
                               capture_output=True, timeout=10)
            usable = r.returncode == 0
        except (OSError, subprocess.SubprocessError):
            usable = False
        if usable:
            script, params = "", []
            for i, d in enumerate(dirs):
                priv = os.path.join(tmp, "%s-piddir%d" % (name, i))
                os.mkdir(priv)
                os.chmod(priv, 0o770)
                script += 'mount --bind "$%d" "$%d" && ' % (2 * i + 2, 2 * i + 3)
                params += [priv, d]
            script += 'exec "$1" -F -D -p'
            return ([unshare, "-m", "--propagation", "private", "sh", "-c", script,
                     "sh", upsmon_bin] + params,
                    "upsmon ran in a private mount namespace (its PID file dir %s"
                    " bind-mounted to a temp dir)" % " ".join(dirs))
    if not any(os.access(d, os.W_OK) for d in dirs):
        return base, "system PID directory not writable; upsmon started directly"
    return None, "cannot isolate upsmon's PID file from %s" % " ".join(dirs)


def upsmon_conf(tmp, name, port, user, pw, role):
    d = os.path.join(tmp, "etc-" + name)
    os.mkdir(d)
    os.chmod(d, 0o770)
    write(os.path.join(d, "upsmon.conf"), "\n".join([
        "MONITOR dummy@127.0.0.1:%d 1 %s %s %s" % (port, user, pw, role),
        "MINSUPPLIES 1",
        'SHUTDOWNCMD "/bin/true"',
        "POLLFREQ 1",
        "POLLFREQALERT 1",
        "HOSTSYNC 5",
        "DEADTIME 15",
        "FINALDELAY 0",
        "POWERDOWNFLAG %s" % os.path.join(tmp, "killpower-" + name),
        "",
    ]))
    return d


# ---------------------------------------------------------------------------
# Main scenario


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    args = ap.parse_args()

    upsd_bin = find_binary("upsd", ["/lib/nut/upsd", "/usr/lib/nut/upsd",
                                    "/usr/sbin/upsd", "/sbin/upsd"])
    dummy_bin = find_binary("dummy-ups", ["/lib/nut/dummy-ups", "/usr/lib/nut/dummy-ups"])
    upsmon_bin = find_binary("upsmon", ["/lib/nut/upsmon", "/usr/lib/nut/upsmon",
                                        "/sbin/upsmon", "/usr/sbin/upsmon"])
    upsc = find_binary("upsc", ["/usr/bin/upsc", "/bin/upsc"])
    upsrw = find_binary("upsrw", ["/usr/bin/upsrw", "/bin/upsrw"])
    upscmd = find_binary("upscmd", ["/usr/bin/upscmd", "/bin/upscmd"])
    versions = pkg_versions()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    as_root = os.geteuid() == 0
    user_opt = ["-u", "root"] if as_root else []

    tmp = tempfile.mkdtemp(prefix="nut-transcripts-")
    procs = None
    closers = []
    fixtures = []
    ok = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)

    try:
        upsd_port = free_port()
        etc, state, drvstate, pids, logs = setup_dirs(tmp, upsd_port)
        procs = Procs(logs)
        base_env = dict(os.environ)
        base_env.update(NUT_CONFPATH=etc, NUT_STATEPATH=state, NUT_ALTPIDPATH=pids)
        drv_env = dict(base_env, NUT_STATEPATH=drvstate)

        header = [
            "programs: %s; upsd %s, dummy-ups %s, upsmon %s, clients %s"
            % (versions, upsd_bin, dummy_bin, upsmon_bin, os.path.dirname(upsc)),
            "recorded: %s on 127.0.0.1 by tools/record-transcripts.py" % date,
        ]

        # --- drivers (real dummy-ups) on their own state directory
        for ups in ("dummy", "seq"):
            procs.start("dummy-ups-" + ups, [dummy_bin, "-a", ups, "-F"] + user_opt, drv_env)
        for ups in ("dummy", "seq"):
            path = os.path.join(drvstate, "dummy-ups-" + ups)
            if not wait_until(lambda: os.path.exists(path), 15):
                raise RuntimeError("driver socket %s did not appear" % path)

        # --- socket proxies where upsd looks, plus the fake driver
        sproxy = {}
        for ups in ("dummy", "seq"):
            sproxy[ups] = UnixProxy(os.path.join(state, "dummy-ups-" + ups),
                                    os.path.join(drvstate, "dummy-ups-" + ups))
            closers.append(sproxy[ups].close)
        fake = FakeDriver(os.path.join(state, "dummy-ups-fake"), FAKE_DUMP)
        closers.append(fake.close)
        stale = FakeDriver(os.path.join(state, "dummy-ups-stale"), STALE_DUMP)
        closers.append(stale.close)

        # --- upsd and the TCP proxy in front of it
        upsd = procs.start("upsd", [upsd_bin, "-F"] + user_opt, base_env)
        if not wait_until(lambda: _port_open(upsd_port), 15):
            raise RuntimeError("upsd did not start listening")
        tproxy = TcpProxy(upsd_port)
        closers.append(tproxy.close)
        port = tproxy.port
        log("upsd on %d, proxy on %d" % (upsd_port, port))

        def dumped(src):
            r = src.first()
            return r is not None and r.count("D", b"DUMPDONE") >= 1
        for name, src in (("dummy", sproxy["dummy"]), ("seq", sproxy["seq"]), ("fake", fake),
                          ("stale", stale)):
            if not wait_until(lambda: dumped(src), 20):
                raise RuntimeError("no DUMPDONE from %s" % name)
        log("all drivers dumped")

        # --- B: PING/PONG on the quiet dummy driver
        drec = sproxy["dummy"].first()
        dd_idx = drec.index_of("D", b"DUMPDONE")
        if not wait_until(lambda: drec.count("D", b"PONG") >= 2, 30):
            log("warning: fewer than 2 PONGs seen")
        items = drec.snapshot()
        last_pong = max(i for i, it in enumerate(items) if it[2] == b"PONG") \
            if any(it[2] == b"PONG" for it in items) else len(items) - 1
        fx = Fixture("sock-dummy-dumpall.txt", "upsd <-> dummy-ups: connect and DUMPALL",
                     ["upsd connects to the driver socket and asks for everything;"
                      " driver is dummy-ups reading dummy.dev (dummy-once mode)",
                      "dummy.dev holds: ups.status OL, battery.charge 100,"
                      " ups.id Quote\"Corp\\x, input.voltage 230.0",
                      "format: U: upsd->driver, D: driver->upsd, bytes verbatim without LF"])
        fx.add_recorder_items(items[:dd_idx + 1])
        fixtures.append(fx)
        fx = Fixture("sock-dummy-ping.txt", "upsd <-> dummy-ups: keepalive while idle",
                     ["lines after DUMPDONE while no client is active; upsd.conf MAXAGE 6,"
                      " so upsd pings after MAXAGE/3 s of driver silence",
                      "format: U: upsd->driver, D: driver->upsd, bytes verbatim without LF"])
        fx.add_recorder_items(items[dd_idx + 1:last_pong + 1])
        fixtures.append(fx)

        def env_c():
            return dict(base_env)

        hostport = "127.0.0.1:%d" % port

        def client_fixture(fname, title, argv, what=()):
            m = tproxy.mark()
            rc, out, err = run_client(argv, env_c())
            wait_until(lambda: all(r.done.is_set() for r in tproxy.since(m)), 8)
            conns = tproxy.since(m)
            fx = Fixture(fname, title, list(what) + [
                "format: C: client->upsd, S: upsd->client, bytes verbatim without LF",
                "recorded through a logging TCP proxy in front of upsd"])
            shown = [a.replace(hostport, "127.0.0.1:<port>") for a in argv]
            fx.client_output([os.path.basename(shown[0])] + shown[1:], rc, out, err)
            if len(conns) != 1:
                fx.note("the client opened %d TCP connections; they follow one after"
                        " the other" % len(conns))
            for r in conns:
                fx.add_recorder_items(r.snapshot())
            fixtures.append(fx)
            log("recorded %s (%d conn)" % (fname, len(conns)))

        # --- A1: upsc
        client_fixture("net-upsc-l.txt", "upsc -l (list UPS names)", [upsc, "-l", hostport])
        client_fixture("net-upsc-L.txt", "upsc -L (list UPS names and descriptions)",
                       [upsc, "-L", hostport])
        client_fixture("net-upsc-list-vars.txt", "upsc ups (list all variables)",
                       [upsc, "dummy@" + hostport])
        client_fixture("net-upsc-get-var.txt", "upsc ups var (one variable)",
                       [upsc, "dummy@" + hostport, "ups.status"])
        client_fixture("net-upsc-get-missing-var.txt", "upsc ups var (variable not present)",
                       [upsc, "dummy@" + hostport, "nonexistent.var"])
        client_fixture("net-upsc-unknown-ups.txt", "upsc for a UPS name upsd does not know",
                       [upsc, "nosuchups@" + hostport])
        client_fixture("net-upsc-c.txt", "upsc -c (list clients, none logged in)",
                       [upsc, "-c", "dummy@" + hostport])
        # --- A2: upsrw
        client_fixture("net-upsrw-list.txt", "upsrw ups (list writable variables)",
                       [upsrw, "dummy@" + hostport])
        client_fixture("net-upsrw-set.txt", "upsrw -s with correct admin password",
                       [upsrw, "-s", "ups.id=newvalue", "-u", "admin", "-p", ADMIN_PW,
                        "dummy@" + hostport],
                       ["upsd.users: admin has actions = SET FSD, instcmds = ALL"])
        client_fixture("net-upsrw-set-wrong-password.txt", "upsrw -s with a wrong password",
                       [upsrw, "-s", "ups.id=other", "-u", "admin", "-p", "wrongpass",
                        "dummy@" + hostport])
        # --- A3: upscmd
        client_fixture("net-upscmd-list.txt", "upscmd -l (list instant commands)",
                       [upscmd, "-l", "dummy@" + hostport])
        client_fixture("net-upscmd-run.txt", "upscmd load.off as admin",
                       [upscmd, "-u", "admin", "-p", ADMIN_PW, "dummy@" + hostport, "load.off"])

        # --- A5: upsmon primary (and upsc -c while it is logged in), then secondary
        for role, user, pw in (("primary", "monprimary", PRIMARY_PW),
                               ("secondary", "monsecondary", SECONDARY_PW)):
            confdir = upsmon_conf(tmp, "upsmon-" + role, port, user, pw, role)
            menv = dict(base_env, NUT_CONFPATH=confdir)
            margv, mnote = upsmon_argv(upsmon_bin, tmp, "upsmon-" + role, as_root)
            log(mnote)
            if margv is None:
                log("skipping upsmon %s: %s" % (role, mnote))
                continue
            m = tproxy.mark()
            p = procs.start("upsmon-" + role, margv, menv)
            time.sleep(1.8)
            if role == "primary":
                client_fixture("net-upsc-c-with-upsmon.txt",
                               "upsc -c while an upsmon primary is logged in",
                               [upsc, "-c", "dummy@" + hostport])
            time.sleep(1.7)
            procs.stop(p)
            wait_until(lambda: all(r.done.is_set() for r in tproxy.since(m)), 8)
            conns = [r for r in tproxy.since(m)
                     if any(it[2].startswith(b"USERNAME ") for it in r.snapshot())]
            fx = Fixture("net-upsmon-%s.txt" % role,
                         "upsmon as %s, about 3.5 s, then SIGTERM by PID" % role,
                         ["upsmon.conf: MONITOR dummy@127.0.0.1:<port> 1 %s %s %s;"
                          " POLLFREQ 1; SHUTDOWNCMD /bin/true" % (user, pw, role),
                          "run as: upsmon -F -D -p (foreground, single process); " + mnote,
                          "format: C: client->upsd, S: upsd->client, bytes verbatim without LF",
                          "recorded through a logging TCP proxy in front of upsd"])
            for r in conns:
                fx.add_recorder_items(r.snapshot())
            fixtures.append(fx)
            log("recorded upsmon %s (%d conn)" % (role, len(conns)))

        # --- A4: scripted raw sessions
        def raw_session(fname, title, script, what=()):
            m = tproxy.mark()
            c = RawClient(port)
            ctx = {}
            try:
                for step in script:
                    if callable(step):
                        step(c, ctx)
                    else:
                        ctx["last"] = c.ask(step)
                c.logout()
            finally:
                c.close()
            wait_until(lambda: all(r.done.is_set() for r in tproxy.since(m)), 8)
            fx = Fixture(fname, title, list(what) + [
                "scripted raw client: one command line, then wait for its full reply",
                "format: C: client->upsd, S: upsd->client, bytes verbatim without LF",
                "recorded through a logging TCP proxy in front of upsd"])
            for r in tproxy.since(m):
                fx.add_recorder_items(r.snapshot())
            fixtures.append(fx)
            log("recorded %s" % fname)
            return fx

        ups_note = ("ups.conf: [dummy] dummy-ups (dummy.dev), [seq] dummy-ups (seq.seq, no"
                    " desc), [fake] fake driver with ENUM/RANGE, [nodriver] no driver running,"
                    " [stale] fake driver whose DUMPALL ends DATASTALE, DUMPDONE")

        raw_session("net-raw-misc.txt", "raw session: anonymous commands and errors", [
            "VER", "NETVER", "PROTVER", "HELP", "STARTTLS",
            "GET TRACKING",
            "GET TRACKING 2DDC5036-F665-4D29-BE4C-0374D091D263",
            "GET UPSDESC dummy", "GET UPSDESC seq", "GET UPSDESC nosuchups",
            "GET NUMLOGINS dummy", "GET NUMLOGINS nodriver",
            "GET VAR dummy ups.status", "GET VAR dummy ups.id", "GET VAR DUMMY UPS.STATUS",
            "GET VAR dummy nonexistent.var", "GET VAR nosuchups ups.status",
            "GET VAR nodriver ups.status",
            "GET VAR stale ups.status", "GET TYPE stale ups.status",
            "GET UPSDESC stale", "GET NUMLOGINS stale",
            "LIST VAR stale", "LIST CMD stale", "LIST CLIENT stale",
            "GET VAR nosuchups server.info", "GET VAR dummy SERVER.VERSION",
            "GET VAR dummy server.nope",
            "GET TYPE dummy ups.id", "GET TYPE dummy driver.name", "GET TYPE dummy ups.status",
            "GET TYPE fake input.transfer.low", "GET TYPE fake input.transfer.high",
            "GET TYPE fake ups.id", "GET TYPE fake ups.location", "GET TYPE fake device.model",
            "GET TYPE dummy nonexistent.var",
            "GET DESC dummy ups.status", "GET DESC dummy nonexistent.var",
            "GET CMDDESC dummy load.off", "GET CMDDESC fake beeper.toggle",
            "GET CMDDESC fake nonexistent.cmd",
            "GET", "GET VAR", "GET VAR dummy", "GET FOO dummy ups.status",
            "LIST UPS",
            "LIST VAR dummy", "LIST RW dummy", "LIST CMD dummy",
            "LIST VAR seq", "LIST VAR fake", "LIST RW fake", "LIST CMD fake",
            "LIST ENUM fake input.transfer.low", "LIST RANGE fake input.transfer.high",
            "LIST ENUM dummy ups.id", "LIST RANGE dummy ups.id",
            "LIST ENUM fake nonexistent.var",
            "LIST CLIENT dummy", "LIST CLIENT nosuchups",
            "LIST VAR nosuchups", "LIST VAR nodriver", "LIST CMD nodriver",
            "list cmd dummy",
            "LIST", "LIST VAR", "LIST ENUM fake", "LIST FOO dummy",
            "FOOBAR", "VER extra", "HELP extra", "NETVER extra",
            "LOGIN dummy", "PRIMARY dummy", "MASTER dummy", "FSD dummy",
            "SET VAR dummy ups.id x", "SET TRACKING ON", "INSTCMD dummy load.off",
        ], [ups_note])

        raw_session("net-raw-auth-errors.txt", "raw session: USERNAME/PASSWORD errors", [
            "USERNAME monprimary",
            "LOGIN dummy", "PRIMARY dummy", "SET VAR dummy ups.id x",
            "PASSWORD wrongpass",
            "LOGIN dummy",
            "PRIMARY dummy",
            "FSD dummy",
            "USERNAME again", "PASSWORD again",
            "USERNAME", "PASSWORD a b",
        ], ["upsd.users: monprimary is 'upsmon primary' with password %s" % PRIMARY_PW])

        raw_session("net-raw-upsmon-primary.txt",
                    "raw session: upsmon primary user logs in", [
            "PASSWORD %s" % PRIMARY_PW,
            "USERNAME monprimary",
            "LOGIN nosuchups",
            "LOGIN dummy",
            "LOGIN dummy",
            "LOGIN seq",
            "GET NUMLOGINS dummy",
            "LIST CLIENT dummy",
            "PRIMARY dummy", "MASTER dummy", "PRIMARY nosuchups", "PRIMARY",
            "PRIMARY dummy extra",
            "SET VAR dummy ups.id x",
            "INSTCMD dummy load.off",
            "SET TRACKING ON", "GET TRACKING",
        ], ["upsd.users: monprimary is 'upsmon primary' with password %s" % PRIMARY_PW])

        raw_session("net-raw-upsmon-secondary.txt",
                    "raw session: upsmon secondary user logs in", [
            "USERNAME monsecondary",
            "PASSWORD %s" % SECONDARY_PW,
            "LOGIN dummy",
            "PRIMARY dummy", "MASTER dummy", "FSD dummy",
            "GET NUMLOGINS dummy",
        ], ["upsd.users: monsecondary is 'upsmon secondary' with password %s"
            % SECONDARY_PW])

        def get_tracked(keys):
            def step(c, ctx):
                time.sleep(1.0)
                for k in keys:
                    if ctx.get(k):
                        c.ask("GET TRACKING %s" % ctx[k])
            return step

        def remember(key, cmd, pause=0.0):
            def step(c, ctx):
                ctx[key] = tracking_id(c.ask(cmd))
                time.sleep(pause)
            return step

        def via_driver(cmd, key=None, expect=None, fixed=2.5):
            """Send a command that upsd forwards to dummy-ups, then wait until the
            driver's answer shows up on the driver socket (dummy-ups only reads its
            socket between its update sleeps, so answers can lag by a second or
            more).  Keeps the order in sock-dummy-set-instcmd.txt stable."""
            def step(c, ctx):
                n = len(drec.snapshot())
                reply = c.ask(cmd)
                tid = tracking_id(reply)
                if key:
                    ctx[key] = tid
                want = ("TRACKING %s " % tid).encode() if tid else expect

                def seen():
                    return any(it[1] == "D" and it[2].startswith(want)
                               for it in drec.snapshot()[n:])
                if want:
                    wait_until(seen, 6)
                else:
                    time.sleep(fixed)  # nothing comes back for an untracked INSTCMD
            return step

        raw_session("net-raw-set-instcmd-fake.txt",
                    "raw session: admin SET VAR / INSTCMD / TRACKING / FSD on the fake driver", [
            "USERNAME admin", "PASSWORD %s" % ADMIN_PW,
            "SET VAR fake input.transfer.low 106",
            "SET VAR fake input.transfer.low 110",
            "SET VAR fake input.transfer.low 106x",
            "SET VAR fake input.transfer.high 130",
            "SET VAR fake input.transfer.high 137",
            "SET VAR fake input.transfer.high 145",
            "SET VAR fake input.transfer.high abc",
            "SET VAR fake device.model x",
            "SET VAR fake ups.id 12345678",
            "SET VAR fake ups.id 123456789",
            "SET VAR fake nonexistent.var 1",
            "SET VAR fake ups.location x",
            "SET VAR stale ups.status x",
            "INSTCMD stale load.off",
            "SET VAR nosuchups ups.id 1",
            "SET VAR nodriver ups.id 1",
            "SET VAR fake ups.id",
            "SET VAR", "SET FOO fake", "SET TRACKING MAYBE", "SET TRACKING",
            "INSTCMD fake load.off",
            "INSTCMD fake beeper.toggle",
            "INSTCMD fake test.battery.start 60",
            "INSTCMD fake nonexistent.cmd",
            "INSTCMD nosuchups load.off",
            "INSTCMD nodriver load.off",
            "INSTCMD fake",
            "GET TRACKING",
            "SET TRACKING ON",
            "GET TRACKING",
            remember("t1", 'SET VAR fake ups.id "trk"', 0.3),
            remember("t2", "INSTCMD fake load.off", 0.3),
            remember("t3", "INSTCMD fake test.battery.start 30", 0.3),
            get_tracked(["t1", "t2", "t3"]),
            "GET TRACKING 00000000-0000-4000-8000-000000000000",
            "GET VAR fake ups.id",
            "SET TRACKING off",
            "GET TRACKING",
            "FSD nosuchups", "FSD", "FSD fake",
            "GET VAR fake ups.status", "LIST VAR fake", "LIST RW fake",
            "LOGIN fake", "GET NUMLOGINS fake",
        ], [ups_note,
            "fake driver (script's own code) answers tracked SET/INSTCMD with TRACKING <id> 0",
            "fake vars: input.transfer.low RW ENUM 103/106/108; input.transfer.high RW"
            " RANGE 120-135,140-150; ups.id RW STRING aux 8; ups.location RW STRING"
            " without SETAUX (aux 0); device.model read-only"])

        # --- A4 + B: SET / INSTCMD on the real dummy-ups, recorded on both sockets
        dmark = len(drec.snapshot())
        raw_session("net-raw-set-instcmd-dummy.txt",
                    "raw session: admin SET VAR / INSTCMD on dummy-ups, with and without TRACKING", [
            "USERNAME admin", "PASSWORD %s" % ADMIN_PW,
            via_driver('SET VAR dummy ups.id "plain"', expect=b"SETINFO ups.id "),
            via_driver("INSTCMD dummy load.off"),
            "SET VAR dummy ups.id 12345678901234567",
            "SET TRACKING ON",
            via_driver('SET VAR dummy ups.id "tracked"', "t1"),
            via_driver("INSTCMD dummy load.off", "t2"),
            via_driver("INSTCMD dummy load.off 5", "t3"),
            get_tracked(["t1", "t2", "t3"]),
            via_driver('SET VAR dummy ups.id "q\\"uote"', "t4"),
            get_tracked(["t4"]),
            "GET VAR dummy ups.id",
            via_driver('SET VAR dummy ups.id "restored"', "t5"),
            lambda c, ctx: time.sleep(1.0),
            "GET VAR dummy ups.id",
        ], [ups_note, "the same session's driver side is in sock-dummy-set-instcmd.txt"])
        time.sleep(2.5)
        items = drec.snapshot()[dmark:]
        if items and items[-1][1] == "U" and items[-1][2] == b"PING":
            # include the driver's answer to a PING that the slice ends on
            n = len(items)
            wait_until(lambda: any(it[2] == b"PONG"
                                   for it in drec.snapshot()[dmark + n:]), 8)
            rest = drec.snapshot()[dmark + n:]
            for j, it in enumerate(rest):
                if it[2] == b"PONG":
                    items += rest[:j + 1]
                    break
        fx = Fixture("sock-dummy-set-instcmd.txt",
                     "upsd <-> dummy-ups: SET and INSTCMD forwarded from a client",
                     ["driver side of net-raw-set-instcmd-dummy.txt (plain, then tracked SET"
                      " VAR ups.id and INSTCMD load.off with and without a parameter);"
                      " PING/PONG lines in between are kept",
                      "the driver answers asynchronously (with up to ~2 s lag); the client"
                      " waited for each answer on this socket before its next command",
                      "dummy-ups answers INSTCMD load.off with status 1 and broadcasts a SET"
                      " value raw (not re-escaped) inside quotes: see the q\\\"uote line",
                      "format: U: upsd->driver, D: driver->upsd, bytes verbatim without LF"])
        fx.add_recorder_items(items)
        fixtures.append(fx)

        # --- B: the .seq driver from its first DUMPALL over ~14 s
        srec = sproxy["seq"].first()
        t0 = srec.opened
        wait_until(lambda: now() - t0 > 14.5, 20)
        items = [it for it in srec.snapshot() if it[0] - t0 <= 14.0]
        fx = Fixture("sock-seq-updates.txt",
                     "upsd <-> dummy-ups: live updates from a .seq file with TIMER",
                     ["first ~14 s of the connection: DUMPALL reply, then broadcasts while"
                      " seq.seq cycles ups.status OL / OB DISCHRG / OB LB DISCHRG with"
                      " TIMER 3 between steps; MAXAGE 6; where PING/PONG fall relative to"
                      " the updates depends on timing and differs between recordings",
                      "seq.seq: ups.status: OL, battery.charge: 100, TIMER 3,"
                      " ups.status: OB DISCHRG, battery.charge: 80, TIMER 3,"
                      " ups.status: OB LB DISCHRG, battery.charge: 10, TIMER 3",
                      "format: U: upsd->driver, D: driver->upsd, bytes verbatim without LF"])
        fx.add_recorder_items(items)
        fixtures.append(fx)

        # --- the fake driver's socket: upsd side is real, driver side is ours
        frec = fake.first()
        items, dropped = trim_pings(frec.snapshot(), 2)
        fx = Fixture("sock-fake-driver.txt",
                     "upsd <-> fake driver (U: lines are real upsd 2.8.0 output)",
                     ["D: lines come from the recorder's own fake driver, not from NUT;"
                      " use this file for what upsd sends (DUMPALL, PING, SET/INSTCMD forms)",
                      "format: U: upsd->driver, D: driver->upsd, bytes verbatim without LF"])
        if dropped:
            fx.note("%d later PING/PONG pairs were trimmed" % dropped)
        fx.add_recorder_items(items)
        fixtures.append(fx)

        # --- stop everything, then write
        procs.stop(upsd)
        procs.stop_all()
        ok = True

        outdir = Path(args.out)
        outdir.mkdir(parents=True, exist_ok=True)
        for old in list(outdir.glob("net-*.txt")) + list(outdir.glob("sock-*.txt")):
            old.unlink()
        summary = []
        for fx in fixtures:
            text, n = fx.render(header)
            (outdir / fx.fname).write_text(text)
            summary.append((fx.fname, n, text.count("\n")))
        for name, n, total in summary:
            print("%-40s %4d protocol lines, %4d lines total" % (name, n, total))
    except KeyboardInterrupt as e:
        log("interrupted: %s" % e)
    finally:
        STOP.set()
        if procs:
            procs.stop_all()
        for c in closers:
            try:
                c()
            except Exception:
                pass
        if not ok:
            # show what the programs said, to help diagnose the failure
            logdir = os.path.join(tmp, "log")
            for fn in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
                with open(os.path.join(logdir, fn), "rb") as f:
                    tail = f.read()[-1500:].decode("ascii", "replace")
                log("--- %s (tail) ---\n%s" % (fn, tail))
        if args.keep:
            log("temp dir kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
