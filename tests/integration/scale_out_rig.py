"""What test_scale_out.py and bench/scale_out.py share (issue 14): a throw-away PostgreSQL, Kamailio
with the shipped deploy/kamailio/kamailio.cfg, chorusd nodes clustered on that database, and SIP calls
through the proxy.

`PgServer`: Debian's server binaries (/usr/lib/postgresql/<newest>/bin) run initdb and `pg_ctl start`
in a fresh directory under /tmp; the server listens on a Unix socket in that directory only
(listen_addresses = ''), with password authentication (scram-sha-256). initdb refuses root: as root,
every PostgreSQL command runs as the `postgres` user (setpriv). A reaper (sh) started first waits on
a pipe only this process holds, so the server is stopped and the directory removed even when the test
is killed (the same scheme as tests/unit/conference/store/pg_cluster.hpp).

`Kamailio`: the shipped configuration with its preprocessor defines set on the command line (-A): its
own loopback port, the dispatcher list it is given, the database URL without host or password (libpq
then takes PGHOST, the cluster's socket directory, and PGPASSWORD), a kamcmd socket in its own run
directory; `-DD -E` (foreground, log on stderr) so it is stopped by PID. `kamailio -c` must accept
the file first.

`Node`: a chorus_harness.Chorusd with `--store postgresql://…`, `--node-id`, `--node-sip-address` and
`--node-http-url`.

`ProxiedCall`: a UAC over UDP that keeps the route set of its 2xx (RFC 3261 §12.1.2) so that its ACK
and BYE go through the proxy like any phone's.

Standard library only (plus chorus_harness).
"""

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

import chorus_harness as h

PG_USER = "chorus"
PG_DATABASE = "chorus"
KAMAILIO_READY_S = 20.0
CLUSTER_FLAGS = ("--node-id", "--node-sip-address", "--node-http-url")


# ---------------------------------------------------------------------------------------------
# Environment.

def require_kamailio():
    """(kamailio, kamcmd) paths and the db_postgres module, or Skip naming the Debian packages."""
    kamailio = h.require_binary("kamailio", "kamailio")
    kamcmd = h.require_binary("kamcmd", "kamailio")
    modules = glob.glob("/usr/lib/*/kamailio/modules/db_postgres.so") + \
        glob.glob("/usr/lib/kamailio/modules/db_postgres.so")
    if not modules:
        raise h.Skip("Kamailio's db_postgres module is not installed (Debian package kamailio-postgres-modules)")
    return kamailio, kamcmd


