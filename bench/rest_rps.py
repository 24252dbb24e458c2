#!/usr/bin/env python3
"""REST requests served per chorusd CPU-second: `wrk` against GET /v1/rooms (or POST /v1/meetings), beside Janus.

chorusd (its own data dir, so the store holds the two default rooms) is pinned to CPU 0, wrk to
CPU 1: one wrk thread, 50 keep-alive connections, every request carrying
`Authorization: Bearer <admin token>`, for --seconds (10–20). chorusd's CPU time is utime+stime of the
whole process (every thread: HTTP, control loop, ...) from /proc/PID/stat before and after; the
figure is requests completed / those CPU seconds. wrk's latency percentiles and its count of
non-2xx answers are reported too, and the answers are classified by a second, short probe. chorusd
limits each API key to 20 requests/s with a burst of 40 (`http_requests_per_second`, `http_burst`;
rest-api/rate_limiter.hpp); the admin token has its own limit, off by default
(`http_admin_requests_per_second` 0), so with the admin token the answers are 200s with the room
list. Both figures are printed: all answers per CPU-second, and 200s per
CPU-second.

`--api-keys N` measures the 200 path instead: N API keys with rooms:read are created first through
POST /v1/api-keys (429s, should the admin token be limited, are waited out), and a wrk Lua script
sends each request with the next key in turn, so no caller exceeds its limit while N·20 ≥ the
request rate. Key auth looks the key's hash up in the store, which the admin token does not.

`--peer janus` runs Janus (Debian `janus` 1.1) in the same run, after chorusd: its HTTP transport only
(libmicrohttpd, no plugins, compact JSON) on a free loopback port, from a config written into a temp
dir, pinned to the same CPU 0 with the same nice; the same wrk command against `GET /janus/info`
(Janus's cheapest HTTP API answer, no auth), its CPU from /proc/PID/stat the same way; the table gets
a Janus row and the ratio of chorusd's 200s per CPU-second to Janus's.

`--write` measures durable writes instead: wrk POSTs `/v1/meetings` (one room, a one-hour meeting
each; `meetings:write` keys in turn with `--api-keys N`, else the admin token); each 201 comes after
the row is committed with SQLite's synchronous=FULL.

The measuring part (server start to stop, wrk) holds `flock --lock` (/tmp/chorus-bench.lock), so
benchmarks of several engineers on this machine do not overlap; setup outside it is short.

    python3 bench/rest_rps.py --chorusd build/bin/chorusd [--seconds 15] [--connections 50] [--runs 1] [--nice -20] [--api-keys 1500] [--peer janus] [--write]

Prints one table row per run and a JSON line with everything measured. Needs `wrk` (Debian wrk).
"""
import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_support as bs  # noqa: E402

kPath = "/v1/rooms"
kMeetingsPath = "/v1/meetings"
kJanusPath = "/janus/info"
kServerCpu, kLoaderCpu = 0, 1
kJanusTransports = "/usr/lib/x86_64-linux-gnu/janus/transports"


@contextlib.contextmanager
def bench_lock(path):
    """flock(path) while measuring: the machine's other benchmarks wait instead of sharing the CPUs."""
    if not path:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def http_status(port, token, path=kPath):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_http(port, token, deadline_s=20):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if http_status(port, token) == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"GET {kPath} did not answer 200 within {deadline_s} s")


def create_api_keys(port, admin_token, count, scope="rooms:read"):
    """count keys with `scope`; 429s are waited out (Retry-After) with a bound."""
    tokens = []
    body = lambda i: json.dumps({"name": f"bench-{i}", "scopes": [scope]}).encode()  # noqa: E731
    end = time.monotonic() + count / 10 + 60
    while len(tokens) < count and time.monotonic() < end:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/api-keys", data=body(len(tokens)), method="POST",
                                         headers={"Authorization": f"Bearer {admin_token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                tokens.append(json.loads(response.read())["token"])
        except urllib.error.HTTPError as error:
            if error.code != 429:
                raise RuntimeError(f"POST /v1/api-keys: {error.code} {error.read()[:300]!r}")
            time.sleep(float(error.headers.get("Retry-After", "1")))
    if len(tokens) < count:
        raise RuntimeError(f"created only {len(tokens)} of {count} API keys in time")
    return tokens


def write_rotation_script(path, tokens, write=False):
    """A wrk Lua script that sends each request with the next token in turn; with `write`, each is
    POST /v1/meetings of a one-hour meeting in room 1000 (rest_rps_meeting.lua's request)."""
    with open(path, "w") as f:
        f.write("local tokens = {\n" + "".join(f'  "{t}",\n' for t in tokens) + "}\n")
        if write:
            with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rest_rps_meeting.lua")) as lua:
                f.write(lua.read())
        else:
            f.write("local i = 0\nrequest = function()\n  i = i % #tokens + 1\n"
                    '  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[i]})\nend\n')


def wait_bucket_full():
    """The rate limiter refills at 20/s up to 40: after 2 s idle the bucket is full again."""
    time.sleep(2.5)


_DURATION_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)] if match else None


