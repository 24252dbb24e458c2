#!/usr/bin/env python3
"""bench/sip_cps: complete SIP calls per second and per server CPU-second, chorusd beside Kamailio.

What: sipp's built-in `uac` scenario (INVITE with SDP, 100 optional, 200 with SDP, ACK, BYE, 200) dials
--room at rising --rates, each step lasting --seconds. chorusd answers every INVITE with the negotiated
SDP and an RTP/RTCP port pair really bound (closed again at BYE). It runs with --max-calls 50000 (both
servers get RLIMIT_NOFILE 301,024 when the driver may raise it, so chorusd need not lower max_calls)
and its transaction cap raised to --max-server-transactions (1,000,000): its transactions linger
64*T1 = 32 s, and the default cap (8 per max_calls) would answer 503 within a few steps.
With `--peer kamailio` the same ramp runs, in the same invocation, against Kamailio (Debian `kamailio`,
5.6) as a transaction-stateful UAS: a kamailio.cfg generated into a temp dir (UDP on 127.0.0.1 and a
free port, `children` 4, `maxbuffer` 4 MiB — Kamailio's SO_RCVBUF probe, so the socket gets the 4 MiB
the kernel allows, reported doubled; 5.6 has no send-buffer setting — and modules tm, sl, textops
only). Its route: INVITE → t_newtran(), a Contact, Allow and Supported header (append_to_reply) and
an SDP answer like chorusd's (set_reply_body), t_reply("200", "OK"); ACK absorbed (t_check_trans);
BYE → t_newtran(), t_reply 200; OPTIONS 200 and anything else 405 statelessly (sl). Kamailio binds no
media port: that is a cost chorusd pays and Kamailio does not.

How: the server under test (chorusd, or Kamailio's main process and all its children) is pinned to
CPU 0 with taskset and sipp to CPU 1. Each server starts in its own session, so its process group is
itself and its children; its CPU is the utime+stime of every process in that group (/proc/PID/stat),
the same reading for both systems. sipp runs `-r RATE -m RATE*SECONDS -timeout SECONDS` (no call
starts after SECONDS); a step's window runs from sipp's start until sipp is done, or --grace (1) s
after SECONDS, when sipp gets SIGINT and prints its counts (calls still going then are "unfinished").
The server's CPU, core 0's busy time and the server socket's drops are read over that window. A step
passes when under --max-failed-pct (0.5%) of the calls made failed or were unfinished and sipp's
successful calls reached --min-rate-pct (95%) of RATE × SECONDS; each system's ramp stops at its first
failing step. Beside each step: sipp's own CPU (its rusage; near 1.0 CPU-s/s means the load generator,
not the server, is the limit), the server's share of its core, what else ran on core 0, datagrams the
kernel dropped at the server's SIP socket, the INVITE/BYE retransmissions sipp sent and why calls
failed (sipp's -trace_err log: an answer's status code and method, or a timeout). One server serves its
whole ramp (a step pays for the previous step's transactions still waiting in Timer J/L or tm's
wait_timer, as a running server does); --pause s separate the steps. With --rounds N the two ramps run
N times, their order alternated (chorusd first in odd rounds), and the summary takes medians (for the
rate the lower middle one, a rate that was measured).

Prints a markdown table per round and system, then per system its highest passing rate and the calls
per CPU-second there, and the ratios chorusd/Kamailio of both (the issue's target: ≥ 1 for both), plus
the ratio at each rate both passed. Each step's raw figures go to stderr as JSON. Writes nothing to
RESULTS.md. Exits 77 without sipp, taskset or ss (or kamailio when asked for).

Usage: bench/sip_cps.py --chorusd build/bin/chorusd [--peer kamailio] [--room 1000|echo]
         [--rates 1000,2000,3000] [--seconds 20] [--pause 2] [--rounds 1]
e.g.   flock /tmp/chorus-bench.lock python3 bench/sip_cps.py --peer kamailio --room echo \
         --rates 1000,2000,2500,3000,3500,4000,4500,5000,6000 --seconds 4 --rounds 3
"""
import argparse
import glob
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_support import CLK_TCK, core_busy_seconds, free_port, udp_drops, wait_ready  # noqa: E402

