#!/usr/bin/env python3
"""bench/sfu_forward: video packets one SFU room forwards per media-worker CPU-second, beside a bare reflector.

For each shape KxM (K publishers, M subscribers each seeing all K) and each total forwarding rate
(K x M x the per-publisher rate, in forwarded packets per second) the script runs each system on
CPU 0 in turn, with the same generator (build/bin/video_load) on CPU 1:

- chorusd: a fresh server (--workers 1, --max-video-slots max(9, K), --max-producer-kbps 100000,
  a temp data dir) and SIP/UDP calls to the sfu room 1000 with SDES-keyed SRTP (RFC 4568): first
  the K publishers (one `m=video RTP/SAVPF 96` VP8 section, a=sendonly, nack and nack pli feedback,
  a=rtcp-mux), then the M subscribers (K a=recvonly video sections each, one per slot, with
  b=AS:200000 so the router's per-transport budget never holds a slot dark). The answers give each
  section's port, the server's key and, for a slot, the SSRC it is sent under (a=ssrc).
- srtp: build/bin/udp_reflector, the same fan-out with libsrtp2's srtp_unprotect per packet in and
  srtp_protect per copy out (a session per slot), recvmmsg/sendmmsg on one socket.
- plain: the same without SRTP (the generator runs with --plain).
- srtp-single / plain-single (optional): the reflector handing the kernel one datagram per
  sendmmsg, as chorusd's one sendto per packet does: what batching the sends is worth here.

video_load sends K paced streams of 1,200-octet VP8 packets (a key frame first and after every
PLI/FIR) for --warmup seconds, during which the router switches every slot to its publisher, then
measures for --seconds: per slot the packets received and lost (sequence gaps), who it shows, and
the latency from the send time in each payload to the kernel's receive timestamp. At the two edges
of the window it prints an event; the script then reads the server's worker CPU time (chorusd's
`media-0` thread or the reflector process: the scheduler's nanosecond runtime from
/proc/PID/task/TID/schedstat, with utime+stime from /proc/PID/stat beside it), how long it waited
for a CPU, how busy core 0 was, the kernel's drop counters of the server's receiving sockets and
chorusd's SIGUSR1 counters (sfu_packets_in, sfu_forwarded, sfu_dropped_*). Forwarded packets are
what the subscribers received in the window.

Per shape it runs the rates in order, each system --repeat times interleaved, and stops after the
first rate at which every chorusd run lost 1% or more (saturated). A rate counts as sustained when
a run lost under 0.1% (on a shared machine a run may lose only because other work kept the worker
from its core: its wait for the CPU is reported). It prints a markdown table of every run, one
comparing the systems per shape and rate (medians over the repeats): forwarded per worker
CPU-second, chorusd's share of each reflector's figure (targets: >= 80% of the SRTP reflector,
>= 50% of the plain one), CPU us per forwarded packet and latency p50/p99; then a verdict per
shape. Raw JSON of each run goes to stderr; nothing is written to RESULTS.md. --perf DIR records a
`perf` profile of the server's worker over each window (for where the time goes, not for figures).
--nice (root) raises
the autogroups of the server and of the generator (its own session) over other work on the cores.

Usage: bench/sfu_forward.py --chorusd build/bin/chorusd [--shapes 1x10,1x50,1x100,5x10,10x10]
         [--rates 20000,40000,60000,70000] [--seconds 10] [--warmup 3] [--repeat 2] [--nice -20]
         [--systems chorusd,srtp,plain,srtp-single] [--verify-every 1] [--perf DIR]
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import bench_support as bs
from media_pps import SdesCall

SUITE = "AES_CM_128_HMAC_SHA1_80"
KEY_LENGTH = 30  # RFC 4568 §6.2: AES_CM_128_HMAC_SHA1_80 master key (16) + salt (14)
ROOM = "1000"
LOSS_LIMIT = 0.001  # a rate counts as sustained below 0.1% loss
SATURATED = 0.01  # every run of chorusd at a rate lost this much: higher rates are not tried
TARGET_SRTP = 0.80  # of the SRTP reflector's forwarded packets per CPU-second
TARGET_PLAIN = 0.50  # of the plain reflector's
# chorusd; the reflector with SRTP and plain; the same sending one datagram per sendmmsg, as the
# server's sendto does (what batching the sends is worth, on this machine's syscall cost).
SYSTEMS = ("chorusd", "srtp", "plain", "srtp-single", "plain-single")
SERVER_CPU = 0
LOAD_CPU = 1
COUNTERS = ("sfu_packets_in", "sfu_forwarded", "sfu_dropped_over_bitrate", "sfu_dropped_unknown",
            "sfu_keyframe_requests", "sfu_switches", "sfu_nacks_received", "sfu_retransmissions", "sfu_nacks_sent",
            "media_packets_in", "media_dropped_auth", "media_dropped_replay", "media_dropped_source",
            "media_dropped_send")


def schedstat(pid, tid=None):
    """(seconds on a CPU, seconds waiting runnable for one) of a thread (default: the main thread),
    from /proc/PID/task/TID/schedstat: the scheduler's own nanosecond sums. The first is what
    utime+stime sample at every tick (HZ 250 here), without the sampling error over a few seconds;
    the second, large against the first, says the server was starved by other work on its core."""
    with open(f"/proc/{pid}/task/{tid or pid}/schedstat") as f:
        runtime, waited = f.read().split()[:2]
    return int(runtime) / 1e9, int(waited) / 1e9


class PortPool:
    """Distinct free UDP ports on 127.0.0.1, each held by a bound socket until release(): ports
    picked and closed one by one could repeat, or be handed to another bind(0) before our tools
    bind them. Release just before starting the tool that binds them."""

    def __init__(self):
        self.sockets = []

    def take(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        self.sockets.append(s)
        return s.getsockname()[1]

    def release(self):
        for s in self.sockets:
            s.close()
        self.sockets = []


class Profiler:
    """With --perf DIR: `perf record` of the server's worker (a thread, or the whole reflector) over
    the measurement window, into DIR/<shape>-<rate>-<system>-<n>.data. Sampling costs the worker CPU:
    runs with --perf give profiles, not figures."""

    def __init__(self, directory, label, pid, tid=None):
        self.path = None
        if directory:
            os.makedirs(directory, exist_ok=True)
            n = len([f for f in os.listdir(directory) if f.startswith(label + "-")])
            self.path = os.path.join(directory, f"{label}-{n + 1}.data")
        self.target = ["-t", str(tid)] if tid else ["-p", str(pid)]
        self.proc = None

    def start(self):
        if self.path:
            self.proc = subprocess.Popen(["perf", "record", "-q", "-o", self.path] + self.target,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)
            self.proc = None


def b64(key):
    return base64.b64encode(key).decode()


class VideoCall(SdesCall):
    """A SIP dialog to the SFU room: `sections` video m-lines, all sendonly (a publisher) or all
    recvonly (a subscriber: one slot each), each with its own port and SDES key. The INVITE/ACK/BYE
    exchange is media_pps's SdesCall; the offer and the reading of the answer are video's."""

    def __init__(self, sip_port, ports, direction, sections, bandwidth_kbps=0, room=ROOM):
        super().__init__(sip_port, SUITE)
        self.to = f"<sip:{room}@127.0.0.1>"
        self.remote_target = f"sip:{room}@127.0.0.1:{sip_port}"
        self.direction = direction
        self.bandwidth_kbps = bandwidth_kbps
        self.sections = [{"port": ports.take(), "key": os.urandom(KEY_LENGTH)} for _ in range(sections)]

    def offer(self):
        sdp = "v=0\r\no=bench 4711 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        for section in self.sections:
            sdp += f"m=video {section['port']} RTP/SAVPF 96\r\n"
            if self.bandwidth_kbps:  # RFC 8866 §5.8: what we can receive in this section
                sdp += f"b=AS:{self.bandwidth_kbps}\r\n"
            # RFC 7741 §6.1 VP8; RFC 4585 §4.2 NACK and PLI; RFC 4568 key; RFC 5761 rtcp-mux.
            sdp += (f"a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
                    f"a=crypto:1 {SUITE} inline:{b64(section['key'])}\r\na=rtcp-mux\r\na={self.direction}\r\n")
        return sdp.encode()

    def start(self):
        code, head, body = self._final(self._request("INVITE", self.remote_target, 1, self.offer()), 1, "INVITE")
        if code != 200:
            raise RuntimeError(f"INVITE ({self.direction}, {len(self.sections)} sections) answered {code}:\n{head}")
        self.to = re.search(r"^(?:To|t):\s*(.+?)\s*$", head, re.M | re.I)[1]
        contact = re.search(r"^(?:Contact|m):\s*<?([^>;\s]+)", head, re.M | re.I)
        self.remote_target = contact[1] if contact else self.remote_target
        self._read_answer(body.decode(errors="replace"))
        # RFC 3261 §13.2.2.4: the ACK of a 2xx is its own transaction, sent once here (loopback).
        self.sock.sendto(self._request("ACK", self.remote_target, 1), self.server)
        return self

    def _read_answer(self, sdp):
        session_ip = re.search(r"^c=IN IP4 (\S+)", sdp, re.M)
        parts = re.split(r"^(?=m=)", sdp, flags=re.M)[1:]
        videos = [p for p in parts if p.startswith("m=video")]
        if len(videos) != len(self.sections):
            raise RuntimeError(f"answer has {len(videos)} video sections for {len(self.sections)} offered:\n{sdp}")
        answered = {"sendonly": "recvonly", "recvonly": "sendonly"}[self.direction]
        for section, text in zip(self.sections, videos):
            port = int(re.match(r"m=video (\d+) ", text)[1])
            crypto = re.search(rf"^a=crypto:\d+ {SUITE} inline:([A-Za-z0-9+/=]+)", text, re.M)
            ip = re.search(r"^c=IN IP4 (\S+)", text, re.M) or session_ip
            if port == 0 or not crypto or not ip or not re.search(rf"^a={answered}\s*$", text, re.M):
                raise RuntimeError(f"video section refused or not {answered} with {SUITE}:\n{text}")
            ssrc = re.search(r"^a=ssrc:(\d+) ", text, re.M)
            section.update(server=(ip[1], port), server_key=crypto[1], ssrc=int(ssrc[1]) if ssrc else 0)

    def flows(self):
        """video_load's --publisher/--subscriber values, one per section."""
        out = []
        for s in self.sections:
            flow = f"{s['server'][0]}:{s['server'][1]},{s['port']},{b64(s['key'])},{s['server_key']}"
            out.append(flow if self.direction == "sendonly" else f"{flow},{s['ssrc']}")
        return out


