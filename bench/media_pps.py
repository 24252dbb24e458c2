#!/usr/bin/env python3
"""bench/media_pps (b): SRTP packets echoed through one media worker per worker CPU-second.

chorusd runs with --workers 1 pinned to CPU 0 (taskset). For each SRTP suite the script sets up
--calls SDES calls (RFC 4568) to the echo room over SIP/UDP: an INVITE offering RTP/SAVP with one
a=crypto line and a=rtcp-mux, the answer's port and key read from its SDP, then the ACK. Then
build/bin/srtp_load, pinned to CPU 1, sends SRTP at each --rates for --seconds to the calls' ports
and unprotects the echoes (UDP in, unprotect, protect, UDP out on the worker). Over each run the
script reads the CPU time of the worker thread (`media-0` in /proc/PID/task/*/comm, utime+stime),
the kernel's drop counter of the server's RTP sockets (/proc/net/udp), chorusd's media counters
(SIGUSR1 status line), and how busy core 0 was with anything but chorusd (other work there takes
the worker's time: such rows overstate loss, and the worker's larger batches flatter its figure). It reports echoed packets per worker CPU-second, loss and the worker's share
of its core, as a markdown table. The calls end with BYE.

Usage: bench/media_pps.py --chorusd build/bin/chorusd [--srtp-load build/bin/srtp_load]
         [--rates 20000,50000,100000,150000] [--seconds 10] [--calls 1] [--payload 160]
         [--suites AES_CM_128_HMAC_SHA1_80,AEAD_AES_128_GCM]
"""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import bench_support as bs

KEY_SALT_LENGTH = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
                   "AEAD_AES_128_GCM": 28, "AEAD_AES_256_GCM": 44}  # RFC 4568 §6.2, RFC 7714 §12
ECHO_ROOM = "9196"
TARGET = 90_000  # echoed packets per worker CPU-second
LOSS_LIMIT = 0.01  # a rate counts as sustained below 1% loss


