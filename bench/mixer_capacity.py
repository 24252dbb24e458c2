#!/usr/bin/env python3
"""bench/mixer_capacity (issue 4): how many audio-conference participants one media worker carries.

For each N in --participants a fresh chorusd runs with --workers 1 pinned to --server-cpu (taskset),
and build/bin/mixer_load, pinned to --load-cpu, dials N participants into --room over SIP/UDP (plain
RTP/AVP, ptime 20, rtcp-mux; --codec opus, pcmu or g722) and sends a 20 ms frame every 20 ms from each for
--seconds: --talkers of them a tone, the rest silence (Opus DTX or encoded silent frames, --silence).
With --audio-level every packet carries its frame's RFC 6464 level in an RFC 8285 header extension, as
a browser sends it (ssrc-audio-level offered, sent where the answer accepts it).
mixer_load says on stderr when its media phase starts; the steady part measured is from --warmup
seconds after that to one second before it ends. Over it the script reads chorusd's CPU seconds
(utime+stime of the whole process from /proc/PID/stat, and of each thread from /proc/PID/task/*/stat,
summed by thread name with digits folded: media-N, and whatever streaming threads GStreamer names)
and the mixer counters chorus_mixer_frames_total, chorus_mixer_late_frames_total and the members' input
packets dropped or concealed from /metrics (n/a while the engine does not export them). mixer_load's
JSON line gives what it sent and received.

It prints a markdown table per run set: N, calls answered, chorusd CPU-s per wall second, CPU µs per
participant per second, late-frame share, input packets dropped / concealed (a run that drops input
decodes less than it should: its CPU figure is not comparable), packets the generator received vs
expected (room `echo`: every packet sent comes back; a mixer room: every answered participant hears a
frame every 20 ms), sequence gaps; then the CPU per thread group. It writes nothing to RESULTS.md.

Usage: bench/mixer_capacity.py --chorusd build/bin/chorusd [--mixer-load build/bin/mixer_load]
         [--participants 50,100,200,400] [--seconds 20] [--codec opus|pcmu|g722] [--room 1000]
         [--talkers 3] [--silence frames|dtx] [--audio-level]
"""
import argparse
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import bench_support as bs

# The input counters check that a run did all its work: a member's packet the playout buffer dropped
# (late, duplicate, skipped to bound the delay) or a loss it concealed was never decoded, so a run with
# many of them costs less than it should (stop 39: a reader that took 20 sockets a tick looked 26% cheaper).
MIXER_COUNTERS = ("chorus_mixer_frames_total", "chorus_mixer_late_frames_total",
                  "chorus_mixer_input_packets_dropped_total", "chorus_mixer_input_packets_concealed_total")
FRAMES_PER_SECOND = 50  # ptime 20


def metrics(http_port):
    """Sums of the mixer counters over their label sets from /metrics; None for a counter absent."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=3) as response:
            text = response.read().decode(errors="replace")
    except OSError as e:
        print(f"mixer_capacity: /metrics: {e}", file=sys.stderr)
        return {name: None for name in MIXER_COUNTERS}
    found = {name: None for name in MIXER_COUNTERS}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)", line)
        if match and match[1] in found:
            found[match[1]] = (found[match[1]] or 0.0) + float(match[2])
    return found


def snapshot(server):
    pid = server.proc.pid
    return {"time": time.monotonic(), "process": bs.cpu_seconds(pid), "threads": bs.thread_cpu(pid),
            "metrics": metrics(server.http_port)}


class LoadRun:
    """mixer_load pinned to a CPU; its stderr read by a thread so the media start can be awaited."""

    def __init__(self, args, sip_port, n):
        self.command = ["nice", "-n", str(args.nice), "taskset", "-c", str(args.load_cpu), args.mixer_load, "--server", f"127.0.0.1:{sip_port}",
                        "--room", args.room, "--participants", str(n), "--talkers", str(args.talkers),
                        "--codec", args.codec, "--seconds", str(args.seconds)]
        if args.codec == "opus":
            self.command += ["--silence", args.silence]
        if args.audio_level:
            self.command += ["--audio-level"]
        self.lines = queue.Queue()
        self.stderr = []
        # Its own session, so its own autogroup (CONFIG_SCHED_AUTOGROUP): in ours, with chorusd's many
        # busy threads on the other CPU, CFS would give the group's share on the generator's CPU almost
        # wholly away (a group's weight is split by where its load is) and the generator would starve.
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        if args.nice:
            try:
                with open(f"/proc/{self.proc.pid}/autogroup", "w") as f:
                    f.write(str(args.nice))
            except OSError:
                pass  # no autogroups, or not root: plain nice still applies
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line.strip())

    def wait_line(self, text, timeout_s):
        """True once mixer_load printed `text` on stderr; False on timeout or when it exited first."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            try:
                if self.lines.get(timeout=0.1) == text:
                    return True
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    return False
        return False

    def result(self, timeout_s):
        try:
            out, _ = self.proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate(timeout=10)
            raise RuntimeError("mixer_load did not finish in time")
        self.reader.join(timeout=5)
        if self.proc.returncode != 0:
            raise RuntimeError(f"mixer_load exited {self.proc.returncode}: {''.join(self.stderr).strip()}")
        return json.loads(out.strip().splitlines()[-1])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def make_server(args, workdir):
    server = bs.Chorusd(args.chorusd, workdir, cpu=args.server_cpu, extra_args=["--workers", "1",
                                   # one load generator dials every call: not a flood (issue 12 limits)
                                   "--sip-trusted-sources", "127.0.0.1"],
                        log_level=args.log_level, rtp_ports=args.rtp_ports, nice=args.nice)
    server.http_port = bs.free_port()
    server.command[server.command.index("--http-port") + 1] = str(server.http_port)  # bench_support asks for none
    return server