SERVER_CPU = 0
SIPP_CPU = 1
KAMAILIO_CHILDREN = 4
KAMAILIO_RCVBUF = 4 * 1024 * 1024
KAMAILIO_SHM_MB = 1024  # tm keeps every transaction for wait_timer (5 s) after it ends
STOP_GRACE_S = 15
MAX_CALLS = 50000
# Descriptors --max-calls 50000 needs (chorusd: 6 a call plus a 1024 reserve; with fewer it lowers max_calls,
# answers 486 beyond, and a server falling behind hits that first). Raised when allowed (CAP_SYS_RESOURCE).
NOFILE = MAX_CALLS * 6 + 1024

# An answer shaped like chorusd's (same lines, PCMU, ptime, an SSRC) so both send comparable bytes.
ANSWER_SDP = ["v=0", "o=kamailio 137751732 1 IN IP4 127.0.0.1", "s=Kamailio", "c=IN IP4 127.0.0.1",
              "t=0 0", "m=audio 24742 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendrecv",
              "a=ssrc:266512975 cname:dJgavXEifYYSSd6H"]

KAMAILIO_CFG = r"""#!KAMAILIO
# Generated by bench/sip_cps.py: Kamailio as a transaction-stateful UAS for the calls-per-second ramp.
debug=0
log_stderror=yes
children={children}
disable_tcp=yes
auto_aliases=no
dns=no
rev_dns=no
maxbuffer={rcvbuf}
listen=udp:127.0.0.1:{port}
{mpath}
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "textops.so"

request_route {{
    if (is_method("ACK")) {{
        t_check_trans();  # the ACK of a 2xx is its own transaction-less request: absorbed
        exit;
    }}
    if (is_method("INVITE|BYE")) {{
        if (!t_newtran()) {{
            sl_reply_error();
            exit;
        }}
        if (is_method("INVITE")) {{
            append_to_reply("Contact: <sip:uas@127.0.0.1:{port}>\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\nSupported: timer\r\n");
            set_reply_body("{sdp}", "application/sdp");
        }}
        t_reply("200", "OK");
        exit;
    }}
    if (is_method("OPTIONS")) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"""


# ---------------------------------------------------------------------------------------------
# Measuring a process group.

