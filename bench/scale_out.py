#!/usr/bin/env python3
"""bench/scale_out: calls per second through Kamailio to two chorusd nodes against one node direct, and
the redial time after a node loss (issue 14).

Everything runs on this machine, on loopback, as tests/integration/test_scale_out.py starts it
(tests/integration/scale_out_rig.py): a throw-away PostgreSQL, two chorusd nodes clustered on it
(`--store postgresql://…`, log level warn) and Kamailio with the shipped deploy/kamailio/kamailio.cfg.

Throughput: sipp's tests/integration/sipp/room_call.xml (INVITE with SDP, 200, ACK, BYE, 200 — no
pause: short calls), the calls spread over --rooms rooms in turn, at rising rates for --seconds each:
  direct   sipp → node-a's SIP port (one node, the same PostgreSQL store and placement leases)
  kamailio sipp → Kamailio → node-a/node-b (placement lookup, dispatcher, record-routed ACK and BYE)
A rate passes when under 0.5% of its calls failed; each setup stops at its first failing rate. The
figures: the highest passing rate, the calls completed per wall second, and the CPU seconds the two
nodes together and Kamailio (all its processes) used per rate (/proc; the direct runs include
Kamailio's probes only). Everything shares this machine's cores, so this compares the two paths on
one machine; it is not the capacity of a deployment with a machine per node.

Redial after a node loss (--loss-runs times): a call straight into node-a places a room there;
node-a gets SIGKILL; INVITEs to that room through Kamailio, each waiting for its final answer, until
one is answered 200 (by node-b): the time from the kill to that 200. node-a is started again (same
id, same data) between runs and the run starts once Kamailio has it active again.

Prints markdown tables; writes nothing to RESULTS.md. Needs kamailio (+ kamailio-postgres-modules),
PostgreSQL's server binaries and sipp; exits 77 naming what is missing.

  python3 bench/scale_out.py --chorusd build/bin/chorusd [--rates 50,100,200,400] [--seconds 10]
                             [--rooms 20] [--loss-runs 3] [--output-dir DIR]
"""
import argparse
import os
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402
import scale_out_rig as rig  # noqa: E402

FAIL_LIMIT = 0.005
CLK_TCK = os.sysconf("SC_CLK_TCK")
REDIAL_BOUND_S = 60.0


class QuietNode(rig.Node):
    """A node logging at warn, so without the `msg=ready` line: ready once OPTIONS is answered 200."""

    def wait_ready(self, timeout_s=h.READY_TIMEOUT_S):
        def probe():
            self._must_be_alive("starting")
            return h.options_probe(self.sip_port, "UDP", timeout_s=1.0) == 200
        h.poll_until(probe, timeout_s, f"{self.node_id} to answer OPTIONS with 200", 0.2)


def start_node(args, pg, node_id):
    # 4,000 RTP ports (2,000 calls' pairs): the ports of ended calls come back while the load goes on.
    node = QuietNode(args.chorusd, args.output_dir, node_id, pg, rtp_ports=4000,
                     extra_args=["--log-level", "warn", "--media-timeout", "0"])
    return node.start()