def set_autogroup_nice_of(pid, nice):
    """bench_support.set_autogroup_nice for another process's session (root for negative values)."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(nice))
        return True
    except OSError:
        return False


def read_events(proc, on_event):
    """Reads video_load's stdout: events call on_event(name); the last other line is the result."""
    result = None
    for line in proc.stdout:
        obj = json.loads(line)
        if "event" in obj:
            on_event(obj["event"])
        else:
            result = obj
    return result


def run_generator(args, flows_args, plain, rate, on_event):
    cmd = ["nice", "-n", str(args.nice), "taskset", "-c", str(LOAD_CPU), args.video_load, "--rate", f"{rate:.3f}",
           "--warmup", str(args.warmup), "--duration", str(args.seconds), "--verify-every", str(args.verify_every),
           "--packet-size", str(args.packet_size)] + (["--plain"] if plain else []) + flows_args
    with tempfile.TemporaryFile(mode="w+") as err:
        # Its own session, so its own autogroup: in the server's, the server's busy core would take the
        # group's CPU share from the generator's core (CFS splits a group's weight by its load per CPU).
        # That autogroup gets --nice too, against other sessions' work on the generator's core.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
        if args.nice:
            set_autogroup_nice_of(proc.pid, args.nice)
        try:
            result = read_events(proc, on_event)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        if proc.returncode != 0 or result is None:
            raise RuntimeError(f"video_load failed ({proc.returncode}): {err.read().strip()}")
    return result