def group_pids(pgid):
    """PIDs of every process whose process group is pgid (/proc/PID/stat field 5)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def group_cpu_seconds(pgid):
    """utime+stime of every live process of group pgid: a server and all its children (threads are
    inside their process's figure)."""
    total = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def socket_buffers(port):
    """(SO_RCVBUF, SO_SNDBUF) the kernel reports for the UDP socket on 127.0.0.1:port (ss -uam), or None."""
    try:
        out = subprocess.run(["ss", "-uamn", f"sport = :{port}"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    rb, tb = re.search(r"rb(\d+)", out), re.search(r"tb(\d+)", out)
    return (int(rb.group(1)), int(tb.group(1))) if rb and tb else None


# ---------------------------------------------------------------------------------------------
# The servers.

def raise_nofile():
    """RLIMIT_NOFILE of this driver (so of the servers it starts) to NOFILE when allowed (raising the hard
    limit needs CAP_SYS_RESOURCE); the soft limit it ends with."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limits in ((max(soft, NOFILE), max(hard, NOFILE)), (max(soft, min(hard, NOFILE)), hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Server:
    """A SIP server on 127.0.0.1:port pinned to SERVER_CPU, in its own session (process group = its PID)."""

    name = "server"

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.log_path = os.path.join(workdir, f"{self.name}.log")
        self.proc = None

    def command(self):
        raise NotImplementedError

    def start(self):
        with open(self.log_path, "w") as log:
            # taskset execs the server, so the PID (and the group) is the server's own.
            self.proc = subprocess.Popen(["taskset", "-c", str(SERVER_CPU)] + self.command(), stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir)
        end = time.monotonic() + 20
        while self.proc.poll() is None and time.monotonic() < end:
            try:
                wait_ready(self.port, deadline_s=1)
                return self
            except RuntimeError:
                continue
        self.stop()
        raise RuntimeError(f"{self.name} did not answer OPTIONS within 20 s; log tail:\n{self.tail()}")

    def cpu(self):
        return group_cpu_seconds(self.proc.pid)

    def tail(self, n=15):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def stop(self):
        """SIGTERM to the main PID, SIGKILL after STOP_GRACE_S; then any child left, by its PID."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_GRACE_S)
        end = time.monotonic() + STOP_GRACE_S
        while group_pids(self.proc.pid) and time.monotonic() < end:
            time.sleep(0.1)
        for pid in group_pids(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class ChorusdServer(Server):
    name = "chorusd"

    def __init__(self, workdir, binary, max_server_transactions):
        self.binary = binary
        self.max_server_transactions = max_server_transactions
        super().__init__(workdir)

    def command(self):
        return [self.binary, "--data-dir", os.path.join(self.workdir, "var"), "--bind", "127.0.0.1",
                "--public-ip", "127.0.0.1", "--sip-port", str(self.port), "--sips-port", "0", "--http-port", "0",
                "--ws-port", "0", "--rtp-ports", "20000-29999", "--log-level", "warn", "--max-calls", str(MAX_CALLS),
                # The load comes from one address: without this, issue 12's per-source limits (pike-like rate,
                # concurrent calls per source) refuse it, as they should a flood from one stranger.
                "--sip-trusted-sources", "127.0.0.1",
                # Every server transaction lingers 64*T1 = 32 s (Timer J/L, RFC 6026) and the default cap is 8 per
                # max_calls (which RLIMIT_NOFILE may lower): at a few thousand calls/s that cap, not the CPU,
                # answers 503 within a few steps. Kamailio's tm has no such cap (wait_timer 5 s).
                "--max-server-transactions", str(self.max_server_transactions)]


class KamailioServer(Server):
    name = "kamailio"

    def __init__(self, workdir, binary):
        self.binary = binary
        super().__init__(workdir)
        self.rundir = os.path.join(workdir, "kamailio-run")
        os.makedirs(self.rundir, exist_ok=True)
        self.cfg = os.path.join(self.rundir, "kamailio.cfg")
        modules = sorted(glob.glob("/usr/lib/*/kamailio/modules/tm.so") + glob.glob("/usr/lib/kamailio/modules/tm.so"))
        mpath = f'mpath="{os.path.dirname(modules[0])}/"' if modules else ""
        with open(self.cfg, "w") as f:
            f.write(KAMAILIO_CFG.format(children=KAMAILIO_CHILDREN, rcvbuf=KAMAILIO_RCVBUF, port=self.port,
                                        mpath=mpath, sdp="\\r\\n".join(ANSWER_SDP) + "\\r\\n"))

    def command(self):
        # -DD: the main process stays in the foreground (stopped by PID); -E: log to stderr (our log file).
        return [self.binary, "-f", self.cfg, "-Y", self.rundir, "-DD", "-E",
                "-m", str(KAMAILIO_SHM_MB), "-M", "16"]

    def start(self):
        check = subprocess.run([self.binary, "-f", self.cfg, "-c"], capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            raise RuntimeError(f"kamailio -c rejects {self.cfg}:\n{(check.stdout + check.stderr)[-2000:]}")
        return super().start()


# ---------------------------------------------------------------------------------------------
# One step: sipp at one rate.

def parse_sipp(text):
    """Successful, failed and created calls, INVITE/BYE retransmissions and unexpected messages (an
    error answer where a 200 was due) from sipp's final screens."""
    def last(pattern):
        found = re.findall(pattern, text)
        return int(found[-1]) if found else None
    retrans = 0
    for method in ("INVITE", "BYE"):
        rows = re.findall(rf"^\s+{method} -+>\s+(\d+)\s+(\d+)", text, re.M)
        retrans += int(rows[-1][1]) if rows else 0
    screen = text[text.rfind("Scenario Screen"):]
    unexpected = sum(int(m) for m in re.findall(r"^\s+\d{3} <-+\s+(?:E-RTD\d\s+)?\d+\s+\d+\s+\d+\s+(\d+)",
                                                  screen, re.M))
    return {"ok": last(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)"),
            "failed": last(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)"),
            "created": last(r"Outgoing calls created\s*\|\s*\d+\s*\|\s*(\d+)"), "retrans": retrans,
            "unexpected": unexpected}


def sipp_errors(workdir):
    """What sipp's -trace_err log says failed, counted: {"503 INVITE": n, "retransmission timeout": m, ...};
    the log is removed (it grows by a message per failure)."""
    found = {}
    for path in glob.glob(os.path.join(workdir, "uac_*_errors.log")):
        with open(path, errors="replace") as f:
            text = f.read()
        os.remove(path)
        for event in text.split("Aborting call")[1:]:
            answer = re.search(r"received 'SIP/2\.0 (\d{3})", event)
            method = re.search(r"^CSeq:\s*\d+\s+(\w+)", event, re.M)
            key = (f"{answer.group(1)} {method.group(1) if method else '?'}" if answer else
                   "retransmission timeout" if "timeout" in event[:200].lower() else event[:40].strip(" :"))
            found[key] = found.get(key, 0) + 1
    return found


def run_sipp(port, room, rate, args, workdir, at_window_end):
    """sipp's uac at rate: rate × seconds calls, none started after `seconds` (-timeout). The window ends
    when sipp ends or --grace s after that, when sipp, still waiting for calls, gets SIGINT (it prints
    its final screens then: what did not finish by the window's end is not counted). at_window_end() is
    called right then; returns sipp's counts, its own CPU, whether it was cut, and at_window_end()'s value."""
    out_path = os.path.join(workdir, "sipp.out")
    cmd = ["taskset", "-c", str(SIPP_CPU), "sipp", "-sn", "uac", f"127.0.0.1:{port}", "-s", room,
           "-r", str(rate), "-m", str(rate * args.seconds), "-timeout", f"{args.seconds}s",
           "-l", str(max(2000, rate * 4)), "-nostdin", "-max_socket", "50000", "-i", "127.0.0.1", "-p", str(free_port()), "-trace_err"]
    with open(out_path, "w") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    cut_at, snapshot, rusage = t0 + args.seconds + args.grace, None, None
    while rusage is None:  # os.wait4 rather than Popen.wait: sipp's own CPU comes with its exit status
        pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        now = time.monotonic()
        if pid:
            rusage = usage
        elif snapshot is None and now >= cut_at:
            snapshot = at_window_end()
            # os.kill, not Popen.send_signal: that polls first and may reap sipp itself, and the
            # wait4 above would then find no child (and no rusage) to collect.
            os.kill(proc.pid, signal.SIGINT)
        elif snapshot is not None and now >= cut_at + STOP_GRACE_S:
            os.kill(proc.pid, signal.SIGKILL)
            _, _, rusage = os.wait4(proc.pid, 0)
        else:
            time.sleep(0.01)
    cut = snapshot is not None
    if not cut:
        snapshot = at_window_end()
    proc.returncode = 0  # reaped above; keeps Popen from waiting on it again
    with open(out_path, errors="replace") as f:
        counts = parse_sipp(f.read())
    counts.update(sipp_cpu_s=rusage.ru_utime + rusage.ru_stime, cut=cut, window=snapshot, errors=sipp_errors(workdir))
    return counts


def measure_step(server, room, rate, args, workdir):
    """One step of the ramp against server: sipp's counts, the CPU of the server's group and core 0's
    other work over the window, drops at the server's socket, and the verdict."""
    expected = rate * args.seconds
    drops0, core0, cpu0, t0 = udp_drops(server.port), core_busy_seconds(SERVER_CPU), server.cpu(), time.monotonic()

    def at_window_end():
        return {"cpu": server.cpu() - cpu0, "wall": time.monotonic() - t0,
                "core": core_busy_seconds(SERVER_CPU) - core0, "drops": udp_drops(server.port) - drops0}
    sipp = run_sipp(server.port, room, rate, args, workdir, at_window_end)
    window = sipp["window"]
    cpu, wall = window["cpu"], window["wall"]
    ok = sipp["ok"] or 0
    created = sipp["created"] if sipp["created"] is not None else expected
    failed = sipp["failed"] if sipp["failed"] is not None else created
    unfinished = max(0, created - ok - failed)  # still going when the window closed: failed too
    fail_pct = 100.0 * (failed + unfinished) / created if created else 100.0
    rate_pct = 100.0 * ok / expected
    step = {"system": server.name, "room": room, "rate": rate, "seconds": args.seconds, "ok": ok,
            "failed": failed, "unfinished": unfinished, "created": created, "fail_pct": fail_pct,
            "rate_pct": rate_pct, "server_cpu_s": cpu, "wall_s": wall, "server_core_share": cpu / wall,
            "calls_per_cpu_s": ok / cpu if cpu > 0 else 0.0, "sipp_cpu_per_s": sipp["sipp_cpu_s"] / wall,
            "core0_other_s": max(0.0, window["core"] - cpu), "server_rx_drops": window["drops"],
            "retransmissions": sipp["retrans"], "unexpected": sipp["unexpected"], "errors": sipp["errors"],
            "cut": sipp["cut"]}
    step["pass"] = fail_pct < args.max_failed_pct and rate_pct >= args.min_rate_pct
    print(f"sip_cps: {json.dumps(step)}", file=sys.stderr, flush=True)
    return step


# ---------------------------------------------------------------------------------------------
# Ramps, rounds and the report.

def run_ramp(server, args):
    """The whole ramp against one fresh server; stops after its first failing step."""
    steps = []
    server.start()
    try:
        buffers = socket_buffers(server.port)
        print(f"sip_cps: {server.name} on 127.0.0.1:{server.port}, SIP socket SO_RCVBUF/SO_SNDBUF "
              f"{buffers if buffers else 'n/a'} (as the kernel reports them: twice what was asked)",
              file=sys.stderr, flush=True)
        for i, rate in enumerate(args.rate_list):
            if i:
                time.sleep(args.pause)
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{server.tail()}")
            step = measure_step(server, args.room, rate, args, server.workdir)
            steps.append(step)
            if not step["pass"]:
                break
    finally:
        server.stop()
        tail = server.tail(4).strip()
        if tail:
            print(f"sip_cps: {server.name}'s log ends:\n{tail}", file=sys.stderr, flush=True)
    return steps


def make_server(system, args, workdir):
    sub = tempfile.mkdtemp(prefix=f"{system}-", dir=workdir)
    if system == "chorusd":
        return ChorusdServer(sub, args.chorusd, args.max_server_transactions)
    return KamailioServer(sub, args.kamailio)


def step_table(system, steps):
    lines = [f"| system | rate (calls/s) | calls ok | failed | unfinished | failed % | of target % | {system} CPU-s "
             "| core share | calls per CPU-s | sipp CPU-s/s | core 0 other (s) | rx drops | retrans | why calls failed "
             "| pass |", "|---|" + "---:|" * 13 + "---|---|"]
    for s in steps:
        lines.append(f"| {system} | {s['rate']:,} | {s['ok']:,} | {s['failed']:,} | {s['unfinished']:,} | "
                     f"{s['fail_pct']:.2f} | {s['rate_pct']:.1f} | {s['server_cpu_s']:.2f} | "
                     f"{100 * s['server_core_share']:.0f}% | **{s['calls_per_cpu_s']:,.0f}** | "
                     f"{s['sipp_cpu_per_s']:.2f} | {s['core0_other_s']:.2f} | {s['server_rx_drops']:,} | "
                     f"{s['retransmissions']:,} | {why_failed(s['errors'])} | {'yes' if s['pass'] else 'no'} |")
    return "\n".join(lines)


def why_failed(errors):
    top = sorted(errors.items(), key=lambda kv: -kv[1])[:3]
    return ", ".join(f"{key} ×{n:,}" for key, n in top) or "–"


def best_step(steps):
    """The step at the highest passing rate, or None."""
    passing = [s for s in steps if s["pass"]]
    return max(passing, key=lambda s: s["rate"]) if passing else None


def summary_rows(rounds, systems):
    """Per system: the median over rounds of the highest passing rate and of calls per CPU-s there."""
    rows = {}
    for system in systems:
        bests = [best_step(r[system]) for r in rounds]
        rates = [b["rate"] if b else 0 for b in bests]
        per_cpu = [b["calls_per_cpu_s"] for b in bests if b]
        rows[system] = {"rate": statistics.median_low(rates), "per_cpu": statistics.median(per_cpu) if per_cpu else 0.0,
                        "per_round": [(b["rate"], b["calls_per_cpu_s"]) if b else None for b in bests]}
    return rows


def common_rate_ratios(rounds):
    """chorusd/Kamailio calls per CPU-s at each rate both passed (median over rounds that have it)."""
    ratios = {}
    for r in rounds:
        mine = {s["rate"]: s for s in r["chorusd"] if s["pass"]}
        theirs = {s["rate"]: s for s in r["kamailio"] if s["pass"]}
        for rate in sorted(set(mine) & set(theirs)):
            if theirs[rate]["calls_per_cpu_s"] > 0:
                ratios.setdefault(rate, []).append(mine[rate]["calls_per_cpu_s"] / theirs[rate]["calls_per_cpu_s"])
    return {rate: statistics.median(v) for rate, v in ratios.items()}


def report(rounds, systems, args):
    print(f"\nroom {args.room}, {args.seconds} s steps, pass: < {args.max_failed_pct}% failed and ≥ "
          f"{args.min_rate_pct}% of rate × seconds; server on CPU {SERVER_CPU}, sipp on CPU {SIPP_CPU}")
    for n, r in enumerate(rounds, start=1):
        for system in r["order"]:
            print(f"\nRound {n}, {system}:\n\n{step_table(system, r[system])}")
    rows = summary_rows(rounds, systems)
    label = "median of rounds" if len(rounds) > 1 else "one round"
    print(f"\n| system | highest passing rate ({label}) | calls per CPU-s there | per round |\n|---|---:|---:|---|")
    for system in systems:
        row = rows[system]
        per_round = "; ".join(f"{b[0]:,} @ {b[1]:,.0f}" if b else "none passed" for b in row["per_round"])
        print(f"| {system} | {row['rate']:,} | **{row['per_cpu']:,.0f}** | {per_round} |")
    if "kamailio" not in systems:
        return
    mine, theirs = rows["chorusd"], rows["kamailio"]
    rate_ratio = mine["rate"] / theirs["rate"] if theirs["rate"] else float("nan")
    cpu_ratio = mine["per_cpu"] / theirs["per_cpu"] if theirs["per_cpu"] else float("nan")
    print(f"\nchorusd / Kamailio: highest passing rate {rate_ratio:.2f}, calls per CPU-second {cpu_ratio:.2f} "
          f"(target ≥ 1 for both: {'met' if rate_ratio >= 1 and cpu_ratio >= 1 else 'not met'})")
    common = common_rate_ratios(rounds)
    if common:
        print("chorusd / Kamailio calls per CPU-second at the rates both passed: " +
              ", ".join(f"{rate:,}: {ratio:.2f}" for rate, ratio in sorted(common.items())))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chorusd", default="build/bin/chorusd")
    ap.add_argument("--max-server-transactions", type=int, default=1_000_000,
                    help="chorusd's transaction cap (0: its default, 8 per max_calls)")
    ap.add_argument("--peer", choices=("none", "kamailio"), default="none",
                    help="also ramp Kamailio as a transaction-stateful UAS in the same run")
    ap.add_argument("--kamailio", default=shutil.which("kamailio") or "kamailio")
    ap.add_argument("--room", default="1000", help="what sipp dials: 1000 (the audio conference) or echo")
    ap.add_argument("--rates", default="1000,2000,3000,4000,5000,6000")
    ap.add_argument("--seconds", type=int, default=20, help="length of each step")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between steps")
    ap.add_argument("--grace", type=float, default=1.0,
                    help="seconds after a step for its last calls to finish before sipp is stopped")
    ap.add_argument("--rounds", type=int, default=1, help="ramps per system, the order alternated")
    ap.add_argument("--max-failed-pct", type=float, default=0.5)
    ap.add_argument("--min-rate-pct", type=float, default=95.0)
    args = ap.parse_args(argv)
    args.rate_list = [int(r) for r in args.rates.split(",")]
    args.chorusd = os.path.abspath(args.chorusd)  # the servers run in their temp dirs
    return args


def main():
    args = parse_args()
    needed = ["sipp", "taskset", "ss"] + (["kamailio"] if args.peer == "kamailio" else [])
    missing = [tool for tool in needed if not shutil.which(tool if tool != "kamailio" else args.kamailio)]
    if missing:
        print(f"sip_cps: needs {', '.join(missing)} (Debian: sip-tester, util-linux, iproute2, kamailio)")
        return 77
    systems = ["chorusd"] + (["kamailio"] if args.peer == "kamailio" else [])
    nofile = raise_nofile()
    if nofile < NOFILE:
        print(f"sip_cps: RLIMIT_NOFILE stays {nofile} (< {NOFILE}): chorusd lowers max_calls to "
              f"{(nofile - min(1024, nofile // 4)) // 6} and answers 486 beyond", file=sys.stderr, flush=True)
    workdir = tempfile.mkdtemp(prefix="chorus-cps-")
    rounds = []
    try:
        for n in range(args.rounds):
            order = systems if n % 2 == 0 else systems[::-1]
            result = {"order": order}
            for system in order:
                result[system] = run_ramp(make_server(system, args, workdir), args)
                time.sleep(args.pause)
            rounds.append(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(rounds, systems, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