def udp_port():
    """A free UDP port on 127.0.0.1 (the kernel's pick; srtp_load binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SdesCall:
    """One SIP dialog to the echo room with SDES-keyed SRTP (RFC 3261 over UDP, RFC 4568 keys)."""

    def __init__(self, sip_port, suite):
        self.server = ("127.0.0.1", sip_port)
        self.suite = suite
        self.key = os.urandom(KEY_SALT_LENGTH[suite])  # what we protect with: our a=crypto line
        self.rtp_port = udp_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.me = self.sock.getsockname()[1]
        self.call_id = f"{uuid.uuid4()}@media-pps"
        self.from_ = f"<sip:bench@127.0.0.1:{self.me}>;tag={uuid.uuid4().hex[:12]}"
        self.to = f"<sip:{ECHO_ROOM}@127.0.0.1>"
        self.remote_target = f"sip:{ECHO_ROOM}@127.0.0.1:{sip_port}"
        self.server_rtp = None
        self.server_key = None
        self.rtcp_mux = False

    def _request(self, method, uri, cseq, body=b"", branch=None):
        branch = branch or f"z9hG4bK-{uuid.uuid4().hex[:16]}"
        head = (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.me};branch={branch};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: {self.from_}\r\nTo: {self.to}\r\nCall-ID: {self.call_id}\r\n"
                f"CSeq: {cseq} {method}\r\nContact: <sip:bench@127.0.0.1:{self.me}>\r\n")
        if body:
            head += "Content-Type: application/sdp\r\n"
        return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    def _final(self, request, cseq, method, timeout_s=8.0):
        """Sends request until its final response: again every 0.5 s (RFC 3261 §17.1.1.2 Timer A at
        T1) until a provisional response arrives, then waits without resending."""
        end = time.monotonic() + timeout_s
        resend_at = 0.0
        while time.monotonic() < end:
            if resend_at is not None and time.monotonic() >= resend_at:
                self.sock.sendto(request, self.server)
                resend_at = time.monotonic() + 0.5
            self.sock.settimeout(0.1)
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                continue
            head, _, body = data.partition(b"\r\n\r\n")
            text = head.decode(errors="replace")
            status = re.match(r"SIP/2\.0 (\d{3})", text)
            if not status or not re.search(rf"^CSeq:\s*{cseq} {method}\s*$", text, re.M | re.I):
                continue  # a request from the server, or an answer to something else
            if int(status[1]) >= 200:
                return int(status[1]), text, body
            resend_at = None
        raise RuntimeError(f"no final response to {method} for {self.call_id}")

    def offer(self):
        b64 = base64.b64encode(self.key).decode()
        return (f"v=0\r\no=bench 4711 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                f"m=audio {self.rtp_port} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                f"a=crypto:1 {self.suite} inline:{b64}\r\na=rtcp-mux\r\na=sendrecv\r\n").encode()

    def start(self):
        """INVITE with the offer; reads the answer's address, port and key; ACKs the 200."""
        code, head, body = self._final(self._request("INVITE", self.remote_target, 1, self.offer()), 1, "INVITE")
        if code != 200:
            raise RuntimeError(f"INVITE to {ECHO_ROOM} answered {code}:\n{head}")
        self.to = re.search(r"^(?:To|t):\s*(.+?)\s*$", head, re.M | re.I)[1]
        contact = re.search(r"^(?:Contact|m):\s*<?([^>;\s]+)", head, re.M | re.I)
        self.remote_target = contact[1] if contact else self.remote_target
        sdp = body.decode(errors="replace")
        ip = re.search(r"^c=IN IP4 (\S+)", sdp, re.M)[1]
        port = int(re.search(r"^m=audio (\d+) RTP/SAVP", sdp, re.M)[1])
        crypto = re.search(rf"^a=crypto:\d+ {self.suite} inline:([A-Za-z0-9+/=]+)", sdp, re.M)
        if not crypto:
            raise RuntimeError(f"answer has no a=crypto line for {self.suite}:\n{sdp}")
        self.server_rtp = (ip, port)
        self.server_key = crypto[1]
        self.rtcp_mux = re.search(r"^a=rtcp-mux", sdp, re.M) is not None
        # RFC 3261 §13.2.2.4: the ACK of a 2xx is its own transaction, sent once here (loopback).
        self.sock.sendto(self._request("ACK", self.remote_target, 1), self.server)
        return self

    def flow_spec(self):
        """srtp_load's --flow value: server address, our RTP port, our key, the server's key."""
        return (f"{self.server_rtp[0]}:{self.server_rtp[1]},{self.rtp_port},"
                f"{base64.b64encode(self.key).decode()},{self.server_key}")

    def stop(self):
        try:
            self._final(self._request("BYE", self.remote_target, 2), 2, "BYE", timeout_s=4.0)
        except RuntimeError as e:
            print(f"media_pps: {e}", file=sys.stderr)
        self.sock.close()


def snapshot(server, worker_tid, calls):
    return {"worker": bs.cpu_seconds(server.proc.pid, worker_tid), "process": bs.cpu_seconds(server.proc.pid),
            "core0": bs.core_busy_seconds(0), "drops": sum(bs.udp_drops(c.server_rtp[1]) for c in calls), "status": server.status(),
            "time": time.monotonic()}