def window(snapshots, key):
    return snapshots["end"][key] - snapshots["start"][key]


def chorusd_run(args, shape, rate):
    """One run through a fresh chorusd: calls, load, counters; the row's figures."""
    k, m = shape
    workdir = tempfile.mkdtemp(prefix="chorus-sfu-forward-")
    extra = ["--workers", "1", "--max-video-slots", str(max(9, k)), "--max-producer-kbps", "100000",
             "--sip-trusted-sources", "127.0.0.1"]  # every call comes from here: issue 12's per-source limits
    server = bs.Chorusd(args.chorusd, workdir, cpu=SERVER_CPU, extra_args=extra, log_level="info", nice=args.nice)
    calls = []
    ports = PortPool()
    try:
        server.start()
        worker = bs.thread_id(server.proc.pid, "media-0")
        if worker is None:
            raise RuntimeError("chorusd has no thread named media-0")
        # Publishers first: with no audio nobody speaks, and slots fill in join order.
        for _ in range(k):
            calls.append(VideoCall(server.sip_port, ports, "sendonly", 1).start())
        publishers = calls[:k]
        for _ in range(m):
            calls.append(VideoCall(server.sip_port, ports, "recvonly", k, bandwidth_kbps=200_000).start())
        subscribers = calls[k:]
        ingress_ports = [s["server"][1] for p in publishers for s in p.sections]
        snapshots = {}

        profiler = Profiler(args.perf, f"{k}x{m}-{rate}-chorusd", server.proc.pid, worker)

        def snapshot(event):
            name = {"measure_start": "start", "measure_end": "end"}[event]
            if name == "end":
                profiler.stop()
            runtime, waited = schedstat(server.proc.pid, worker)
            snapshots[name] = {"worker": runtime, "waited": waited, "worker_ticks": bs.cpu_seconds(server.proc.pid, worker),
                               "process": bs.cpu_seconds(server.proc.pid), "core": bs.core_busy_seconds(SERVER_CPU),
                               "time": time.monotonic(), "drops": sum(bs.udp_drops(p) for p in ingress_ports),
                               "status": server.status()}
            if name == "start":
                profiler.start()

        flows = [a for p in publishers for f in p.flows() for a in ("--publisher", f)]
        flows += [a for s in subscribers for f in s.flows() for a in ("--subscriber", f)]
        ports.release()
        load = run_generator(args, flows, False, rate / (k * m), snapshot)
        counters = {c: snapshots["end"]["status"].get(c, 0) - snapshots["start"]["status"].get(c, 0) for c in COUNTERS}
        return row("chorusd", shape, rate, load, snapshots, window(snapshots, "worker"), counters)
    except Exception:
        with open(server.log_path, errors="replace") as f:
            print("sfu_forward: chorusd log tail:\n" + "".join(f.readlines()[-20:]), file=sys.stderr)
        raise
    finally:
        for call in calls:
            call.stop()
        ports.release()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def reflector_run(args, shape, rate, plain, single=False):
    """One run through udp_reflector (SRTP or plain) with the same fan-out as the SFU room."""
    k, m = shape
    system = ("plain" if plain else "srtp") + ("-single" if single else "")
    key = (lambda: "-") if plain else (lambda: b64(os.urandom(KEY_LENGTH)))
    ports = PortPool()
    port = ports.take()
    publishers = [{"port": ports.take(), "key": key()} for _ in range(k)]
    slots = [{"publisher": j, "port": ports.take(), "key": key(), "ssrc": int.from_bytes(os.urandom(4), "big") or 1}
             for _ in range(m) for j in range(k)]
    cmd = ["nice", "-n", str(args.nice), "taskset", "-c", str(SERVER_CPU), args.udp_reflector, "--bind",
           f"127.0.0.1:{port}"]
    cmd += ["--plain"] if plain else ["--suite", SUITE]
    if single:
        cmd += ["--out-batch", "1"]
    for p in publishers:
        cmd += ["--publisher", f"127.0.0.1:{p['port']}" + ("" if plain else f",{p['key']}")]
    for s in slots:
        cmd += ["--slot", f"{s['publisher']},127.0.0.1:{s['port']},{s['ssrc']}" + ("" if plain else f",{s['key']}")]
    ports.release()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline() or "{}")
        if ready.get("event") != "ready":
            raise RuntimeError(f"udp_reflector did not start: {proc.stderr.read().strip()}")
        snapshots = {}

        profiler = Profiler(args.perf, f"{k}x{m}-{rate}-{system}", proc.pid)

        def snapshot(event):
            name = {"measure_start": "start", "measure_end": "end"}[event]
            if name == "end":
                profiler.stop()
            runtime, waited = schedstat(proc.pid)
            snapshots[name] = {"worker": runtime, "waited": waited, "worker_ticks": bs.cpu_seconds(proc.pid),
                               "process": bs.cpu_seconds(proc.pid),
                               "core": bs.core_busy_seconds(SERVER_CPU), "time": time.monotonic(),
                               "drops": bs.udp_drops(port)}
            if name == "start":
                profiler.start()

        # The reflector sends nothing back to publishers: their "server key" is never used.
        flows = [a for p in publishers for a in ("--publisher", f"127.0.0.1:{port},{p['port']},{p['key']},{key()}")]
        flows += [a for s in slots for a in ("--subscriber", f"127.0.0.1:{port},{s['port']},{key()},{s['key']},{s['ssrc']}")]
        load = run_generator(args, flows, plain, rate / (k * m), snapshot)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    counters = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return row(system, shape, rate, load, snapshots, window(snapshots, "worker"), counters)