def parse_wrk(output):
    out = {}
    match = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if match:
        out["requests"] = int(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    out["non_2xx"] = int(match.group(1)) if match else 0
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        if match:
            out[f"p{pct}_ms"] = to_ms(match.group(1))
    match = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output)
    if match:
        out["avg_ms"], out["max_ms"] = to_ms(match.group(1)), to_ms(match.group(3))
    match = re.search(r"Socket errors: (.*)", output)
    out["socket_errors"] = match.group(1).strip() if match else ""
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match:
        out["wrk_rps"] = float(match.group(1))
    return out


def wrk_command(port, token, connections, seconds, script=None, path=kPath):
    auth = ["-s", script] if script else ["-H", f"Authorization: Bearer {token}"] if token else []
    return ["taskset", "-c", str(kLoaderCpu), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
            *auth, f"http://127.0.0.1:{port}{path}"]


def measure(pid, command, seconds, workdir, name):
    """Runs wrk; the server's CPU (utime+stime from /proc/PID/stat) and core 0's busy time around it."""
    before = bs.cpu_seconds(pid)
    busy_before = bs.core_busy_seconds(kServerCpu)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.monotonic() - started
    cpu = bs.cpu_seconds(pid) - before
    core_busy = bs.core_busy_seconds(kServerCpu) - busy_before
    with open(os.path.join(workdir, f"wrk-{name}.txt"), "w") as f:
        f.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    result = parse_wrk(done.stdout)
    result.update(cpu_s=cpu, wall_s=wall, core0_busy_s=core_busy, core0_other_s=max(0.0, core_busy - cpu),
                  ok_2xx=result["requests"] - result["non_2xx"])
    result["per_cpu_s"] = result["requests"] / cpu if cpu > 0 else None
    result["ok_per_cpu_s"] = result["ok_2xx"] / cpu if cpu > 0 else None
    result["core_share"] = cpu / wall if wall > 0 else None
    return result


def one_run(args, workdir):
    # All of wrk's connections come from 127.0.0.1: the per-address cap (32 by default, issue 12)
    # would answer the rest 503 and close them, so it is raised to the connection count.
    per_ip = ["--http-max-connections-per-ip", str(max(32, args.connections))]
    server = bs.Chorusd(args.chorusd, workdir, kServerCpu, extra_args=per_ip, nice=args.nice, rtp_ports="40000-40099")
    http_port = bs.free_port()
    # bench_support turns the HTTP listener off (--http-port 0); this benchmark needs it.
    server.command[server.command.index("--http-port") + 1] = str(http_port)
    server.start()
    try:
        with open(os.path.join(workdir, "var", "admin-token")) as f:
            token = f.read().strip()
        wait_http(http_port, token)
        script = None
        if args.api_keys or args.write:
            script = os.path.join(workdir, "rotate_keys.lua")
            scope = "meetings:write" if args.write else "rooms:read"
            tokens = create_api_keys(http_port, token, args.api_keys, scope) if args.api_keys else [token]
            write_rotation_script(script, tokens, args.write)
        wait_bucket_full()
        path = kMeetingsPath if args.write else kPath
        command = wrk_command(http_port, token, args.connections, args.seconds, script, path)
        result = measure(server.proc.pid, command, args.seconds, workdir, "chorusd")
        # What the answers were: right after the load the bucket is empty, so this one is 429.
        result["status_right_after"] = http_status(http_port, token)
        result["command"] = " ".join(command).replace(token, "$TOKEN").replace(workdir, "$WORKDIR")
        return result
    finally:
        server.stop()


