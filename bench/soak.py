#!/usr/bin/env python3
"""Soak (issue 12): churn for --minutes and record whether chorusd stays flat.

chorusd (`--workers 1`, log level info, a temp data dir) takes, all at once for the whole run:
- calls joining and leaving audio room 1000 at --cps (sipp's `uac`: INVITE/200/ACK, --hold-s, BYE),
  so about cps * hold calls are up at any time;
- REST writes: a room created, patched and deleted (admin token) every --rest-period seconds;
- --sse readers on GET /v1/events, each reconnecting when its stream ends.
Every --sample-s it records chorusd's RSS (and RssAnon), open fds (/proc/PID/fd), threads, the heap in
use (`heap_in_use_bytes` from the SIGUSR1 status line), dialogs, and the audio mixer's late-frame
share since the previous sample (`chorus_mixer_late_frames_total` / `chorus_mixer_frames_total` from
/metrics). Beside chorusd, bench/tools/tick_probe (built next to it) wakes on the same 20 ms
deadlines at the same priority doing 1 ms of arithmetic and, per tick, as many loopback sends as the
room has listeners (--probe-sends, default cps * hold): its late ticks a minute are the machine's own
(a descheduled or slowed vCPU, reclaim), which no server code can avoid. Both the probe and chorusd's
media-0 thread are pinned to --probe-cpu (default 1; -1: neither is pinned), so they see the same vCPU. Prints a
markdown table of the samples and a summary (first vs last quarter); writes the raw samples as JSON
to stderr. Measures only: nothing is asserted.

  python3 bench/soak.py --chorusd build/bin/chorusd [--minutes 30] [--cps 20] [--hold-s 10] [--sse 4]
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_support as bs  # noqa: E402


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    kib = lambda key: int(fields[key].split()[0]) if key in fields else 0  # noqa: E731
    return {"rss_kib": kib("VmRSS"), "anon_kib": kib("RssAnon"), "threads": int(fields["Threads"])}


def metric(text, name):
    found = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def request(port, token, method, path, body=None, timeout=5, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None, b""


class Churn:
    """The REST writer and the SSE readers, on threads until stop()."""

    def __init__(self, port, token, sse_readers, rest_period):
        self.port, self.token, self.rest_period = port, token, rest_period
        self.running = True
        self.rest_ok = self.rest_failed = self.sse_events = self.sse_reconnects = 0
        self.threads = [threading.Thread(target=self._writer, daemon=True)] if rest_period > 0 else []
        self.threads += [threading.Thread(target=self._reader, daemon=True) for _ in range(sse_readers)]
        for thread in self.threads:
            thread.start()

    def _writer(self):
        n = 0
        while self.running:
            n += 1
            status, body = request(self.port, self.token, "POST", "/v1/rooms", {"name": f"soak-{n}"})
            ok = status == 201
            if ok:
                created = json.loads(body)
                room, version = created["id"], created["version"]
                ok = request(self.port, self.token, "PATCH", f"/v1/rooms/{room}", {"name": f"soak-{n}-b"},
                             headers={"If-Match": f'"{version}"'})[0] == 200
                ok = request(self.port, self.token, "DELETE", f"/v1/rooms/{room}")[0] in (200, 204) and ok
            if ok:
                self.rest_ok += 1
            else:
                self.rest_failed += 1
            time.sleep(self.rest_period)

    def _reader(self):
        while self.running:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.sendall((f"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
                               "Accept: text/event-stream\r\n\r\n").encode())
                    s.settimeout(1.0)
                    while self.running:
                        try:
                            chunk = s.recv(65536)
                        except socket.timeout:
                            continue
                        if not chunk:
                            break
                        self.sse_events += chunk.count(b"\nid: ") + chunk.startswith(b"id: ")
            except OSError:
                pass
            self.sse_reconnects += 1
            time.sleep(0.5)

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join(timeout=3)


def start_sipp(sip_port, cps, hold_s, minutes, workdir):
    sipp = shutil.which("sipp")
    if not sipp:
        raise RuntimeError("sipp (Debian sip-tester) is not installed")
    calls = int(cps * minutes * 60)
    command = [sipp, f"127.0.0.1:{sip_port}", "-s", "1000", "-sn", "uac", "-i", "127.0.0.1", "-p", str(bs.free_port()),
               "-mi", "127.0.0.1", "-mp", str(bs.free_port()), "-nostdin", "-r", str(cps),
               "-m", str(calls), "-d", str(int(hold_s * 1000)), "-trace_stat", "-stf",
               os.path.join(workdir, "sipp_stats.csv"), "-fd", "10"]
    log = open(os.path.join(workdir, "sipp.log"), "w")
    return command, subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)


def start_tick_probe(chorusd, minutes, realtime_priority, workdir, sends, cpu):
    """bench/tools/tick_probe beside chorusd, or None when it was not built."""
    probe = os.path.join(os.path.dirname(os.path.abspath(chorusd)), "tick_probe")
    if not os.access(probe, os.X_OK):
        return None
    command = [probe, "--minutes", str(minutes), "--realtime-priority", str(realtime_priority), "--work-us", "1000",
               "--sends", str(sends)]
    if cpu >= 0:
        command += ["--cpu", str(cpu)]
    return subprocess.Popen(command, stdout=open(os.path.join(workdir, "tick_probe.jsonl"), "w"),
                            stderr=subprocess.STDOUT)


def pin_media_worker(pid, cpu):
    """Pins chorusd's media-0 thread to `cpu` (polls up to 10 s for the thread); False when it is not found."""
    until = time.monotonic() + 10
    while time.monotonic() < until:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if f.read().strip() == "media-0":
                        os.sched_setaffinity(int(tid), {cpu})
                        return True
            except OSError:
                continue
        time.sleep(0.1)
    return False