def run_one(args, n):
    """One N: a fresh chorusd, one mixer_load run, the figures of its steady part."""
    workdir = tempfile.mkdtemp(prefix="chorus-mixer-capacity-")
    server = None
    load = None
    try:
        server = make_server(args, workdir)
        server.start()
        load = LoadRun(args, server.sip_port, n)
        # Each call settles within 5 s of its INVITE, 50 INVITEs outstanding at once.
        if not load.wait_line("mixer_load: media start", 5 * (n // 50 + 2) + 15):
            if load.proc.poll() is not None:  # it ends without media when no call was answered
                raise RuntimeError(f"N={n}: no media phase: {json.dumps(load.result(timeout_s=10))}")
            raise RuntimeError(f"N={n}: mixer_load did not start its media phase: {''.join(load.stderr).strip()}")
        media_start = time.monotonic()
        time.sleep(args.warmup)
        before = snapshot(server)
        time.sleep(max(media_start + args.seconds - 1 - time.monotonic(), 0.5))
        after = snapshot(server)
        result = load.result(timeout_s=args.seconds + 5 * (n // 50 + 2) + 30)
    except Exception:
        bs.print_log_tail(server, "mixer_capacity")
        raise
    finally:
        if load is not None:
            load.kill()
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    wall = after["time"] - before["time"]
    return {"n": n, "load": result, "wall_s": wall, "cpu_per_s": (after["process"] - before["process"]) / wall,
            "threads": bs.thread_groups(before, after, wall),
            "metrics": {name: (None if after["metrics"][name] is None or before["metrics"][name] is None
                               else after["metrics"][name] - before["metrics"][name]) for name in MIXER_COUNTERS}}


def expected_packets(room, load):
    """What the generator should have received: its own packets back from the echo room; from a mixer
    a frame every 20 ms for every answered participant while it listened (listen_s: the media phase
    and the drain after it)."""
    if room in ("echo", "9196"):
        return load["packets_sent"]
    return round(load["calls_answered"] * load["listen_s"] * FRAMES_PER_SECOND)


def input_losses(row, load):
    """The members' packets the mixer dropped or concealed, with their share of what was sent."""
    dropped = row["metrics"]["chorus_mixer_input_packets_dropped_total"]
    concealed = row["metrics"]["chorus_mixer_input_packets_concealed_total"]
    if dropped is None or concealed is None:
        return "n/a"
    sent = load["packets_sent"] or 1
    return f"{dropped:,.0f} / {concealed:,.0f} ({100 * (dropped + concealed) / sent:.2f}%)"


def table(args, rows):
    lines = [f"room {args.room}, {args.codec}"
             f"{'' if args.codec != 'opus' else ', silence ' + args.silence}"
             f"{', audio levels (RFC 6464)' if args.audio_level else ''}, {args.talkers} talkers, "
             f"{args.seconds:g} s per run; chorusd --workers 1 on CPU {args.server_cpu}, mixer_load on CPU {args.load_cpu}",
             "",
             "| N | answered / failed | chorusd CPU-s/s | CPU µs per participant-s | media-N CPU-s/s | late-frame share "
             "| input dropped / concealed | received / expected (generator) | seq gaps | generator CPU-s/s "
             "| generator late wakeups |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        load = r["load"]
        answered = load["calls_answered"] or 1
        frames, late = r["metrics"]["chorus_mixer_frames_total"], r["metrics"]["chorus_mixer_late_frames_total"]
        share = "n/a" if frames is None or late is None else (f"{100 * late / frames:.2f}%" if frames else "0 frames")
        expected = expected_packets(args.room, load)
        received = load["packets_received"]
        ratio = f" ({100 * received / expected:.1f}%)" if expected else ""
        gen = load["generator_cpu_s"] / load["media_s"] if load["media_s"] else 0.0
        lines.append(f"| {r['n']} | {load['calls_answered']} / {load['calls_failed']} | {r['cpu_per_s']:.3f} | "
                     f"{1e6 * r['cpu_per_s'] / answered:,.0f} | {r['threads'].get('media-N', 0.0):.3f} | {share} | "
                     f"{input_losses(r, load)} | "
                     f"{received:,} / {expected:,}{ratio} | {load['sequence_gaps']:,} | {gen:.3f} | "
                     f"{load['late_wakeups']:,} (max {load['max_lateness_us'] / 1000:.1f} ms) |")
    names = sorted({name for r in rows for name, v in r["threads"].items() if v >= 0.001})
    lines += ["", "chorusd CPU-s per second by thread (name with digits folded):", "",
              "| N | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for r in rows:
        lines.append(f"| {r['n']} | " + " | ".join(f"{r['threads'].get(name, 0.0):.3f}" for name in names) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chorusd", default="build/bin/chorusd")
    ap.add_argument("--mixer-load", help="mixer_load binary (default: next to chorusd)")
    ap.add_argument("--participants", default="50,100,200,400", help="comma-separated N, one run each")
    ap.add_argument("--seconds", type=float, default=20, help="media phase per run (at least warmup + 2)")
    ap.add_argument("--codec", choices=("opus", "pcmu", "g722"), default="opus")
    ap.add_argument("--room", default="1000", help="1000: the audio MCU; echo: each caller hears itself")
    ap.add_argument("--talkers", type=int, default=3)
    ap.add_argument("--silence", choices=("frames", "dtx"), default="frames",
                    help="what Opus non-talkers send: encoded silence every 20 ms, or DTX (a frame per 400 ms)")
    ap.add_argument("--audio-level", action="store_true",
                    help="every packet carries its frame's RFC 6464 level (ssrc-audio-level), as browsers send it")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of media before the measured part")
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--load-cpu", type=int, default=0)
    ap.add_argument("--rtp-ports", default="30000-32767", help="chorusd's range (two ports per call)")
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--nice", type=int, default=0, help="niceness of chorusd, mixer_load and this session's autogroup "
                    "(negative: root only), to keep other work on a shared machine off its core")
    args = ap.parse_args()
    args.mixer_load = args.mixer_load or os.path.join(os.path.dirname(os.path.abspath(args.chorusd)), "mixer_load")
    try:
        sizes = [int(n) for n in args.participants.split(",")]
    except ValueError:
        ap.error("--participants takes comma-separated integers")
    if any(n < 1 or n > 5000 for n in sizes) or args.talkers < 0:
        ap.error("each N must be 1..5000 and --talkers at least 0")
    if args.seconds < args.warmup + 2:
        ap.error("--seconds must be at least --warmup + 2")
    if not shutil.which("taskset") or not os.access(args.mixer_load, os.X_OK) or os.cpu_count() < 2:
        print(f"mixer_capacity: needs taskset, two CPUs and {args.mixer_load} (ninja mixer_load)")
        return 77
    if args.nice:
        bs.set_autogroup_nice(args.nice)
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"mixer_capacity: warning: load average {load:.2f}; other work on the cores inflates CPU figures "
              "and late frames", file=sys.stderr)
    rows = []
    for n in sizes:
        row = run_one(args, n)
        rows.append(row)
        if args.audio_level and row["load"]["audio_level_calls"] < row["load"]["calls_answered"]:
            print(f"mixer_capacity: warning: N={n}: only {row['load']['audio_level_calls']} of "
                  f"{row['load']['calls_answered']} answers took ssrc-audio-level", file=sys.stderr)
        print(f"mixer_capacity: N={n}: {json.dumps(row)}", file=sys.stderr, flush=True)
        time.sleep(1)
    print(table(args, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