def full_views(load, k):
    """Subscribers whose K slots show K distinct publishers (video_load lists, per slot in flow order,
    whose stamps it last read): the room's selection gave everyone everyone."""
    seen = load.get("slot_publishers", [])
    groups = [seen[i:i + k] for i in range(0, len(seen), k)]
    return sum(1 for g in groups if len(g) == k and -1 not in g and len(set(g)) == k)


def row(system, shape, rate, load, snapshots, worker_cpu, counters):
    wall = window(snapshots, "time")
    forwarded = load["received"]
    return {"system": system, "shape": f"{shape[0]}x{shape[1]}", "rate": rate, "load": load, "worker_cpu_s": worker_cpu,
            "full_views": full_views(load, shape[0]),
            "process_cpu_s": window(snapshots, "process"), "wall_s": wall,
            "core_other_s": window(snapshots, "core") - window(snapshots, "process"),
            "worker_waited_s": window(snapshots, "waited"), "worker_ticks_cpu_s": window(snapshots, "worker_ticks"),
            "share": worker_cpu / wall if wall > 0 else 0.0,
            "per_cpu_s": forwarded / worker_cpu if worker_cpu > 0 else 0.0,
            "us_per_packet": 1e6 * worker_cpu / forwarded if forwarded else 0.0,
            "server_rx_drops": window(snapshots, "drops"), "counters": counters}