def pg_bindir():
    """Debian's /usr/lib/postgresql/<newest major>/bin, else a PATH entry holding initdb and pg_ctl; None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0), reverse=True)
    if found:
        return os.path.dirname(found[0])
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and os.path.dirname(initdb) == os.path.dirname(pg_ctl):
        return os.path.dirname(initdb)
    return None


def require_cluster_flags(chorusd):
    """Failure (not Skip) when chorusd has no cluster settings: the test exists to prove them."""
    text = subprocess.run([chorusd, "--help"], capture_output=True, text=True, timeout=30).stdout
    missing = [flag for flag in CLUSTER_FLAGS + ("--store",) if flag not in text]
    if missing:
        raise h.Failure(f"chorusd has no {', '.join(missing)}: the cluster side of issue 14 (several nodes on one "
                        "PostgreSQL) is not in this build")


# ---------------------------------------------------------------------------------------------
# PostgreSQL.

class PgServer:
    """A throw-away PostgreSQL cluster on a Unix socket in its own /tmp directory."""

    def __init__(self):
        self.bindir = pg_bindir()
        if not self.bindir:
            raise h.Skip("PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or "
                         "PATH (Debian package postgresql)")
        self.psql = shutil.which("psql") or os.path.join(self.bindir, "psql")
        if not os.access(self.psql, os.X_OK):
            raise h.Skip("psql is not installed (Debian package postgresql-client)")
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                raise h.Skip("running as root and there is no postgres user to run initdb as (it refuses root)")
        self.password = "pg-" + secrets.token_hex(12)
        self.dir = tempfile.mkdtemp(prefix="chorus-pg-", dir="/tmp")  # short: a socket path has 107 bytes
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.reaper = None

    def _wrap(self, argv):
        if not self.as_postgres:
            return argv
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + argv

    def _run(self, argv, timeout_s=120):
        done = subprocess.run(self._wrap(argv), capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise h.Failure(f"{os.path.basename(argv[0])} failed ({done.returncode}): {done.stderr.strip()[-800:]}\n"
                            f"{self.log_tail()}")
        return done.stdout

    def log_tail(self, n=20):
        try:
            with open(self.log, errors="replace") as f:
                return "postgres.log:\n" + "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def _start_reaper(self):
        # Stops the server and removes the directory when our end of the pipe closes: at exit, or when
        # this process is killed. Its own session, so ctest's signal to our group does not reach it.
        stop = self._wrap([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "stop"])
        script = 'cat >/dev/null; "$@" >/dev/null 2>&1; rm -rf -- "$0"'
        self.reaper = subprocess.Popen(["/bin/sh", "-c", script, self.dir] + stop, stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def start(self):
        if self.as_postgres:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self._start_reaper()
        pwfile = os.path.join(self.dir, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if self.as_postgres:
            os.chown(pwfile, self.user.pw_uid, self.user.pw_gid)
        # -N: no fsync while creating a cluster that is thrown away; the server itself runs with fsync on.
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", PG_USER, f"--pwfile={pwfile}",
                   "-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "-N"])
        os.remove(pwfile)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"\n# chorus scale-out test: a Unix socket in the cluster's own directory, nothing else\n"
                    f"listen_addresses = ''\nunix_socket_directories = '{self.dir}'\n")
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"])
        self.query(f"CREATE DATABASE {PG_DATABASE}", database="postgres")
        return self

    def uri(self):
        """chorusd's --store: libpq's URI with the socket directory as host."""
        return f"postgresql://{PG_USER}:{self.password}@/{PG_DATABASE}?host={self.dir}"

    def kamailio_db(self):
        """sqlops' "name=>URL" for the shipped config. Neither host nor password: db_postgres passes them
        to libpq empty, and libpq takes PGHOST (the socket directory) and PGPASSWORD (kamailio_env), as
        docs/operations.md advises to keep the password out of the command line."""
        return f"chorus=>postgres://{PG_USER}@/{PG_DATABASE}"

    def kamailio_env(self):
        return dict(os.environ, PGHOST=self.dir, PGPASSWORD=self.password)

    def query(self, sql, database=PG_DATABASE, timeout_s=30):
        """Rows of sql as lists of text fields (psql -At, unaligned, '|' separated)."""
        env = dict(os.environ, PGPASSWORD=self.password)
        done = subprocess.run([self.psql, "-h", self.dir, "-U", PG_USER, "-d", database, "-At", "-v",
                               "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, env=env,
                              timeout=timeout_s)
        if done.returncode != 0:
            raise h.Failure(f"psql {sql!r}: {done.stderr.strip()}")
        return [line.split("|") for line in done.stdout.splitlines() if line]

    def stop(self):
        if self.reaper is not None and self.reaper.poll() is None:
            self.reaper.stdin.close()
            try:
                self.reaper.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        self.reaper = None


# ---------------------------------------------------------------------------------------------
# Kamailio.

class Kamailio:
    """Kamailio running deploy/kamailio/kamailio.cfg on its own loopback port."""

    def __init__(self, binary, kamcmd, source_dir, outdir, pg, nodes, name="kamailio", probe_interval_s=1,
                 log_level=2):
        self.binary = binary
        self.kamcmd_binary = kamcmd
        self.config = os.path.abspath(os.path.join(source_dir, "deploy", "kamailio", "kamailio.cfg"))
        self.pg = pg
        self.port = h.free_port()
        self.rundir = tempfile.mkdtemp(prefix=f"{name}-run-", dir=outdir)
        self.log_path = os.path.join(outdir, f"{name}.log")
        self.ctl = os.path.join(self.rundir, "kamailio_ctl")
        self.list_path = os.path.join(self.rundir, "dispatcher.list")
        self.probe_interval_s = probe_interval_s
        self.log_level = log_level
        with open(self.list_path, "w") as f:
            f.write("# setid destination flags priority attrs\n")
            for node in nodes:
                f.write(f"1 sip:127.0.0.1:{node.sip_port} 0 0 duid={node.node_id}\n")
        self.proc = None

    def command(self, check=False):
        defines = [f"SIP_HOST=127.0.0.1", f"SIP_PORT={self.port}", f'CHORUS_DB="{self.pg.kamailio_db()}"',
                   f'DISPATCHER_LIST="{self.list_path}"', f'CTL_SOCKET="unix:{self.ctl}"',
                   f"PROBE_INTERVAL={self.probe_interval_s}", f"LOG_LEVEL={self.log_level}"]
        argv = [self.binary, "-f", self.config, "-Y", self.rundir]
        for define in defines:
            argv += ["-A", define]
        return argv + (["-c"] if check else ["-DD", "-E", "-m", "256", "-M", "8"])

    def check_config(self):
        done = subprocess.run(self.command(check=True), capture_output=True, text=True, timeout=60,
                              env=self.pg.kamailio_env())
        if done.returncode != 0:
            raise h.Failure(f"kamailio -c rejects {self.config}:\n{(done.stdout + done.stderr)[-3000:]}")

    def start(self):
        self.check_config()
        with open(self.log_path, "ab") as log:
            log.write(("# " + " ".join(self.command()) + "\n").encode())
        self.proc = h.spawn(self.command(), self.log_path, cwd=self.rundir, env=self.pg.kamailio_env())

        def ready():
            if self.proc.poll() is not None:
                raise h.Failure(f"kamailio exited with {self.proc.returncode}:\n{self.tail()}")
            return h.options_probe(self.port, "UDP", timeout_s=1.0) == 200
        h.poll_until(ready, KAMAILIO_READY_S, "Kamailio to answer OPTIONS with 200", 0.2)
        return self

    def tail(self, n=40):
        return "\n".join(self.log_lines()[-n:])

    def log_lines(self):
        return h.read_log_lines(self.log_path)

    def kamcmd(self, *args):
        done = subprocess.run([self.kamcmd_binary, "-s", f"unix:{self.ctl}"] + list(args), capture_output=True,
                              text=True, timeout=10)
        if done.returncode != 0:
            raise h.Failure(f"kamcmd {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def dispatcher_flags(self):
        """{destination URI: FLAGS} from `kamcmd dispatcher.list` (A active, I inactive, T trying, P probing)."""
        text = self.kamcmd("dispatcher.list")
        return dict(re.findall(r"URI:\s*(\S+)\s*\n\s*FLAGS:\s*(\S+)", text))

    def stop(self):
        return h.stop_process(self.proc) if self.proc is not None else None


# ---------------------------------------------------------------------------------------------
# chorusd nodes.

class Node(h.Chorusd):
    """A chorusd whose store is the shared PostgreSQL, with its cluster identity."""

    def __init__(self, binary, outdir, node_id, pg, extra_args=(), **kwargs):
        super().__init__(binary, outdir, name=node_id, **kwargs)
        self.node_id = node_id
        self.extra_args = ["--store", pg.uri(), "--node-id", node_id,
                           "--node-sip-address", f"127.0.0.1:{self.sip_port}",
                           "--node-http-url", f"http://127.0.0.1:{self.http_port}"] + list(extra_args)

    @property
    def sip_uri(self):
        return f"sip:127.0.0.1:{self.sip_port}"


# ---------------------------------------------------------------------------------------------
# Calls through the proxy.

def _header_values(msg, name):
    """Every comma-separated value of a header (Record-Route may hold several), in order."""
    values = []
    for raw in msg.all(name):
        values += [v.strip() for v in re.split(r",(?=\s*<)", raw) if v.strip()]
    return values


class ProxiedCall:
    """One INVITE dialog over UDP to a proxy: the 2xx's Record-Route, reversed, is the route set, so
    the ACK and the BYE go to the proxy with Route headers and the node's Contact as Request-URI."""

    def __init__(self, proxy_port, room, timeout_s=10.0):
        self.proxy = ("127.0.0.1", proxy_port)
        self.room = room
        self.timeout_s = timeout_s
        self.peer = h.UdpPeer()
        self.media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # where the node's RTP goes
        self.media.bind(("127.0.0.1", 0))
        self.call_id = h.new_token("scale-")
        self.ok = None
        self.final = None
        self.routes = []

    def invite(self):
        """The final response's code (None when none came within timeout_s); a 2xx is ACKed."""
        uri = f"sip:{self.room}@127.0.0.1:{self.proxy[1]}"
        via = f"SIP/2.0/UDP 127.0.0.1:{self.peer.port};branch={h.new_branch()};rport"
        request = h.build_request("INVITE", uri, via=via, from_=f"<sip:caller@127.0.0.1>;tag={h.new_token()}",
                                  to=f"<{uri}>", call_id=self.call_id, cseq=1,
                                  contact=f"<sip:caller@127.0.0.1:{self.peer.port}>",
                                  body=h.sdp_offer("127.0.0.1", self.media.getsockname()[1]))
        self.peer.send(request, self.proxy)
        self.final, _ = h.wait_final(self.peer, self.timeout_s, lambda m: m.call_id == self.call_id)
        if self.final is None:
            return None
        if 200 <= self.final.code < 300:
            self.ok = self.final
            self.routes = list(reversed(_header_values(self.ok, "record-route")))
            self.peer.send(self._in_dialog("ACK", 1), self.proxy)
        else:
            self.peer.send(h.ack_for_failure(h.parse_sip(request), self.final), self.proxy)
        return self.final.code

    def _in_dialog(self, method, cseq):
        via = f"SIP/2.0/UDP 127.0.0.1:{self.peer.port};branch={h.new_branch()};rport"
        return h.build_request(method, self.ok.contact_uri(), via=via, from_=self.ok.get("from"),
                               to=self.ok.get("to"), call_id=self.call_id, cseq=cseq,
                               extra=[("Route", route) for route in self.routes])

    def bye(self):
        """The BYE's final code (None when none came)."""
        if self.ok is None:
            return None
        self.peer.send(self._in_dialog("BYE", 2), self.proxy)
        final, _ = h.wait_final(self.peer, self.timeout_s, lambda m: m.call_id == self.call_id and
                                m.cseq == (2, "BYE"))
        return final.code if final else None

    def close(self):
        self.peer.close()
        self.media.close()


