#!/usr/bin/env python3
"""bench/scale_curves (issue 13, target 5): how far the audio MCU scales, in participants per room and in
rooms per process, for 1, 2 and all media workers, each curve up to its first late frame.

For each worker count W in --workers (deduplicated; "all" is the number of CPUs) two curves are measured,
every step with a fresh chorusd (`--workers W`, a temp data dir, free SIP and HTTP ports, --rtp-ports,
log level warn, `--sip-trusted-sources 127.0.0.1` so issue 12's per-source limits do not refuse one
generator's calls, `--max-calls` raised):
  participants per room: room 1000 (the audio MCU; at most 1,000 members) with N callers, N from
    --participants;
  rooms per process: R rooms made over REST (POST /v1/rooms with the admin token, dial-in numbers 2000…,
    max_participants = --members), each with --members callers, R from --rooms.
The callers are build/bin/mixer_load processes, one per room, each dialling its room over SIP/UDP (plain
RTP/AVP, ptime 20, rtcp-mux, --codec) with --talkers sending a tone and the rest silence, exactly as
bench/mixer_capacity.py drives one. The window measured starts --warmup seconds after the last room's
media started and lasts --seconds; over it: chorusd's CPU-s per wall second (/proc/PID/stat, all threads)
and per media worker thread (media-0, media-1, …), the generators' own CPU from /proc, and the mixer's
chorus_mixer_frames_total / chorus_mixer_late_frames_total from /metrics (a late frame: sent more than
10 ms after its 20 ms tick was due). The mixer_load JSON lines give calls answered and packets received
against expected (a frame every 20 ms to every answered participant while it listened).

A curve goes up until the first step with late frames (more than --late-share of the frames; default 0:
any late frame), calls not answered (a room's cap, the port range, a refused call) or an error. A late step
is measured once more (--no-recheck: not): late twice is the curve's first late frame; late once is noted
and the curve goes on, since a single late tick also comes from the VM (bench/RESULTS.md, mixer_capacity).

How rooms meet workers (media/worker/media_worker.cpp, MediaWorkerPool::acquire): a room is pinned, at its
first session, to the worker with the fewest rooms (ties: the lowest index) and stays there while it has
sessions. So one room always runs on one worker whatever W is, and equal rooms alternate 0, 1, 0, 1, ….

Pinning: with W = 1 chorusd runs on --server-cpu (1) and every mixer_load on --load-cpu (0), as
mixer_capacity does. With W >= 2 chorusd needs every core, so chorusd and the generators share all of them,
unpinned: the generator is not isolated, its CPU (a column) comes out of the same cores, and a late frame
may be the generator preempting a worker as much as chorusd's own load. chorusd runs in its own session and
the generators in the driver's, so CFS autogroups split a contended core between those two halves instead of
one group per generator process.

Output: a markdown table per curve on stdout (with the command and the machine), each step's raw JSON on
stderr, every sample with the machine and command as JSON to --json, and a PNG (--png; matplotlib, Agg) with
one panel per curve: chorusd CPU-s/s against N or R, a line per W, late steps marked and the first late frame
labelled. When this interpreter has no matplotlib (a pyenv Python), the plot is drawn by /usr/bin/python3
(Debian's python3-matplotlib) from the JSON: `--plot-only FILE` does just that.

Usage: bench/scale_curves.py --chorusd build/bin/chorusd [--workers 1,2,all] [--participants 100,200,…]
         [--rooms 5,10,20,…] [--members 20] [--seconds 15] [--warmup 3] [--codec pcmu|opus] [--quick]
         [--json FILE] [--png bench/scale_curves.png]
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import bench_support as bs
import mixer_capacity as mc

FRAMES_PER_SECOND = 50  # ptime 20
ROOM_NUMBER_BASE = 2000  # dial-in numbers of the rooms made for the rooms curve
MEDIA_START = "mixer_load: media start"
KINDS = ("participants", "rooms")
TITLES = {"participants": "participants per room", "rooms": "rooms per process"}
QUICK = {"participants": "50,100", "rooms": "2,4", "members": 10, "seconds": 5.0, "warmup": 2.0}


# ---------------------------------------------------------------------------------------------
# The machine and the command, recorded with the results.

def git_commit():
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(["git", "-C", here, "describe", "--always", "--dirty", "--abbrev=10"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def binaries(args):
    """Size and mtime of chorusd and mixer_load: a rebuild during the sweep (a shared tree) is reported."""
    out = {}
    for path in (args.chorusd, args.mixer_load):
        st = os.stat(path)
        out[path] = {"size": st.st_size, "mtime": datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc)
                     .strftime("%Y-%m-%d %H:%M:%S UTC")}
    return out


def machine(chorusd):
    model, mem_kib = "unknown", 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    try:
        version = subprocess.run([chorusd, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = None
    return {"cpu_model": model, "cpus": os.cpu_count(), "mem_gib": round(mem_kib / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(), "commit": git_commit(),
            "chorusd_version": version, "load_average_at_start": os.getloadavg()[0],
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


# ---------------------------------------------------------------------------------------------
# chorusd, its rooms, and the generators.

class Server(bs.Chorusd):
    """bs.Chorusd started in its own session (own scheduler autogroup, apart from the generators')."""

    def __init__(self, *args, nice=0, **kwargs):
        super().__init__(*args, nice=nice, **kwargs)
        self.nice = nice

    def start(self):
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if self.nice:
            try:
                with open(f"/proc/{self.proc.pid}/autogroup", "w") as f:
                    f.write(str(self.nice))
            except OSError:
                pass  # no autogroups, or not root: plain nice still applies
        bs.wait_ready(self.sip_port)
        return self


def all_cpus():
    return f"0-{os.cpu_count() - 1}"


def make_server(args, workdir, workers):
    cpu = args.server_cpu if workers == 1 else all_cpus()
    server = Server(args.chorusd, workdir, cpu=cpu, log_level=args.log_level, rtp_ports=args.rtp_ports,
                    nice=args.nice,
                    extra_args=["--workers", str(workers), "--max-calls", str(args.max_calls),
                                # the generators dial every call from 127.0.0.1: not a flood (issue 12 limits)
                                "--sip-trusted-sources", "127.0.0.1"])
    server.http_port = bs.free_port()
    server.command[server.command.index("--http-port") + 1] = str(server.http_port)  # bench_support asks for none
    return server


def rest_post(port, path, token, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(errors="replace"), None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), e.headers.get("Retry-After")


def create_rooms(server, workdir, count, size):
    """R rooms (dial-in 2000, 2001, …, at most `size` members each) over REST; their dial-in numbers."""
    token_path = os.path.join(workdir, "var", "admin-token")
    numbers = []
    end = time.monotonic() + 30 + count  # bounds the token wait, REST start-up and 429 pauses together
    for i in range(count):
        number = str(ROOM_NUMBER_BASE + i)
        body = {"id": f"scale-{number}", "name": f"scale {number}", "dial_in_number": number, "max_participants": size}
        while True:
            try:
                with open(token_path) as f:
                    token = f.read().strip()
                status, text, retry_after = rest_post(server.http_port, "/v1/rooms", token, body)
            except (FileNotFoundError, ConnectionError, urllib.error.URLError):
                status, text, retry_after = None, "", None
            if status == 201:
                break
            if status not in (None, 429) or time.monotonic() > end:
                raise RuntimeError(f"POST /v1/rooms for {number} answered {status}: {text[:300]}")
            time.sleep(min(float(retry_after or 0.1), 1.0))
        numbers.append(number)
    return numbers


class LoadGroup:
    """mixer_load processes, one per room, started in this driver's session; each one's stdout and stderr
    go to files in workdir, polled (no thread per process). Stopped by PID."""

    def __init__(self, args, workers, workdir):
        self.args = args
        self.cpus = str(args.load_cpu) if workers == 1 else all_cpus()
        self.workdir = workdir
        self.runs = []  # {"room", "proc", "out", "err", "start"}

    def start(self, sip_port, room, participants, seconds):
        a = self.args
        command = ["nice", "-n", str(a.nice), "taskset", "-c", self.cpus, a.mixer_load,
                   "--server", f"127.0.0.1:{sip_port}", "--room", room, "--participants", str(participants),
                   "--talkers", str(a.talkers), "--codec", a.codec, "--seconds", f"{seconds:.1f}",
                   "--slots", str(a.slots if participants >= 50 else min(a.slots, 2))]
        if a.codec == "opus":
            command += ["--silence", a.silence]
        out = os.path.join(self.workdir, f"load-{room}.out")
        err = os.path.join(self.workdir, f"load-{room}.err")
        with open(out, "w") as fout, open(err, "w") as ferr:
            proc = subprocess.Popen(command, stdout=fout, stderr=ferr, stdin=subprocess.DEVNULL)
        self.runs.append({"room": room, "proc": proc, "out": out, "err": err, "start": None})

    def pids(self):
        return [r["proc"].pid for r in self.runs]

    def wait_media(self, timeout_s):
        """Waits until every generator said its media started or exited without (no call answered).
        Returns the media start times (monotonic) of those that started."""
        end = time.monotonic() + timeout_s
        pending = list(self.runs)
        while pending and time.monotonic() < end:
            for run in list(pending):
                with open(run["err"], errors="replace") as f:
                    if MEDIA_START in f.read():
                        run["start"] = time.monotonic()
                        pending.remove(run)
                        continue
                if run["proc"].poll() is not None:
                    pending.remove(run)
            time.sleep(0.05)
        if pending:
            raise RuntimeError(f"{len(pending)} of {len(self.runs)} mixer_load did not start media in {timeout_s:.0f} s")
        starts = [r["start"] for r in self.runs if r["start"] is not None]
        if not starts:
            raise RuntimeError(f"no mixer_load started media (no call answered): {self.tail(self.runs[0])}")
        return starts

    def tail(self, run):
        with open(run["err"], errors="replace") as f:
            return f.read().strip()[-500:]

    def results(self, timeout_s):
        end = time.monotonic() + timeout_s
        results = []
        for run in self.runs:
            try:
                run["proc"].wait(timeout=max(end - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"mixer_load for room {run['room']} did not finish in time")
            if run["proc"].returncode != 0:
                raise RuntimeError(f"mixer_load for room {run['room']} exited {run['proc'].returncode}: {self.tail(run)}")
            with open(run["out"]) as f:
                results.append(json.loads(f.read().strip().splitlines()[-1]))
        return results

    def kill(self):
        for run in self.runs:
            if run["proc"].poll() is None:
                run["proc"].kill()
                run["proc"].wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# One step: a fresh chorusd, its rooms full of callers, the figures of the window.

def process_cpu(pids):
    """{pid: CPU seconds} of the processes still alive."""
    out = {}
    for pid in pids:
        try:
            out[pid] = bs.cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def cores_time():
    """(busy, irq + softirq) seconds of all cores since boot, from /proc/stat's per-CPU lines. With IRQ time
    accounting the softirq share (loopback delivery of every datagram) is charged to no process."""
    busy = irq = 0
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields[0].startswith("cpu") and fields[0] != "cpu":
                ticks = [int(v) for v in fields[1:8]]  # user nice system idle iowait irq softirq
                busy += sum(ticks) - ticks[3] - ticks[4]
                irq += ticks[5] + ticks[6]
    return busy / bs.CLK_TCK, irq / bs.CLK_TCK


def snapshot(server, loads):
    pid = server.proc.pid
    return {"time": time.monotonic(), "process": bs.cpu_seconds(pid), "threads": bs.thread_cpu(pid),
            "metrics": mc.metrics(server.http_port), "generators": process_cpu(loads.pids()),
            "cores": cores_time()}


def media_threads(before, after, wall):
    """CPU-s per wall second of each media worker thread (media-0, media-1, …), by its exact name."""
    out = {}
    for tid, (name, cpu) in after["threads"].items():
        if name.startswith("media-"):
            out[name] = out.get(name, 0.0) + (cpu - before["threads"].get(tid, (name, 0.0))[1]) / wall
    return dict(sorted(out.items(), key=lambda item: int(item[0].split("-")[1]) if item[0][6:].isdigit() else 0))


def merge_loads(results):
    """The generators' JSON lines summed over the rooms."""
    statuses = {}
    for r in results:
        for status, count in r.get("failure_statuses", {}).items():
            statuses[status] = statuses.get(status, 0) + count
    return {"answered": sum(r["calls_answered"] for r in results), "failed": sum(r["calls_failed"] for r in results),
            "failure_statuses": statuses, "received": sum(r["packets_received"] for r in results),
            # a mixer owes every answered participant a frame every 20 ms while it listened
            "expected": sum(round(r["calls_answered"] * r["listen_s"] * FRAMES_PER_SECOND) for r in results),
            "gaps": sum(r["sequence_gaps"] for r in results),
            "late_wakeups": sum(r["late_wakeups"] for r in results),
            "max_lateness_ms": max((r["max_lateness_us"] for r in results), default=0) / 1000,
            "setup_s_max": max((r["setup_s"] for r in results), default=0.0)}


def figures(kind, workers, rooms, size, before, after, results, starts):
    wall = after["time"] - before["time"]
    deltas = {name: (None if after["metrics"][name] is None or before["metrics"][name] is None
                     else after["metrics"][name] - before["metrics"][name]) for name in mc.MIXER_COUNTERS}
    frames, late = deltas["chorus_mixer_frames_total"], deltas["chorus_mixer_late_frames_total"]
    generators = sum(after["generators"][pid] - cpu for pid, cpu in before["generators"].items()
                     if pid in after["generators"])
    sample = {"kind": kind, "workers": workers, "rooms": rooms, "members": size, "participants": rooms * size,
              "wall_s": wall, "cpu_per_s": (after["process"] - before["process"]) / wall,
              "media_threads": media_threads(before, after, wall),
              "threads": bs.thread_groups(before, after, wall), "frames": frames, "late_frames": late,
              "late_share": None if not frames or late is None else late / frames,
              "generator_cpu_per_s": generators / wall, "media_start_spread_s": max(starts) - min(starts)}
    # The packets' softirq time, which no process is charged with, and whatever else ran in the window (this
    # driver, other users' work). JSON only: /proc/stat's per-CPU times are sampled at ticks, which miss much of
    # the bursty 20 ms work on a tickless VM (on the 2-vCPU EPYC VM "other" came out at -0.5 CPU-s/s).
    sample["softirq_cpu_per_s"] = (after["cores"][1] - before["cores"][1]) / wall
    sample["other_cpu_per_s"] = (after["cores"][0] - before["cores"][0]) / wall - sample["cpu_per_s"] \
        - sample["generator_cpu_per_s"] - sample["softirq_cpu_per_s"]
    sample.update(merge_loads(results))
    sample["loads"] = results
    return sample


def measure(args, kind, workers, n):
    """One step of a curve: N participants in room 1000, or N rooms of --members."""
    rooms, size = (1, n) if kind == "participants" else (n, args.members)
    workdir = tempfile.mkdtemp(prefix="chorus-scale-curves-")
    server = loads = None
    try:
        server = make_server(args, workdir, workers)
        server.start()
        numbers = ["1000"] if kind == "participants" else create_rooms(server, workdir, rooms, size)
        # The rooms' media start apart (each generator sets its calls up first): each media phase is longer by
        # that slack, so the window (from the last start + warm-up) still ends before the first one stops.
        slack = 0.0 if rooms == 1 else min(30.0, 2.0 + rooms * size / 400)
        media_s = args.warmup + args.seconds + 1 + slack
        loads = LoadGroup(args, workers, workdir)
        for number in numbers:
            loads.start(server.sip_port, number, size, media_s)
        # Calls settle within 5 s of their INVITE, 50 INVITEs outstanding per generator.
        starts = loads.wait_media(min(180.0, 5 * (size // 50 + 2) + 15 + rooms * size / 100))
        window_start = max(starts) + args.warmup
        window_end = min(starts) + media_s - 1
        if window_end - window_start < args.seconds / 2:
            raise RuntimeError(f"the rooms' media started {max(starts) - min(starts):.1f} s apart: no common window")
        time.sleep(max(window_start - time.monotonic(), 0))
        before = snapshot(server, loads)
        time.sleep(max(window_end - time.monotonic(), 0.5))
        after = snapshot(server, loads)
        results = loads.results(timeout_s=media_s + 5 * (size // 50 + 2) + 30)
    except Exception:
        bs.print_log_tail(server, "scale_curves")
        raise
    finally:
        if loads is not None:
            loads.kill()
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return figures(kind, workers, rooms, size, before, after, results, starts)


# ---------------------------------------------------------------------------------------------
# The curves.

def is_late(args, sample):
    late, frames = sample.get("late_frames"), sample.get("frames")
    if late is None or not frames:
        return False
    return late > 0 and late / frames > args.late_share / 100


def verdict(args, runs):
    """What a step says: error, calls not answered, late (every run), late once, clean, or no counters."""
    if any("error" in r for r in runs):
        return "error"
    if any(r["answered"] < r["participants"] for r in runs):
        return "calls not answered"
    if runs[0].get("late_frames") is None:
        return "no counters"
    lates = [is_late(args, r) for r in runs]
    if all(lates):
        return "late"
    return "late once" if any(lates) else "clean"


def run_step(args, kind, workers, n):
    try:
        sample = measure(args, kind, workers, n)
        sample["late"] = is_late(args, sample)
    except Exception as e:  # one failed step ends its curve, not the sweep
        print(f"scale_curves: {kind} W={workers} n={n}: {e}", file=sys.stderr, flush=True)
        sample = {"kind": kind, "workers": workers, "error": str(e)}
    brief = {k: v for k, v in sample.items() if k != "loads"}  # the generators' lines: in --json only
    print(f"scale_curves: {kind} W={workers} n={n}: {json.dumps(brief)}", file=sys.stderr, flush=True)
    time.sleep(1)
    return sample


def sweep(args, kind, workers, steps):
    """One curve: steps up until late (twice with --recheck), calls not answered, an error or the last step."""
    out = []
    for n in steps:
        runs = [run_step(args, kind, workers, n)]
        if args.recheck and "error" not in runs[0] and is_late(args, runs[0]) \
                and runs[0]["answered"] >= runs[0]["participants"]:
            runs.append(run_step(args, kind, workers, n))
        step = {"kind": kind, "workers": workers, "n": n, "runs": runs, "verdict": verdict(args, runs)}
        out.append(step)
        print(f"scale_curves: {kind} W={workers} n={n}: {step['verdict']}", file=sys.stderr, flush=True)
        if step["verdict"] not in ("clean", "late once", "no counters"):
            break
    return out


# ---------------------------------------------------------------------------------------------
# Report: markdown tables, the summary per curve.

def pct(value):
    """A percentage with two decimals, or two significant digits below 0.1%."""
    return f"{value:.2f}%" if value >= 0.1 or value == 0 else f"{value:.2g}%"


def fmt_share(r):
    if r.get("late_frames") is None:
        return "n/a"
    if not r["frames"]:
        return "0 frames"
    return f"{r['late_frames']:,.0f} ({pct(100 * r['late_frames'] / r['frames'])})"


def step_rows(step, kind):
    rows = []
    for i, r in enumerate(step["runs"]):
        label = f"{step['n']:,}" + (f" × {r.get('members', '?')}" if kind == "rooms" else "") + (" (again)" if i else "")
        if "error" in r:
            rows.append(f"| {step['workers']} | {label} | error: {r['error'][:120]} |" + " |" * 8)
            continue
        answered = r["answered"] or 1
        media = " / ".join(f"{v:.3f}" for v in r["media_threads"].values()) or "—"
        ratio = f" ({100 * r['received'] / r['expected']:.1f}%)" if r["expected"] else ""
        verdict = step["verdict"] if i == len(step["runs"]) - 1 else ("late" if r.get("late") else "clean")
        rows.append(f"| {step['workers']} | {label} | {r['answered']:,} / {r['failed']:,} | {r['cpu_per_s']:.3f} | "
                    f"{1e6 * r['cpu_per_s'] / answered:,.0f} | {media} | {fmt_share(r)} | "
                    f"{r['received']:,} / {r['expected']:,}{ratio} | {r['generator_cpu_per_s']:.3f} | "
                    f"{r['late_wakeups']:,} (max {r['max_lateness_ms']:.1f} ms) | {verdict} |")
    return rows


def summary(steps):
    """One line per curve: how far it went without a late frame, and where the first one fell."""
    if not steps:
        return "no step"
    w, kind = steps[0]["workers"], steps[0]["kind"]
    unit = "N" if kind == "participants" else "R"
    clean = [s for s in steps if s["verdict"] in ("clean", "late once")]
    last = steps[-1]
    text = f"W={w}: "
    if clean:
        best = clean[-1]
        text += f"no late frame up to {unit} = {best['n']:,} ({mean_cpu(best):.2f} CPU-s/s)"
    else:
        text += "late or failing from the first step"
    if last["verdict"] == "late":
        text += (f"; first late frame at {unit} = {last['n']:,}: {fmt_share(last['runs'][0])}, "
                 f"{mean_cpu(last):.2f} CPU-s/s")
    elif last["verdict"] in ("calls not answered", "error"):
        text += f"; at {unit} = {last['n']:,}: {last['verdict']}"
    else:
        text += "; no late frame up to the last step"
    once = [f"{s['n']:,}" for s in steps if s["verdict"] == "late once"]
    if once:
        text += f" (late in one of two runs at {unit} = {', '.join(once)})"
    return text


def mean_cpu(step):
    values = [r["cpu_per_s"] for r in step["runs"] if "cpu_per_s" in r]
    return sum(values) / len(values) if values else float("nan")


def pinning(args, workers):
    if workers == 1:
        return f"chorusd on CPU {args.server_cpu}, mixer_load on CPU {args.load_cpu}"
    return f"chorusd and mixer_load unpinned on CPUs {all_cpus()} (generator not isolated)"


def report(args, data):
    m = data["machine"]
    lines = [f"Command: `{data['command']}`", "",
             f"Machine: {m['cpus']} × {m['cpu_model']}, {m['mem_gib']} GiB, kernel {m['kernel']}, {m['date_utc']}, "
             f"load average {m['load_average_at_start']:.2f} at start; code {m['commit']}, {m['chorusd_version']}", "",
             f"{args.codec}{'' if args.codec == 'pcmu' else ', silence ' + args.silence}, {args.talkers} talkers a "
             f"room, {args.seconds:g} s window after {args.warmup:g} s warm-up, a fresh chorusd per step; "
             f"late share limit {args.late_share:g}%; recheck {'on' if args.recheck else 'off'}.",
             "Pinning: " + "; ".join(f"W={w}: {pinning(args, w)}" for w in data["workers"]) + ".",
             "Rooms are pinned at their first session to the worker with the fewest rooms (ties: the lowest index):",
             "one room runs on one worker whatever W is; equal rooms alternate between the workers."]
    if data.get("binaries_at_end", data.get("binaries")) != data.get("binaries"):
        lines.append(f"WARNING: chorusd or mixer_load was rebuilt during the sweep: {data['binaries']} → "
                     f"{data['binaries_at_end']}; the steps mix two builds.")
    if any(w > 1 for w in data["workers"]):
        lines.append("With W >= 2 the generators run on the same cores as chorusd (not isolated): their CPU is a "
                     "column, and chorusd's headroom is the cores minus it.")
    for kind in KINDS:
        first = "N (room 1000)" if kind == "participants" else "R rooms × size"
        lines += ["", f"### {TITLES[kind]}", "",
                  f"| W | {first} | answered / failed | chorusd CPU-s/s | µs per participant-s | media-0 / media-1 … "
                  "CPU-s/s | late frames | received / expected (generator) | generator CPU-s/s "
                  "| generator late wakeups | verdict |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        curves = [[s for s in data["steps"] if s["kind"] == kind and s["workers"] == w] for w in data["workers"]]
        for steps in curves:
            for step in steps:
                lines += step_rows(step, kind)
        lines.append("")
        lines += [f"- {summary(steps)}" for steps in curves]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The plot.

def curve_points(steps):
    """(x, mean CPU-s/s, verdict, first late share) of each measured step of one curve."""
    points = []
    for s in steps:
        cpus = [r["cpu_per_s"] for r in s["runs"] if "cpu_per_s" in r]
        if cpus:
            share = s["runs"][0].get("late_share")
            points.append((s["n"], sum(cpus) / len(cpus), s["verdict"], share))
    return points


def draw_curve(ax, points, workers, color, index):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    label = f"{workers} worker{'s' if workers > 1 else ''}" + (" (generator on the same cores)" if workers > 1 else "")
    ax.plot(xs, ys, "-o", color=color, label=label, markersize=5, zorder=2)
    low = points[-1][1] < 0.12 * ax.get_ylim()[1]  # a label below a low point would leave the axes
    offset = (-14, 18) if index % 2 == 0 else (14, 14 if low else -30)  # two curves' labels apart where they meet
    for x, y, verdict, share in points:
        if verdict == "late":
            ax.scatter([x], [y], marker="X", s=140, color="red", edgecolors="black", linewidths=0.6, zorder=4)
            text = f"W={workers}: first late frame" + (f"\n{pct(100 * share)} late" if share is not None else "")
        elif verdict == "late once":
            ax.scatter([x], [y], marker="o", s=110, facecolors="none", edgecolors="red", linewidths=1.4, zorder=3)
            continue
        elif verdict == "calls not answered":
            ax.scatter([x], [y], marker="s", s=70, color="grey", zorder=3)
            text = f"W={workers}: calls not answered"
        else:
            continue
        ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", ha="right" if offset[0] < 0 else "left",
                    fontsize=8, color=color, arrowprops={"arrowstyle": "-", "color": color, "lw": 0.8})
    if points[-1][2] in ("clean", "late once"):
        ax.annotate(f"W={workers}: no late frame yet", points[-1][:2], xytext=offset, textcoords="offset points",
                    ha="right" if offset[0] < 0 else "left", fontsize=8, color=color)


def legend_proxies(ax):
    import matplotlib.lines as mlines
    handles, _ = ax.get_legend_handles_labels()
    handles += [mlines.Line2D([], [], ls="none", marker="X", markersize=10, color="red", markeredgecolor="black",
                              label="late frames (twice: the first late frame)"),
                mlines.Line2D([], [], ls="none", marker="o", markersize=9, markerfacecolor="none",
                              markeredgecolor="red", label="late in one of two runs"),
                mlines.Line2D([], [], ls="none", marker="s", markersize=7, color="grey", label="calls not answered")]
    ax.legend(handles=handles, fontsize=8, loc="upper left")


def plot(data, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    a = data["args"]
    for ax, kind in zip(axes, KINDS):
        curves = [(w, curve_points([s for s in data["steps"] if s["kind"] == kind and s["workers"] == w]))
                  for w in data["workers"]]
        everything = [p for _, points in curves for p in points]
        ax.set_xlim(0, 1.2 * max([1] + [p[0] for p in everything]))  # room for the labels of the last points
        ax.set_ylim(0, 1.25 * max([1.0] + [p[1] for p in everything]))
        ax.axhline(1.0, color="grey", ls=":", lw=1)
        ax.annotate("one CPU", (1, 1.0), xytext=(-4, 3), textcoords="offset points", fontsize=7, color="grey",
                    ha="right", xycoords=("axes fraction", "data"))
        for i, (w, points) in enumerate(curves):
            if points:
                draw_curve(ax, points, w, colors[i % len(colors)], i)
        ax.set_xlabel("participants in room 1000 (N)" if kind == "participants"
                      else f"rooms of {a['members']} participants (R)")
        ax.set_ylabel("chorusd CPU-s per second (all threads)")
        ax.set_title(TITLES[kind])
        ax.grid(alpha=0.3)
        legend_proxies(ax)
    m = data["machine"]
    fig.suptitle(f"Chorus audio MCU scale curves: {a['codec']}, {a['talkers']} talkers a room, "
                 f"{a['seconds']:g} s window per step; {m['cpus']} × {m['cpu_model']}", fontsize=10)
    fig.text(0.01, 0.012, f"{data['command']}   ({m['date_utc']}, {m['commit']}). W=1: chorusd on CPU "
             f"{a['server_cpu']}, generator on CPU {a['load_cpu']}; W≥2: both unpinned on every core.",
             fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw(data, json_path, png):
    """The PNG, here when matplotlib imports, else by Debian's /usr/bin/python3 from the JSON."""
    if importlib.util.find_spec("matplotlib") is not None:
        plot(data, png)
        return True
    debian = "/usr/bin/python3"
    if not os.access(debian, os.X_OK) or os.path.realpath(sys.executable) == os.path.realpath(debian):
        print("scale_curves: no matplotlib (apt-get install python3-matplotlib): no PNG", file=sys.stderr)
        return False
    done = subprocess.run([debian, os.path.abspath(__file__), "--plot-only", json_path, "--png", png], timeout=300)
    return done.returncode == 0


# ---------------------------------------------------------------------------------------------
# Options and the sweep.

def int_list(text, what, low, high):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"scale_curves: {what} takes comma-separated integers")
    if not values or any(v < low or v > high for v in values):
        raise SystemExit(f"scale_curves: each of {what} must be {low}..{high}")
    return values


def worker_counts(text):
    counts = []
    for v in text.split(","):
        v = v.strip()
        count = os.cpu_count() if v in ("all", "nproc") else int_list(v, "--workers", 1, 256)[0]
        if count not in counts:
            counts.append(count)
    return counts


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chorusd", default="build/bin/chorusd")
    ap.add_argument("--mixer-load", help="mixer_load binary (default: next to chorusd)")
    ap.add_argument("--workers", default="1,2,all", help="media worker counts; all: one per CPU (deduplicated)")
    ap.add_argument("--participants", "--room-sizes", default="100,200,400,600,800,1000",
                    help="N steps of the participants-per-room curve (room 1000 admits 1,000)")
    ap.add_argument("--rooms", default="5,10,20,30,40,50,60,70,80,100", help="R steps of the rooms curve")
    ap.add_argument("--members", type=int, default=20, help="participants in each room of the rooms curve")
    ap.add_argument("--seconds", type=float, default=15, help="measured window per step")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of media before the window")
    ap.add_argument("--codec", choices=("pcmu", "opus"), default="pcmu")
    ap.add_argument("--silence", choices=("frames", "dtx"), default="frames", help="what Opus non-talkers send")
    ap.add_argument("--talkers", type=int, default=3, help="talkers in each room")
    ap.add_argument("--slots", type=int, default=10, help="mixer_load's send phases per 20 ms (rooms under 50: 2)")
    ap.add_argument("--late-share", type=float, default=0.0, help="percent of late frames a step may have and "
                    "still count as clean (0: any late frame ends the curve)")
    ap.add_argument("--no-recheck", dest="recheck", action="store_false", help="do not measure a late step again")
    ap.add_argument("--curves", default="participants,rooms", help="which curves")
    ap.add_argument("--quick", action="store_true", help="a short smoke sweep: participants 50,100; rooms 2,4 of 10; "
                    "5 s windows after 2 s")
    ap.add_argument("--server-cpu", type=int, default=1, help="chorusd's CPU when W = 1")
    ap.add_argument("--load-cpu", type=int, default=0, help="the generators' CPU when W = 1")
    ap.add_argument("--rtp-ports", default="20000-32767", help="chorusd's range (two ports per call)")
    ap.add_argument("--max-calls", type=int, default=5000)
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--nice", type=int, default=0, help="niceness of chorusd, the generators and both autogroups")
    ap.add_argument("--json", help="write every sample, the machine and the command here")
    ap.add_argument("--png", default="bench/scale_curves.png")
    ap.add_argument("--plot-only", metavar="JSON", help="only draw --png from a --json file of an earlier run")
    args = ap.parse_args(argv)
    if args.quick:
        args.participants, args.rooms = QUICK["participants"], QUICK["rooms"]
        args.members, args.seconds, args.warmup = QUICK["members"], QUICK["seconds"], QUICK["warmup"]
    args.mixer_load = args.mixer_load or os.path.join(os.path.dirname(os.path.abspath(args.chorusd)), "mixer_load")
    args.curves = [c.strip() for c in args.curves.split(",") if c.strip()]
    if any(c not in KINDS for c in args.curves):
        ap.error("--curves takes participants and/or rooms")
    if args.seconds < 2 or args.warmup < 0 or args.talkers < 0 or not 1 <= args.slots <= 20:
        ap.error("--seconds at least 2, --warmup and --talkers at least 0, --slots 1..20")
    return args


def run(args):
    steps = {"participants": int_list(args.participants, "--participants", 1, 5000),
             "rooms": int_list(args.rooms, "--rooms", 1, 1000)}
    if not 1 <= args.members <= 1000:
        raise SystemExit("scale_curves: --members must be 1..1000")
    data = {"command": shlex.join(["python3", "bench/scale_curves.py"] + sys.argv[1:]),
            "machine": machine(args.chorusd), "workers": worker_counts(args.workers),
            "args": {k: v for k, v in vars(args).items() if k != "plot_only"}, "binaries": binaries(args), "steps": []}
    if data["machine"]["load_average_at_start"] > 0.5:
        print(f"scale_curves: warning: load average {data['machine']['load_average_at_start']:.2f}; other work on "
              "the cores inflates CPU figures and late frames", file=sys.stderr)
    for workers in data["workers"]:
        for kind in args.curves:
            data["steps"] += sweep(args, kind, workers, steps[kind])
    data["binaries_at_end"] = binaries(args)
    return data


def main():
    args = parse_args()
    if args.plot_only:
        with open(args.plot_only) as f:
            plot(json.load(f), args.png)
        return 0
    if not shutil.which("taskset") or not os.access(args.mixer_load, os.X_OK) or os.cpu_count() < 2:
        print(f"scale_curves: needs taskset, two CPUs and {args.mixer_load} (ninja mixer_load)")
        return 77
    if args.nice:
        bs.set_autogroup_nice(args.nice)
    data = run(args)
    print(report(args, data))
    json_path = args.json
    if json_path is None:
        fd, json_path = tempfile.mkstemp(prefix="scale-curves-", suffix=".json")
        os.close(fd)
    with open(json_path, "w") as f:
        json.dump(data, f, indent=1)
    try:
        if draw(data, json_path, args.png):
            print(f"\nPNG: {args.png}" + (f"; samples: {args.json}" if args.json else ""))
    finally:
        if args.json is None:
            os.unlink(json_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