def runs_table(rows):
    lines = ["| shape | system | offered fwd pps | per publisher pps | forwarded | loss | subscribers seeing all K "
             "| worker CPU-s "
             "| core share | **fwd per worker CPU-s** | CPU µs / fwd pkt | latency p50 / p99 (µs) | server rx drops "
             "| loader rx drops | worker waited for CPU (s) | core 0 other (s) | loader CPU-s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        load = r["load"]
        lines.append(
            f"| {r['shape']} | {r['system']} | {r['rate']:,} | {load['rate_per_publisher']:,.0f} | {load['received']:,} | "
            f"{100 * load['loss']:.3f}% | {r['full_views']} of {load['slots'] // int(r['shape'].split('x')[0])} | "
            f"{r['worker_cpu_s']:.2f} | {100 * r['share']:.0f}% | "
            f"**{r['per_cpu_s']:,.0f}** | {r['us_per_packet']:.2f} | "
            f"{load['latency_us_p50']:,.0f} / {load['latency_us_p99']:,.0f} | {r['server_rx_drops']:,} | "
            f"{load['subscriber_rx_drops']:,} | {r['worker_waited_s']:.2f} | {r['core_other_s']:.2f} | "
            f"{load['loader_cpu_s']:.2f} |")
    return "\n".join(lines)


def ratio(a, b):
    return f"{100 * a / b:.0f}%" if a and b else "n/a"


def combined(rows, shape, rate, system):
    """The runs of one system at one shape and rate folded into one figure: the median of the
    forwarded packets per CPU-second and of the latency percentiles, the worst and the best loss,
    the longest the worker waited for its CPU; None if no run."""
    runs = [r for r in rows if r["shape"] == shape and r["rate"] == rate and r["system"] == system]
    if not runs:
        return None
    per_cpu_s = statistics.median(r["per_cpu_s"] for r in runs)
    return {"runs": len(runs), "per_cpu_s": per_cpu_s, "us_per_packet": 1e6 / per_cpu_s if per_cpu_s else 0.0,
            "loss": max(r["load"]["loss"] for r in runs), "best_loss": min(r["load"]["loss"] for r in runs),
            "waited": max(r["worker_waited_s"] for r in runs),
            "p50": statistics.median(r["load"]["latency_us_p50"] for r in runs),
            "p99": statistics.median(r["load"]["latency_us_p99"] for r in runs)}


def shapes_and_rates(rows):
    return list(dict.fromkeys((r["shape"], r["rate"]) for r in rows))


def comparison_table(rows):
    """Per shape and rate (medians over the repeats): chorusd against each reflector run."""
    present = [system for system in SYSTEMS[1:] if any(r["system"] == system for r in rows)]
    head = ["shape", "offered fwd pps", "runs", "chorusd loss best / worst", "chorusd fwd/CPU-s"]
    head += [f"{system} fwd/CPU-s" for system in present]
    head += [f"chorusd / {system}" + {"srtp": " (≥ 80%)", "plain": " (≥ 50%)"}.get(system, "") for system in present]
    head += ["µs/pkt chorusd / " + " / ".join(present), "latency p50/p99 chorusd (µs)"]
    head += [f"latency p50/p99 {system} (µs)" for system in present if system == "srtp"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for shape, rate in shapes_and_rates(rows):
        c = combined(rows, shape, rate, "chorusd")
        others = [combined(rows, shape, rate, system) for system in present]
        runs = max(r["runs"] for r in [c] + others if r)
        cells = [shape, f"{rate:,}", str(runs), f"{100 * c['best_loss']:.3f}% / {100 * c['loss']:.3f}%" if c else "—",
                 f"{c['per_cpu_s']:,.0f}" if c else "—"]
        cells += [f"{o['per_cpu_s']:,.0f}" if o else "—" for o in others]
        cells += [ratio(c and c["per_cpu_s"], o and o["per_cpu_s"]) for o in others]
        cells.append(" / ".join(f"{r['us_per_packet']:.2f}" if r else "—" for r in [c] + others))
        cells += [f"{r['p50']:,.0f} / {r['p99']:,.0f}" if r else "—"
                  for r, system in zip([c] + others, ["chorusd"] + present) if system in ("chorusd", "srtp")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(rows):
    """Per shape: chorusd's highest rate under the loss limit in at least one run (on a shared
    machine a run can lose packets only because other work kept the worker off its core: the
    worker's wait for a CPU is given beside the worst run), and the targets there."""
    lines = []
    for shape in dict.fromkeys(r["shape"] for r in rows):
        rates = [rate for sh, rate in shapes_and_rates(rows) if sh == shape]
        ok = [rate for rate in rates if (c := combined(rows, shape, rate, "chorusd")) and c["best_loss"] < LOSS_LIMIT]
        if not ok:
            lines.append(f"{shape}: no rate stayed under {100 * LOSS_LIMIT:.1f}% loss through chorusd")
            continue
        rate = max(ok)
        c = combined(rows, shape, rate, "chorusd")
        verdicts = []
        for system, target in (("srtp", TARGET_SRTP), ("plain", TARGET_PLAIN)):
            other = combined(rows, shape, rate, system)
            if other and other["per_cpu_s"] > 0:
                share = c["per_cpu_s"] / other["per_cpu_s"]
                verdicts.append(f"{100 * share:.0f}% of the {system} reflector (target {100 * target:.0f}%: "
                                f"{'met' if share >= target else 'NOT met'})")
        lines.append(f"{shape}: highest rate under {100 * LOSS_LIMIT:.1f}% loss {rate:,} forwarded pps "
                     f"(loss {100 * c['best_loss']:.3f}% best, {100 * c['loss']:.3f}% worst of {c['runs']} runs; "
                     f"worker waited up to {c['waited']:.2f} s for its CPU), {c['per_cpu_s']:,.0f} forwarded per "
                     f"worker CPU-s, {c['us_per_packet']:.2f} µs per packet; " + "; ".join(verdicts))
    return "\n".join(lines)


def bench_shape(args, shape, rates, systems):
    """Rates in order; at each, the systems in turn, --repeat times (interleaved, so a slow spell of
    the shared machine does not land on one system only). Stops after the first rate at which every
    chorusd run lost 1% or more: saturated."""
    rows = []
    for rate in rates:
        best = 1.0
        for _ in range(args.repeat):
            for system in systems:
                if system == "chorusd":
                    r = chorusd_run(args, shape, rate)
                    best = min(best, r["load"]["loss"])
                else:
                    r = reflector_run(args, shape, rate, plain=system.startswith("plain"),
                                      single=system.endswith("-single"))
                rows.append(r)
                print(f"sfu_forward: {r['shape']} {rate} {system}: {json.dumps(r)}", file=sys.stderr, flush=True)
                time.sleep(1)  # let sockets and stragglers settle
        if best >= SATURATED:
            break  # chorusd's highest sustainable rate for this shape is behind us
    return rows


def parse_shapes(text):
    shapes = []
    for item in text.split(","):
        k, m = (int(v) for v in item.lower().split("x"))
        if not (1 <= k <= 25 and 1 <= m and k * m <= 1024):
            raise SystemExit(f"sfu_forward: bad shape {item} (K 1..25, K x M slots up to 1024)")
        shapes.append((k, m))
    return shapes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chorusd", default="build/bin/chorusd")
    ap.add_argument("--video-load", help="video_load binary (default: next to chorusd)")
    ap.add_argument("--udp-reflector", help="udp_reflector binary (default: next to chorusd)")
    ap.add_argument("--shapes", default="1x10,1x50,1x100,5x10,10x10", help="KxM: K publishers, M subscribers")
    ap.add_argument("--rates", default="20000,40000,60000,70000", help="forwarded packets per second, in total")
    ap.add_argument("--systems", default="chorusd,srtp,plain,srtp-single", help=", ".join(SYSTEMS))
    ap.add_argument("--seconds", type=float, default=10, help="measurement window")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each system at each rate (medians reported)")
    ap.add_argument("--warmup", type=float, default=3, help="sending before the window (slots switch at key frames)")
    ap.add_argument("--packet-size", type=int, default=1200, help="RTP packet octets before the SRTP tag")
    ap.add_argument("--verify-every", type=int, default=1, help="unprotect and inspect every Nth packet of a slot")
    ap.add_argument("--perf", metavar="DIR", help="perf record the server's worker over each window into DIR "
                    "(profiles only: sampling slows the worker)")
    ap.add_argument("--nice", type=int, default=0, help="niceness of the server and the generator and of this "
                    "session's autogroup (negative: root only), to keep other work on a shared machine off their cores")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(args.chorusd))
    args.video_load = args.video_load or os.path.join(here, "video_load")
    args.udp_reflector = args.udp_reflector or os.path.join(here, "udp_reflector")
    systems = args.systems.split(",")
    if set(systems) - set(SYSTEMS):
        raise SystemExit(f"sfu_forward: --systems takes {', '.join(SYSTEMS)}")
    needed = [args.video_load] + ([args.chorusd] if "chorusd" in systems else []) + \
        ([args.udp_reflector] if set(systems) - {"chorusd"} else [])
    if not shutil.which("taskset") or os.cpu_count() < 2 or not all(os.access(b, os.X_OK) for b in needed):
        print(f"sfu_forward: needs taskset, two CPUs and {', '.join(needed)} (ninja chorusd video_load udp_reflector)")
        return 77
    if args.nice:
        bs.set_autogroup_nice(args.nice)
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"sfu_forward: warning: load average {load:.2f}; other work on the cores skews loss and core share",
              file=sys.stderr)
    rows = []
    for shape in parse_shapes(args.shapes):
        rows += bench_shape(args, shape, [int(r) for r in args.rates.split(",")], systems)
    print(runs_table(rows))
    print()
    print(comparison_table(rows))
    print()
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