def srtp_load(args, suite, rate, flows):
    """srtp_load on CPU 1 at `rate` over `flows` (its --flow values); its JSON result."""
    cmd = ["nice", "-n", str(args.nice), "taskset", "-c", "1", args.srtp_load, "--suite", suite, "--rate", str(rate),
           "--duration", str(args.seconds), "--payload", str(args.payload)]
    for flow in flows:
        cmd += ["--flow", flow]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 30)
    if out.returncode != 0:
        raise RuntimeError(f"srtp_load failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def run_rate(args, server, worker_tid, calls, suite, rate):
    """One srtp_load run at `rate` over all calls; the row of figures it gives."""
    before = snapshot(server, worker_tid, calls)
    load = srtp_load(args, suite, rate, [call.flow_spec() for call in calls])
    after = snapshot(server, worker_tid, calls)
    worker = after["worker"] - before["worker"]
    counters = {k: after["status"].get(k, 0) - before["status"].get(k, 0)
                for k in ("media_packets_in", "media_packets_out", "media_dropped_auth", "media_dropped_replay",
                          "media_dropped_source", "media_dropped_malformed")}
    return {"system": "chorusd echo", "suite": suite, "rate": rate, "load": load, "worker_cpu_s": worker,
            "process_cpu_s": after["process"] - before["process"], "core0_busy_s": after["core0"] - before["core0"],
            "share": worker / load["wall_s"] if load["wall_s"] else 0.0,
            "per_cpu_s": load["echoed"] / worker if worker > 0 else 0.0,
            "server_socket_drops": after["drops"] - before["drops"], "counters": counters}


def reflector_rate(args, suite, rate, protect_only):
    """The same srtp_load run against bench/tools/udp_reflector on CPU 0 as an echo: each call's
    packets come back to the port they came from. protect_only: srtp_load sends plain RTP and the
    reflector runs srtp_protect once a packet (issue 13's baseline); otherwise it also unprotects,
    the same two operations as the echo room."""
    length = KEY_SALT_LENGTH[suite]
    ports = [udp_port() for _ in range(args.calls)]
    ours = [None if protect_only else base64.b64encode(os.urandom(length)).decode() for _ in ports]
    theirs = [base64.b64encode(os.urandom(length)).decode() for _ in ports]
    cmd = ["nice", "-n", str(args.nice), "taskset", "-c", "0", args.udp_reflector, "--suite", suite,
           "--bind", "127.0.0.1:0", "--max-seconds", str(args.seconds + 60)]
    for i, port in enumerate(ports):
        cmd += ["--publisher", f"127.0.0.1:{port}" + (f",{ours[i]}" if ours[i] else ""),
                "--slot", f"{i},127.0.0.1:{port},{0x5EED0000 + i},{theirs[i]}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline() or "{}")
        if "port" not in ready:
            raise RuntimeError(f"udp_reflector did not start: {proc.stderr.read().strip()}")
        flows = [f"127.0.0.1:{ready['port']},{port},{ours[i] or '-'},{theirs[i]}" for i, port in enumerate(ports)]
        load = srtp_load(args, suite, rate, flows)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    result = json.loads(out.strip().splitlines()[-1])
    cpu = result["cpu_s"]
    return {"system": "reflector, protect only" if protect_only else "reflector, unprotect + protect",
            "suite": suite, "rate": rate, "load": load, "worker_cpu_s": cpu, "process_cpu_s": cpu,
            "core0_busy_s": None, "share": cpu / load["wall_s"] if load["wall_s"] else 0.0,
            "per_cpu_s": load["echoed"] / cpu if cpu > 0 else 0.0,
            "server_socket_drops": result["rx_socket_drops"], "counters": {}}


def table(rows):
    lines = ["| system | suite | offered pps | sent | echoed | loss | server rx drops | loader rx drops | server CPU-s "
             "| core share | echoed per server CPU-s | core 0: other work (s) | loader CPU-s | RTT p50 / p99 (µs) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        load = r["load"]
        other = "—" if r["core0_busy_s"] is None else f"{r['core0_busy_s'] - r['process_cpu_s']:.2f}"
        lines.append(f"| {r['system']} | {r['suite']} | {r['rate']:,} | {load['sent']:,} | {load['echoed']:,} | "
                     f"{100 * load['loss']:.2f}% | {r['server_socket_drops']:,} | {load['rx_socket_drops']:,} | "
                     f"{r['worker_cpu_s']:.2f} | {100 * r['share']:.0f}% | **{r['per_cpu_s']:,.0f}** | {other} | "
                     f"{load['loader_cpu_s']:.2f} | {load['rtt_us_p50']:,.0f} / {load['rtt_us_p99']:,.0f} |")
    return "\n".join(lines)


def ratios(rows):
    """chorusd's echoed packets per CPU-second over each reflector's run right after it (same rate)."""
    lines, echo = [], None
    for r in rows:
        if r["system"] == "chorusd echo":
            echo = r
        elif echo is not None and r["per_cpu_s"] > 0:
            lines.append(f"{echo['suite']} {echo['rate']:,} pps: chorusd / {r['system']} = "
                         f"{echo['per_cpu_s'] / r['per_cpu_s']:.2f}")
    return "\n".join(lines)


def summary(rows, suites):
    """Per suite: the figure at the highest offered rate with under 1% loss, and the cheapest suite."""
    best = {}
    for suite in suites:
        passing = [r for r in rows if r["suite"] == suite and r["load"]["loss"] < LOSS_LIMIT]
        if passing:
            best[suite] = max(passing, key=lambda r: r["rate"])
    lines = []
    for suite, r in best.items():
        verdict = "met" if r["per_cpu_s"] >= TARGET else "NOT met"
        lines.append(f"{suite}: {r['per_cpu_s']:,.0f} echoed packets per worker CPU-second at {r['rate']:,} pps "
                     f"offered ({100 * r['load']['loss']:.2f}% loss, worker at {100 * r['share']:.0f}% of its core); "
                     f"target {TARGET:,}: {verdict}")
    if best:
        cheapest = max(best.values(), key=lambda r: r["per_cpu_s"])
        lines.append(f"cheapest suite per echoed packet: {cheapest['suite']}")
    for suite in suites:
        if suite not in best:
            lines.append(f"{suite}: no rate stayed under {100 * LOSS_LIMIT:.0f}% loss")
    return "\n".join(lines)


def bench_suite(args, server, worker_tid, suite):
    """Fresh calls for every rate: each srtp_load run starts new SSRCs and sequence numbers, and a
    server stream that kept its SRTP state across runs would see a jump it may take for a rollover
    (RFC 3711 §3.3.1), so its echoes would fail our fresh receiver's check."""
    rows = []
    for rate in [int(r) for r in args.rates.split(",")]:
        calls = []
        try:
            for _ in range(args.calls):
                calls.append(SdesCall(server.sip_port, suite).start())
            row = run_rate(args, server, worker_tid, calls, suite, rate)
        finally:
            for call in calls:
                call.stop()
        rows.append(row)
        print(f"media_pps: {suite} {rate} pps: {json.dumps(row)}", file=sys.stderr, flush=True)
        time.sleep(1)  # let the worker's queues and the echoes' stragglers settle
        if args.peer == "reflector":  # same rate, right after: the same machine state
            for protect_only in (True, False):
                rows.append(reflector_rate(args, suite, rate, protect_only))
                print(f"media_pps: {suite} {rate} pps: {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chorusd", default="build/bin/chorusd")
    ap.add_argument("--srtp-load", help="srtp_load binary (default: next to chorusd)")
    ap.add_argument("--rates", default="20000,50000,100000,150000", help="offered packets per second, all calls")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--calls", type=int, default=1, help="SDES calls per suite; the rate is spread over them")
    ap.add_argument("--payload", type=int, default=160, help="RTP payload octets (160: 20 ms of PCMU)")
    ap.add_argument("--suites", default="AES_CM_128_HMAC_SHA1_80,AEAD_AES_128_GCM")
    ap.add_argument("--log-level", default="info", help="chorusd's; info is needed for the media counters")
    ap.add_argument("--nice", type=int, default=0, help="niceness of chorusd and srtp_load and of this session's "
                    "autogroup (negative: root only), to keep other work on a shared machine off their cores")
    ap.add_argument("--peer", choices=["reflector"], help="also run bench/tools/udp_reflector as an echo at each "
                    "rate, protect-only and unprotect+protect, and print chorusd's ratio to each")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(args.chorusd))
    args.srtp_load = args.srtp_load or os.path.join(here, "srtp_load")
    args.udp_reflector = os.path.join(here, "udp_reflector")
    tools = [args.srtp_load] + ([args.udp_reflector] if args.peer else [])
    if not shutil.which("taskset") or not all(os.access(t, os.X_OK) for t in tools) or os.cpu_count() < 2:
        print(f"media_pps: needs taskset, two CPUs and {', '.join(tools)} (ninja srtp_load udp_reflector)")
        return 77
    suites = args.suites.split(",")
    if args.nice:
        bs.set_autogroup_nice(args.nice)
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"media_pps: warning: load average {load:.2f}; other work on the cores skews loss and core share",
              file=sys.stderr)
    workdir = tempfile.mkdtemp(prefix="chorus-media-pps-")
    server = bs.Chorusd(args.chorusd, workdir, cpu=0, extra_args=["--workers", "1"], log_level=args.log_level,
                        nice=args.nice)
    rows = []
    try:
        server.start()
        worker_tid = bs.thread_id(server.proc.pid, "media-0")
        if worker_tid is None:
            raise RuntimeError("chorusd has no thread named media-0")
        for suite in suites:
            rows += bench_suite(args, server, worker_tid, suite)
    except Exception:
        with open(server.log_path, errors="replace") as f:
            print("media_pps: chorusd log tail:\n" + "".join(f.readlines()[-20:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    print()
    print(summary([r for r in rows if r["system"] == "chorusd echo"], suites))
    if args.peer:
        print()
        print(ratios(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