class SippRooms:
    """sipp running sipp/room_call.xml: `calls` calls (default one per room) to the rooms in turn, in
    the order given (sipp starts the list again at its end), to the proxy at `rate` calls/s, each held
    hold_ms, at most `limit` at once. start(), then wait() for sipp's own counts."""

    def __init__(self, sipp, source_dir, outdir, name, proxy_port, rooms, *, rate, hold_ms, timeout_s,
                 limit=None, calls=None):
        self.name = name
        self.outdir = outdir
        self.count = calls or len(rooms)
        self.timeout_s = timeout_s
        self.stdout = os.path.join(outdir, f"{name}.stdout")
        csv = os.path.join(outdir, f"{name}.csv")
        with open(csv, "w") as f:
            f.write("SEQUENTIAL\n" + "".join(f"{room};\n" for room in rooms))
        scenario = os.path.abspath(os.path.join(source_dir, "tests", "integration", "sipp", "room_call.xml"))
        self.command = [sipp, f"127.0.0.1:{proxy_port}", "-sf", scenario, "-inf", csv, "-m", str(self.count),
                        "-r", str(rate), "-d", str(hold_ms), "-l", str(limit or max(10, self.count)),
                        "-i", "127.0.0.1", "-p", str(h.free_port()), "-mp", str(h.free_port_range(4)[0]),
                        "-nostdin", "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-trace_err",
                        "-max_socket", "5000"]
        self.proc = None
        self.started = None

    def start(self):
        self.started = time.monotonic()
        self.proc = h.spawn(self.command, self.stdout, cwd=self.outdir)
        return self

    def wait(self):
        """(successful, failed, sipp's exit code, wall seconds from start to exit)."""
        try:
            code = self.proc.wait(timeout=self.timeout_s + 30)
        except subprocess.TimeoutExpired:
            code = h.stop_process(self.proc)
        elapsed = time.monotonic() - self.started
        with open(self.stdout, errors="replace") as f:
            text = f.read()
        ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
        bad = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", text)
        successful = int(ok[-1]) if ok else 0
        failed = int(bad[-1]) if bad else self.count - successful
        return successful, failed, code, elapsed