def probe_minutes(workdir):
    """The probe's late ticks by minute (1-based), from its JSON lines."""
    late = {}
    try:
        with open(os.path.join(workdir, "tick_probe.jsonl")) as f:
            for line in f:
                if line.startswith("{"):
                    row = json.loads(line)
                    late[row["minute"]] = (row["late"], row["ticks"], row["max_late_ms"], row.get("late_sends", 0),
                                           row.get("max_tick_ms", 0.0))
    except OSError:
        pass
    return late


def sample(server, http_port, token, previous_frames):
    pid = server.proc.pid
    row = proc_status(pid)
    row["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    status = server.status()
    row["heap_kib"] = status.get("heap_in_use_bytes", 0) // 1024
    row["dialogs"] = status.get("dialogs")
    _, text = request(http_port, token, "GET", "/metrics")
    text = text.decode(errors="replace")
    frames, late = metric(text, "chorus_mixer_frames_total"), metric(text, "chorus_mixer_late_frames_total")
    row["frames"], row["late"] = frames, late
    if previous_frames and frames is not None and frames > previous_frames[0]:
        row["late_share"] = (late - previous_frames[1]) / (frames - previous_frames[0])
    else:
        row["late_share"] = None
    return row, (frames, late) if frames is not None else previous_frames


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chorusd", required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--cps", type=float, default=20, help="0: no calls")
    parser.add_argument("--hold-s", type=float, default=10)
    parser.add_argument("--sse", type=int, default=4)
    parser.add_argument("--rest-period", type=float, default=1.0, help="0: no REST writes")
    parser.add_argument("--sample-s", type=float, default=60)
    parser.add_argument("--probe-cpu", type=int, default=1, help="CPU for tick_probe and media-0; -1: not pinned")
    parser.add_argument("--probe-sends", type=int, default=-1,
                        help="loopback sends a tick for tick_probe; default cps * hold-s (the room's listeners)")
    parser.add_argument("--media-realtime-priority", type=int, default=0,
                        help="chorusd's --media-realtime-priority (SCHED_RR workers; 0: off)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="chorus-soak-")
    server = bs.Chorusd(args.chorusd, workdir, 0, log_level="info", rtp_ports="20000-24999",
                        extra_args=["--workers", "1", "--max-calls", "2000",
                                    "--sip-trusted-sources", "127.0.0.1",  # one load generator, many calls
                                    "--media-realtime-priority", str(args.media_realtime_priority)])
    http_port = bs.free_port()
    server.command[server.command.index("--http-port") + 1] = str(http_port)
    server.command[server.command.index("taskset") + 2] = "0-1"  # both cores: this is not a per-core figure
    server.start()
    churn = sipp = None
    samples = []
    try:
        with open(os.path.join(workdir, "var", "admin-token")) as f:
            token = f.read().strip()
        churn = Churn(http_port, token, args.sse, args.rest_period)
        command, sipp = (start_sipp(server.sip_port, args.cps, args.hold_s, args.minutes, workdir) if args.cps > 0
                         else (["(no calls)"], None))
        if args.probe_cpu >= 0 and not pin_media_worker(server.proc.pid, args.probe_cpu):
            print(f"soak: media-0 not found; it is not pinned to CPU {args.probe_cpu}", file=sys.stderr)
        probe_sends = args.probe_sends if args.probe_sends >= 0 else int(args.cps * args.hold_s)
        probe = start_tick_probe(args.chorusd, args.minutes, args.media_realtime_priority, workdir, probe_sends,
                                 args.probe_cpu)
        started = time.monotonic()
        frames = None
        end = started + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(min(args.sample_s, max(0.0, end - time.monotonic())))
            row, frames = sample(server, http_port, token, frames)
            row["minute"] = round((time.monotonic() - started) / 60, 1)
            samples.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        if churn:
            churn.stop()
        if sipp and sipp.poll() is None:
            sipp.terminate()
            sipp.wait(timeout=30)
        server.stop()
        if probe and probe.poll() is None:
            probe.terminate()
            probe.wait(timeout=10)
    print(f"soak: {args.minutes:g} min, {args.cps:g} calls/s held {args.hold_s:g} s, {args.sse} SSE readers, "
          f"a room created/patched/deleted every {args.rest_period:g} s; sipp: {' '.join(command)}")
    print(f"REST cycles ok {churn.rest_ok}, failed {churn.rest_failed}; SSE events read {churn.sse_events}, "
          f"reconnects {churn.sse_reconnects}\n")
    probe_late = probe_minutes(workdir)
    print("| minute | RSS MiB | anon MiB | heap in use MiB | fds | threads | dialogs | late frames | "
          "tick_probe late wake-ups (max ms) | tick_probe late sends (longest tick ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in samples:
        late = "n/a" if row["late_share"] is None else f"{row['late_share']:.2%}"
        probe = probe_late.get(round(row["minute"]))
        probe_cell = "n/a | n/a" if probe is None else f"{probe[0]} of {probe[1]} ({probe[2]:.1f}) | {probe[3]} ({probe[4]:.1f})"
        print(f"| {row['minute']} | {row['rss_kib'] / 1024:.1f} | {row['anon_kib'] / 1024:.1f} | "
              f"{row['heap_kib'] / 1024:.1f} | {row['fds']} | {row['threads']} | {row['dialogs']} | {late} | "
              f"{probe_cell} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