def write_janus_config(workdir, port):
    """Janus with its HTTP transport only (the Janus API on 127.0.0.1:port, compact JSON), no plugins,
    event handlers or loggers: folders of its own, the transport a symlink to the packaged one."""
    folders = {name: os.path.join(workdir, "janus", name) for name in ("plugins", "transports", "events", "loggers")}
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    os.symlink(os.path.join(kJanusTransports, "libjanus_http.so"), os.path.join(folders["transports"], "libjanus_http.so"))
    conf = os.path.join(workdir, "janus")
    with open(os.path.join(conf, "janus.jcfg"), "w") as f:
        f.write("general: {\n" + f'\tconfigs_folder = "{conf}"\n' +
                "".join(f'\t{name}_folder = "{path}"\n' for name, path in folders.items()) +
                "\tdebug_level = 3\n}\nmedia: {\n\trtp_port_range = \"40100-40199\"\n}\n"
                "nat: {\n\tice_enforce_list = \"lo\"\n}\n")
    with open(os.path.join(conf, "janus.transport.http.jcfg"), "w") as f:
        f.write('general: {\n\tjson = "compact"\n\tbase_path = "/janus"\n\thttp = true\n'
                f'\tport = {port}\n\tip = "127.0.0.1"\n\thttps = false\n}}\nadmin: {{\n\tadmin_http = false\n}}\n')
    return os.path.join(conf, "janus.jcfg")


def janus_run(args, workdir):
    """The same wrk against Janus's GET /janus/info, Janus pinned like chorusd."""
    port = bs.free_port()
    config = write_janus_config(workdir, port)
    command = ["nice", "-n", str(args.nice), "taskset", "-c", str(kServerCpu), "janus", "-C", config,
               "-F", os.path.dirname(config), "-o"]
    with open(os.path.join(workdir, "janus.log"), "w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 20
        while http_status(port, None, kJanusPath) != 200:
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError(f"Janus did not answer GET {kJanusPath} (see {workdir}/janus.log)")
            time.sleep(0.1)
        wrk = wrk_command(port, None, args.connections, args.seconds, None, kJanusPath)
        result = measure(proc.pid, wrk, args.seconds, workdir, "janus")
        result["command"] = " ".join(wrk)
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def row(label, r):
    return (f"| {label} | {r['requests']:,} | {r['non_2xx']:,} | {r['ok_2xx']:,} | {r['cpu_s']:.2f} "
            f"| {r['core_share']:.0%} | {r['per_cpu_s']:,.0f} | **{r['ok_per_cpu_s']:,.0f}** "
            f"| {r.get('wrk_rps', 0):,.0f} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {r['core0_other_s']:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chorusd", required=True)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--nice", type=int, default=0,
                        help="as root: raise the session's autogroup weight (e.g. -20) when other work shares CPU 0")
    parser.add_argument("--api-keys", type=int, default=0,
                        help="rotate N API keys (rooms:read; meetings:write with --write) instead of the admin token, "
                             "to stay under the per-caller limit (N x 20/s above the request rate)")
    parser.add_argument("--peer", choices=["janus"], help="also measure Janus's HTTP API (GET /janus/info) in the same run")
    parser.add_argument("--write", action="store_true", help="POST /v1/meetings (durable writes) instead of GET /v1/rooms")
    parser.add_argument("--lock", default="/tmp/chorus-bench.lock", help="flock held while measuring ('' for none)")
    args = parser.parse_args()
    if not 10 <= args.seconds <= 20:
        parser.error("--seconds must be 10–20")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian package wrk)")
    if args.peer == "janus" and not shutil.which("janus"):
        sys.exit("janus is not installed (Debian package janus; scripts/install-deps.sh)")
    if args.nice < 0 and not bs.set_autogroup_nice(args.nice):
        print(f"note: could not set autogroup nice {args.nice}", file=sys.stderr)
    print("| run | requests | non-2xx | 2xx | server CPU-s | core share | answers per CPU-s | 2xx per CPU-s "
          "| wrk req/s | p50 / p99 ms | core 0 other work s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    results = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="rest-rps-") as workdir, bench_lock(args.lock):
            r = {"chorusd": one_run(args, workdir)}
            print(row(f"{run} chorusd", r["chorusd"]), flush=True)
            if args.peer == "janus":
                r["janus"] = janus_run(args, workdir)
                print(row(f"{run} janus", r["janus"]), flush=True)
                r["ratio"] = r["chorusd"]["ok_per_cpu_s"] / r["janus"]["ok_per_cpu_s"]
        results.append(r)
    for run, r in enumerate(results, 1):
        if "ratio" in r:
            print(f"run {run}: chorusd 2xx per CPU-s / Janus's = {r['ratio']:.2f}")
    print(json.dumps({"path": kMeetingsPath if args.write else kPath, "connections": args.connections,
                      "seconds": args.seconds, "api_keys": args.api_keys, "peer": args.peer, "runs": results}))


if __name__ == "__main__":
    main()