def cpu_seconds(pid):
    """utime + stime of one process (proc(5) stat fields 14 and 15); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_tree_cpu(pid):
    """CPU seconds of pid and its children (Kamailio's workers are forked by its main process)."""
    total = cpu_seconds(pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                total += cpu_seconds(int(entry))
    return total


def sweep(args, port, label, rooms, nodes, kamailio):
    """[(rate, ok, failed, calls per wall second, chorusd CPU-s, Kamailio CPU-s)] up to the first rate
    with >= FAIL_LIMIT failed. chorusd CPU is both nodes' together."""
    results = []
    for rate in args.rates:
        calls = rate * args.seconds
        run = rig.SippRooms(args.sipp, args.source_dir, args.output_dir, f"{label}-{rate}", port, rooms,
                            rate=rate, hold_ms=0, timeout_s=args.seconds * 3 + 30, limit=max(100, rate * 4),
                            calls=calls)
        nodes_before = sum(cpu_seconds(n.proc.pid) for n in nodes)
        kamailio_before = process_tree_cpu(kamailio.proc.pid)
        ok, failed, _, elapsed = run.start().wait()
        nodes_cpu = sum(cpu_seconds(n.proc.pid) for n in nodes) - nodes_before
        kamailio_cpu = process_tree_cpu(kamailio.proc.pid) - kamailio_before
        results.append((rate, ok, failed, ok / elapsed if elapsed > 0 else 0.0, nodes_cpu, kamailio_cpu))
        print(f"    {label}: {rate}/s → {ok} ok, {failed} failed in {elapsed:.1f} s; chorusd {nodes_cpu:.2f} CPU-s, "
              f"Kamailio {kamailio_cpu:.2f} CPU-s", flush=True)
        if ok + failed == 0 or failed / (ok + failed) >= FAIL_LIMIT:
            break
        time.sleep(3)  # the previous rate's transactions end (Timer J/L at T1 100 ms: 6.4 s max)
    return results


def best(results):
    passing = [r for r in results if r[1] + r[2] > 0 and r[2] / (r[1] + r[2]) < FAIL_LIMIT]
    return max(passing, key=lambda r: r[0]) if passing else None


def redial_once(kamailio, nodes, room):
    """Seconds from SIGKILL of nodes[0] to the first 200 to `room` through Kamailio, and the answers."""
    node_a = nodes[0]
    call = rig.ProxiedCall(node_a.sip_port, room)
    code = call.invite()
    call.close()
    if code != 200:
        raise h.Failure(f"the call into node-a's {room} got {code}")
    killed = time.monotonic()
    os.kill(node_a.proc.pid, signal.SIGKILL)
    node_a.proc.wait(timeout=10)
    answers = []
    deadline = h.Deadline(REDIAL_BOUND_S)
    while not deadline.expired():
        attempt = rig.ProxiedCall(kamailio.port, room, timeout_s=10.0)
        code = attempt.invite()
        answers.append(code)
        if code == 200:
            elapsed = time.monotonic() - killed
            attempt.bye()
            attempt.close()
            return elapsed, answers
        attempt.close()
        time.sleep(0.2)
    raise h.Failure(f"no 200 within {REDIAL_BOUND_S:.0f} s of the kill: {answers}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chorusd", default="build/bin/chorusd")
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--rates", default="50,100,200,400")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rooms", type=int, default=20)
    ap.add_argument("--loss-runs", type=int, default=3)
    ap.add_argument("--output-dir")
    args = ap.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    args.chorusd = os.path.abspath(args.chorusd)
    args.source_dir = os.path.abspath(args.source_dir)
    args.output_dir = args.output_dir or tempfile.mkdtemp(prefix="chorus-scale-out-")
    os.makedirs(args.output_dir, exist_ok=True)
    try:
        args.sipp = h.require_binary("sipp", "sip-tester")
        kamailio_bins = rig.require_kamailio()
        pg = rig.PgServer()
        rig.require_cluster_flags(args.chorusd)
    except h.Skip as e:
        print(f"scale_out: {e}")
        return 77
    except h.Failure as e:
        print(f"scale_out: {e}")
        return 1
    print(f"scale_out: logs in {args.output_dir}", flush=True)
    rooms = [f"bench{i:03d}" for i in range(args.rooms)]
    nodes, kamailio = [], None
    try:
        pg.start()
        nodes = [start_node(args, pg, "node-a"), start_node(args, pg, "node-b")]
        api = rc.RestClient(nodes[0].http_port, rc.read_admin_token(nodes[0].data_dir))
        for room in rooms + ["lost"]:
            reply = api.post("/v1/rooms", {"id": room, "name": room})
            if reply.status != 201:
                raise h.Failure(f"POST /v1/rooms {room}: {reply.describe()}")
        api.close()
        kamailio = rig.Kamailio(*kamailio_bins, args.source_dir, args.output_dir, pg, nodes,
                                probe_interval_s=2, log_level=1).start()
        h.poll_until(lambda: all(kamailio.dispatcher_flags().get(n.sip_uri, "").startswith("A") for n in nodes),
                     20, "both nodes active in Kamailio", 0.25)
        print("--- throughput", flush=True)
        direct = sweep(args, nodes[0].sip_port, "direct", rooms, nodes, kamailio)
        through = sweep(args, kamailio.port, "kamailio", rooms, nodes, kamailio)
        print("--- redial after a node loss", flush=True)
        redials = []
        for run in range(args.loss_runs):
            elapsed, answers = redial_once(kamailio, nodes, "lost")
            redials.append((elapsed, answers))
            print(f"    run {run + 1}: {elapsed:.1f} s, answers {answers}", flush=True)
            nodes[0].start()  # the same ports and data: Kamailio's list names them
            h.poll_until(lambda: kamailio.dispatcher_flags().get(nodes[0].sip_uri, "").startswith("A"), 30,
                         "node-a active again in Kamailio", 0.25)
            # The room's conference now runs on node-b; the next run needs it ended there first.
            h.poll_until(lambda: not pg.query("SELECT 1 FROM chorus_placements WHERE room_id = 'lost'"), 30,
                         "room lost's placement to go", 0.25)
    except h.Failure as e:
        print(f"scale_out: FAIL: {e}\nlogs in {args.output_dir}")
        return 1
    finally:
        if kamailio is not None:
            kamailio.stop()
        for node in nodes:
            node.stop()
        pg.stop()

    print(f"\n{args.seconds} s per rate, {args.rooms} rooms, short calls (INVITE/200/ACK/BYE/200), "
          f"sipp room_call.xml; a rate passes under {FAIL_LIMIT:.1%} failed\n")
    print("| setup | rate (calls/s) | ok | failed | completed per wall second | chorusd CPU-s (both nodes) | "
          "calls per chorusd CPU-s | Kamailio CPU-s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, results in (("one node direct", direct), ("Kamailio → two nodes", through)):
        for rate, ok, failed, per_s, nodes_cpu, kamailio_cpu in results:
            per_cpu = f"{ok / nodes_cpu:.0f}" if nodes_cpu > 0 else "n/a"
            print(f"| {label} | {rate} | {ok} | {failed} | {per_s:.0f} | {nodes_cpu:.2f} | {per_cpu} | "
                  f"{kamailio_cpu:.2f} |")
    print("\n| setup | highest passing rate (calls/s) |")
    print("|---|---:|")
    for label, results in (("one node direct", direct), ("Kamailio → two nodes", through)):
        top = best(results)
        print(f"| {label} | {top[0] if top else 'none'} |")
    if redials:
        times = [t for t, _ in redials]
        print(f"\nRedial after SIGKILL of the room's node (lease 10 s, probes every 2 s, {len(times)} runs): "
              f"min {min(times):.1f} s, median {statistics.median(times):.1f} s, max {max(times):.1f} s\n")
        print("| run | kill → first 200 (s) | attempts | answers before the 200 |")
        print("|---:|---:|---:|---|")
        for i, (elapsed, answers) in enumerate(redials, 1):
            print(f"| {i} | {elapsed:.1f} | {len(answers)} | {', '.join(str(a) for a in answers[:-1]) or '—'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
