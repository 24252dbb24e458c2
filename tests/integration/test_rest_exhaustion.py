#!/usr/bin/env python3
"""REST API exhaustion (issue 12, "REST"): one source cannot lock the REST API out with idle connections, a
slowloris header, event streams or a request flood, and a revoked key's event stream ends.

Cases (`--only NAME` runs one):

  connections  chorusd with a long header timeout (--http-header-timeout 600, so nothing here depends on
               time). 300 idle TCP connections to the REST port from 127.0.0.1, held open: /healthz still
               answers 200 to a client bound to 127.0.0.2, and chorus_http_connections_refused_per_ip_total
               on /metrics reaches 300 - 32 (the default http_max_connections_per_ip): the connections past
               the cap were refused. Without the cap (--http-max-connections-per-ip 0) the 300 fill the
               global cap of 256 and /healthz from 127.0.0.2 gets 503.
  slowloris    chorusd with --http-header-timeout 2. A client sends a request line and then one header byte
               a second: chorusd answers 408 and closes the connection (the client sees EOF within 15 s,
               bounded), and chorus_http_request_timeouts_total{phase="header"} counts it. Without the
               header deadline (--http-header-timeout 3600) the trickle keeps the connection for 15 s.
  streams      An API key with rooms:read opens 4 event streams (GET /v1/events, the default
               http_max_event_streams_per_key); the 5th gets 429 application/problem+json with Retry-After.
               Another key still opens one. Without the cap (--http-max-event-streams-per-key 0) the 5th
               gets 200.
  revoke       DELETE /v1/api-keys/{id} with the admin token ends that key's open stream: its reader sees
               the chunked body end (EOF) within 10 s, while another key's stream stays open. (Without the
               revalidation in api/event_routes.cpp the stream runs on; there is no setting for that.)

  ratelimit    One API key sends requests as fast as one keep-alive connection carries them (at most 2,000):
               the default http_requests_per_second 20 / http_burst 40 lets at least the burst through, then
               answers 429 application/problem+json with Retry-After, and never lets more through than burst
               + rate x elapsed (+1); meanwhile another key and the admin token still get 200, and
               chorus_http_rate_limited_total{caller="api_key"} counts the refusals. Without the limit
               (--http-requests-per-second 0) no 429 comes.

The script re-executes itself under `unshare -n` with only loopback (so 127.0.0.2 is ours alone); where that is
not permitted it skips (77).
"""

import http.client
import os
import re
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
from rest_client import EventStream, RestClient, read_admin_token  # noqa: E402

TEST = "test_rest_exhaustion"
CASES = ("connections", "slowloris", "streams", "revoke", "ratelimit")
ATTACKER, BYSTANDER = "127.0.0.1", "127.0.0.2"
IDLE_CONNECTIONS = 300
PER_IP_CAP = 32  # the default http_max_connections_per_ip
STREAMS_PER_KEY = 4  # the default http_max_event_streams_per_key
HEADER_TIMEOUT_S = 2
SLOWLORIS_BOUND_S = 15.0
METRIC_TIMEOUT_S = 10.0
REVOKE_BOUND_S = 10.0
RATE, BURST = 20, 40  # the defaults of http_requests_per_second and http_burst
RATE_ATTEMPTS = 2000


def http_get(port, path, source=BYSTANDER, timeout_s=5.0):
    """(status, body) of a GET from `source` (a fresh connection bound to it), or (None, error text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s, source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError as e:
        return None, str(e)
    finally:
        conn.close()


def metric(port, name, labels=""):
    """The value of `name{labels}` on /metrics (read from the bystander address), or None."""
    status, text = http_get(port, "/metrics")
    if status != 200:
        return None
    m = re.search(rf"^{re.escape(name + labels)} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def start_server(args, name, extra):
    outdir = os.path.join(args.output_dir, name)
    os.makedirs(outdir, exist_ok=True)
    return h.Chorusd(args.chorusd, outdir, name=name, extra_args=extra).start()


def run_connections(args, checks):
    print("case connections: 300 idle connections from one address", flush=True)
    server = start_server(args, "connections", ["--http-header-timeout", "600"] + args.extra)
    idle = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((ATTACKER, 0))
            sock.settimeout(5.0)
            sock.connect(("127.0.0.1", server.http_port))  # the kernel completes it; chorusd accepts or refuses
            idle.append(sock)
        refused_floor = IDLE_CONNECTIONS - PER_IP_CAP
        try:
            refused = h.poll_until(
                lambda: (lambda v: v if v is not None and v >= refused_floor else None)(
                    metric(server.http_port, "chorus_http_connections_refused_per_ip_total")),
                METRIC_TIMEOUT_S, f"chorus_http_connections_refused_per_ip_total >= {refused_floor}", 0.2)
            checks.expect(True, f"connections past the per-address cap were refused (counter {refused})")
        except h.Failure as e:
            seen = metric(server.http_port, "chorus_http_connections_refused_per_ip_total")
            checks.expect(False, f"{e} (last value {seen})")
        status, body = http_get(server.http_port, "/healthz")
        checks.expect(status == 200, f"/healthz from {BYSTANDER} answers 200 while {IDLE_CONNECTIONS} idle "
                                     f"connections from {ATTACKER} are held (got {status} {body[:120]!r})")
        checks.expect(server.alive(), "chorusd is still running")
    finally:
        for sock in idle:
            sock.close()
        h.expect_clean_stop(server, checks)


def run_slowloris(args, checks):
    print(f"case slowloris: one header byte a second, header timeout {HEADER_TIMEOUT_S} s", flush=True)
    server = start_server(args, "slowloris", ["--http-header-timeout", str(HEADER_TIMEOUT_S)] + args.extra)
    try:
        sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=5.0)
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.http_port}\r\nX-Slow: ".encode())
        started = time.monotonic()
        received, closed = b"", False
        deadline = h.Deadline(SLOWLORIS_BOUND_S)
        for _ in range(int(SLOWLORIS_BOUND_S) + 2):
            readable, _, _ = select.select([sock], [], [], min(1.0, deadline.remaining()))
            if readable:
                try:
                    chunk = sock.recv(4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    closed = True
                    break
                received += chunk
                continue
            if deadline.expired():
                break
            try:
                sock.send(b"a")  # one more header byte: never a complete header
            except OSError:
                closed = True
                break
        held = time.monotonic() - started
        sock.close()
        checks.expect(closed, f"the slowloris connection was closed by chorusd (after {held:.1f} s; "
                              f"bound {SLOWLORIS_BOUND_S:.0f} s)")
        checks.expect(received.startswith(b"HTTP/1.1 408"),
                      f"chorusd answered 408 before closing (got {received[:60]!r})")
        timeouts = metric(server.http_port, "chorus_http_request_timeouts_total", '{phase="header"}')
        checks.expect(timeouts is not None and timeouts >= 1,
                      f'chorus_http_request_timeouts_total{{phase="header"}} counts it (got {timeouts})')
        checks.expect(any("msg=http_request_timeout" in line and "phase=header" in line
                          for line in server.log_lines()), "the log has the http_request_timeout line")
    finally:
        h.expect_clean_stop(server, checks)


def new_reader_key(admin, name):
    reply = admin.expect(201, "POST", "/v1/api-keys", {"name": name, "scopes": ["rooms:read"]})
    body = reply.json()
    return body["id"], body["token"]


def run_streams(args, checks, server, admin):
    print(f"case streams: {STREAMS_PER_KEY} + 1 event streams with one key", flush=True)
    _, token = new_reader_key(admin, "stream-hog")
    _, other_token = new_reader_key(admin, "stream-other")
    streams = []
    try:
        for i in range(STREAMS_PER_KEY):
            stream = EventStream(server.http_port, token)
            streams.append(stream)
            checks.expect(stream.ok, f"stream {i + 1} of the key opens ({stream.status_line})")
        extra = EventStream(server.http_port, token)
        streams.append(extra)
        checks.expect(extra.status_line.split()[1:2] == ["429"],
                      f"stream {STREAMS_PER_KEY + 1} of the key gets 429 (got {extra.status_line!r})")
        checks.expect(extra.headers.get("content-type", "").startswith("application/problem+json"),
                      f"the 429 is problem+json ({extra.headers.get('content-type')!r})")
        checks.expect(bool(extra.headers.get("retry-after")), "the 429 carries Retry-After")
        other = EventStream(server.http_port, other_token)
        streams.append(other)
        checks.expect(other.ok, f"another key still opens a stream ({other.status_line})")
        refused = metric(server.http_port, "chorus_http_event_streams_refused_total", '{reason="per_key"}')
        checks.expect(refused == 1, f'chorus_http_event_streams_refused_total{{reason="per_key"}} is 1 (got {refused})')
    finally:
        for stream in streams:
            stream.close()


def run_revoke(args, checks, server, admin):
    print("case revoke: deleting a key ends its open event stream", flush=True)
    key_id, token = new_reader_key(admin, "revoked-reader")
    _, other_token = new_reader_key(admin, "kept-reader")
    victim = EventStream(server.http_port, token)
    kept = EventStream(server.http_port, other_token)
    try:
        if not (victim.ok and kept.ok):
            raise h.Failure(f"streams did not open: {victim.status_line!r}, {kept.status_line!r}")
        admin.expect(204, "DELETE", f"/v1/api-keys/{key_id}")
        deleted_at = time.monotonic()
        try:
            h.poll_until(lambda: not victim.thread.is_alive(), REVOKE_BOUND_S,
                         "the revoked key's event stream to end", 0.05)
            checks.expect(True, f"the revoked key's stream ended {time.monotonic() - deleted_at:.1f} s after the "
                                f"DELETE (its reader saw EOF; error {victim.error})")
        except h.Failure as e:
            checks.expect(False, str(e))
        checks.expect(kept.thread.is_alive(), "another key's stream is still open")
        revoked = metric(server.http_port, "chorus_http_event_streams_revoked_total")
        checks.expect(revoked == 1, f"chorus_http_event_streams_revoked_total is 1 (got {revoked})")
        after = RestClient(server.http_port, token)
        try:
            checks.expect(after.get("/v1/events").status == 401, "the deleted key gets 401")
        finally:
            after.close()
    finally:
        victim.close()
        kept.close()


def run_ratelimit(args, checks, server, admin):
    print(f"case ratelimit: one key as fast as it can (at most {RATE_ATTEMPTS} requests)", flush=True)
    _, token = new_reader_key(admin, "hammer")
    _, other_token = new_reader_key(admin, "bystander")
    hammer, other = RestClient(server.http_port, token), RestClient(server.http_port, other_token)
    try:
        allowed, refused = 0, None
        started = time.monotonic()
        for _ in range(RATE_ATTEMPTS):
            reply = hammer.get_once("/v1/rooms")
            if reply.status == 429:
                refused = reply
                break
            if reply.status != 200:
                raise h.Failure(f"GET /v1/rooms answered {reply.describe()}")
            allowed += 1
        elapsed = time.monotonic() - started
        checks.expect(refused is not None, f"a 429 came within {RATE_ATTEMPTS} requests (after {allowed} allowed)")
        if refused is None:
            return
        checks.expect(refused.is_problem(429), f"the 429 is problem+json ({refused.content_type!r})")
        retry_after = refused.header("retry-after") or ""
        checks.expect(retry_after.isdigit() and int(retry_after) >= 1, f"the 429 carries Retry-After ({retry_after!r})")
        # The bucket starts full: the burst passes; refilling at RATE, no more than that in the time taken.
        bound = BURST + RATE * elapsed + 1
        checks.expect(BURST <= allowed <= bound,
                      f"{allowed} requests allowed in {elapsed:.2f} s: at least the burst {BURST}, at most {bound:.0f}")
        checks.expect(other.get_once("/v1/rooms").status == 200, "another key still gets 200")
        checks.expect(admin.get_once("/v1/rooms").status == 200, "the admin token still gets 200 (its own limit, off)")
        counted = metric(server.http_port, "chorus_http_rate_limited_total", '{caller="api_key"}')
        checks.expect(counted is not None and counted >= 1,
                      f'chorus_http_rate_limited_total{{caller="api_key"}} counts the refusals (got {counted})')
    finally:
        hammer.close()
        other.close()


def body(args):
    names = [args.only] if args.only else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise h.Failure(f"unknown case {unknown}; known: {', '.join(CASES)}")
    args.extra = args.chorusd_arg or []
    checks = h.Checks()
    if "connections" in names:
        run_connections(args, checks)
    if "slowloris" in names:
        run_slowloris(args, checks)
    stream_cases = [n for n in names if n in ("streams", "revoke", "ratelimit")]
    if stream_cases:
        server = start_server(args, "streams", args.extra)
        admin = RestClient(server.http_port, read_admin_token(server.data_dir))
        try:
            for name in stream_cases:
                {"streams": run_streams, "revoke": run_revoke, "ratelimit": run_ratelimit}[name](
                    args, checks, server, admin)
        finally:
            admin.close()
            h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help=f"run one case: {', '.join(CASES)}")
    parser.add_argument("--chorusd-arg", action="append",
                        help="one more chorusd argument, after the test's own (e.g. --chorusd-arg=--http-max-"
                             "connections-per-ip=0 to see a case fail without its defence)")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "so that 127.0.0.2 is a client of ours")


if __name__ == "__main__":
    sys.exit(main())
