#!/usr/bin/env python3
"""Two chorusd nodes sharing one PostgreSQL, without a proxy in front (issue 14, the nodes' side of
the cluster contract: conference/cluster/README.md, server/cluster_host.hpp).

A throw-away PostgreSQL (initdb/pg_ctl in /tmp, a Unix socket only; scale_out_rig.PgServer) and two
chorusd on loopback, node-a and node-b, both `--store postgresql://…` with their own --node-id,
--node-sip-address and --node-http-url. Then, in order:

  join      an SSE client on node-b listens; sipp calls room 1000 on node-a (held). chorus_placements
            puts 1000 on node-a with a lease ahead; node-a lists it with "node": "node-a".
  redirect  an INVITE for 1000 sent to node-b: 302 with Contact <sip:1000@NODE_A_SIP>, and node-b
            starts no conference of its own.
  events    the SSE client on node-b sees node-a's participant.joined for room 1000, marked
            "node": "node-a".
  meeting   on node-a's REST: room `synced`, then a meeting in it two hours ahead: node-b refuses a
            call to `synced` with 480 (it knows the room and the meeting); the meeting moved to now on
            node-a: node-b answers 200 (the meeting admits the caller on the other node).
  rest      GET /v1/conferences/1000?x=1 on node-b: 307, Location node-a's URL + the same path and
            query; following it: 200 from node-a; GET /v1/conferences on node-b does not list 1000.
  drain     POST /v1/system/drain on node-b: OPTIONS to node-b → 503, chorus_nodes.draining true,
            GET /v1/system says draining, an INVITE to a room not live there → 503 with Retry-After;
            DELETE /v1/system/drain: OPTIONS 200 again.
  loss      SIGKILL node-a; INVITEs to 1000 on node-b (one at a time, each waiting for its answer)
            get 302 while node-a's lease lasts, then 200 (bounded by the lease + 20 s). The time from
            the kill to that 200 is printed beside the lease; chorus_placements then names node-b.
  stop      node-b ends its call, is quiescent and exits 0 on SIGTERM, leaving no placement behind.

Needs `sipp` (sip-tester) and PostgreSQL's server binaries (postgresql); skips (77) without them.
Standard library only.
"""

import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402
import scale_out_rig as rig  # noqa: E402

TEST = "test_two_nodes"
ROOM = "1000"
LEASE_S = 10  # placement_lease_s's default
SIPP_HOLD_MS = 120_000  # longer than the test: the call ends with node-a
REDIAL_BOUND_S = LEASE_S + 20


def rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Call:
    """One INVITE over UDP straight to a node; a 2xx is ACKed and later BYEd, anything else ACKed."""

    def __init__(self, node_port, room, with_offer=True):
        self.node = ("127.0.0.1", node_port)
        self.peer = h.UdpPeer()
        self.room = room
        self.with_offer = with_offer
        self.call_id = h.new_token("two-nodes-")
        self.final = None

    def invite(self, timeout_s=10.0):
        uri = f"sip:{self.room}@127.0.0.1:{self.node[1]}"
        via = f"SIP/2.0/UDP 127.0.0.1:{self.peer.port};branch={h.new_branch()};rport"
        body = h.sdp_offer("127.0.0.1", self.peer.port + 1) if self.with_offer else b""
        request = h.build_request("INVITE", uri, via=via, from_=f"<sip:caller@127.0.0.1>;tag={h.new_token()}",
                                  to=f"<{uri}>", call_id=self.call_id, cseq=1,
                                  contact=f"<sip:caller@127.0.0.1:{self.peer.port}>", body=body)
        self.peer.send(request, self.node)
        self.final, _ = h.wait_final(self.peer, timeout_s, lambda m: m.call_id == self.call_id)
        if self.final is None:
            return None
        if 200 <= self.final.code < 300:
            self.peer.send(h.in_dialog_request("ACK", self.final, self.peer, 1), self.node)
        else:
            self.peer.send(h.ack_for_failure(h.parse_sip(request), self.final), self.node)
        return self.final.code

    def bye(self):
        if self.final is None or not 200 <= self.final.code < 300:
            return None
        self.peer.send(h.in_dialog_request("BYE", self.final, self.peer, 2), self.node)
        final, _ = h.wait_final(self.peer, 10.0, lambda m: m.call_id == self.call_id and m.cseq == (2, "BYE"))
        return final.code if final else None

    def close(self):
        self.peer.close()


def call_once(port, room, with_offer=True):
    """(code, Call) of one INVITE; the call is closed unless it was answered 2xx."""
    call = Call(port, room, with_offer)
    code = call.invite()
    if code is None or not 200 <= code < 300:
        call.close()
    return code, call


class Pair:
    def __init__(self, args, pg):
        self.pg = pg
        # --media-timeout 0: the test's callers send no RTP and are hung up by the test.
        self.a = rig.Node(args.chorusd, args.output_dir, "node-a", pg, extra_args=["--media-timeout", "0"])
        self.b = rig.Node(args.chorusd, args.output_dir, "node-b", pg, extra_args=["--media-timeout", "0"])
        self.api = {}

    def start(self):
        for node in (self.a, self.b):
            node.start()
            h.poll_until(lambda: os.path.exists(os.path.join(node.data_dir, "admin-token")), 10,
                         f"{node.node_id}'s admin token")
            self.api[node.node_id] = rc.RestClient(node.http_port, rc.read_admin_token(node.data_dir))
        h.poll_until(lambda: len(self.pg.query("SELECT node_id FROM chorus_nodes WHERE heartbeat_at > now() - "
                                               "interval '6 seconds'")) == 2, 20, "both nodes' rows in chorus_nodes")
        return self

    def placement(self, room):
        rows = self.pg.query(f"SELECT node_id FROM chorus_placements WHERE room_id = '{room}' AND lease_until > now()")
        return rows[0][0] if rows else None

    def listed(self, node):
        reply = self.api[node.node_id].get("/v1/conferences")
        if reply.status != 200:
            raise h.Failure(f"GET /v1/conferences on {node.node_id}: {reply.describe()}")
        return {c["id"]: c for c in reply.json()["items"]}

    def close(self):
        for api in self.api.values():
            api.close()


def case_join(pair, sipp, out, checks):
    print("--- join: sipp calls room 1000 on node-a; node-b's event stream listens", flush=True)
    stream = rc.EventStream(pair.b.http_port, rc.read_admin_token(pair.b.data_dir))
    if not stream.ok:
        raise h.Failure(f"GET /v1/events on node-b: {stream.status_line}")
    command = [sipp, f"127.0.0.1:{pair.a.sip_port}", "-sn", "uac", "-s", ROOM, "-m", "1", "-d", str(SIPP_HOLD_MS),
               "-i", "127.0.0.1", "-p", str(h.free_port()), "-mp", str(h.free_port_range(4)[0]), "-nostdin",
               "-timeout", "300s", "-trace_err"]
    proc = h.spawn(command, os.path.join(out, "sipp-node-a.stdout"), cwd=out)
    h.poll_until(lambda: ROOM in pair.listed(pair.a), 15, "node-a to list a conference in room 1000")
    listed = pair.listed(pair.a)[ROOM]
    checks.expect(listed.get("node") == "node-a", f"join: node-a lists room 1000 with node node-a ({listed})")
    checks.expect(pair.placement(ROOM) == "node-a", f"join: chorus_placements puts 1000 on node-a "
                                                    f"({pair.placement(ROOM)})")
    ahead = pair.pg.query(f"SELECT extract(epoch FROM lease_until - now()) FROM chorus_placements "
                          f"WHERE room_id = '{ROOM}'")
    checks.expect(ahead and 0 < float(ahead[0][0]) <= LEASE_S, f"join: the lease runs {ahead} s ahead (≤ {LEASE_S})")
    return stream, proc


def case_redirect(pair, checks):
    print("--- redirect: INVITE for 1000 to node-b", flush=True)
    code, call = call_once(pair.b.sip_port, ROOM)
    contact = call.final.get("contact") if call.final is not None else None
    checks.expect(code == 302, f"redirect: node-b answers 302 (got {code})")
    checks.expect(contact == f"<sip:{ROOM}@127.0.0.1:{pair.a.sip_port}>",
                  f"redirect: Contact names room 1000 on node-a's SIP address ({contact})")
    checks.expect(ROOM not in pair.listed(pair.b), "redirect: node-b started no conference of room 1000")


def case_events(pair, stream, checks):
    print("--- events: node-a's participant.joined on node-b's event stream", flush=True)

    def joined():
        for event in stream.snapshot():
            data = json.loads(event["data"])
            if event.get("event") == "participant.joined" and data.get("node") == "node-a" and \
                    data.get("data", {}).get("conference_id", data.get("data", {}).get("room_id")) == ROOM:
                return data
        return None
    try:
        found = h.poll_until(joined, 10, "node-a's participant.joined on node-b's stream")
        checks.expect(True, f"events: node-b's stream carries node-a's participant.joined (id {found['id']})")
    except h.Failure as e:
        checks.expect(False, f"events: {e}; seen: {[ev.get('event') for ev in stream.snapshot()]}")
    stream.close()


def case_meeting(pair, checks):
    print("--- meeting: room and meeting made on node-a, calls on node-b", flush=True)
    api_a = pair.api["node-a"]
    reply = api_a.post("/v1/rooms", {"id": "synced", "name": "Made on node-a"})
    if reply.status != 201:
        raise h.Failure(f"POST /v1/rooms on node-a: {reply.describe()}")
    now = datetime.datetime.now(datetime.timezone.utc)
    later = {"room_id": "synced", "title": "later", "start": rfc3339(now + datetime.timedelta(hours=2)),
             "end": rfc3339(now + datetime.timedelta(hours=3))}
    reply = api_a.post("/v1/meetings", later)
    if reply.status != 201:
        raise h.Failure(f"POST /v1/meetings on node-a: {reply.describe()}")
    meeting = reply.json()
    # No offer: a caller outside the window gets 480 at once (no "not started" prompt first).
    answers = []

    def refused():
        code, call = call_once(pair.b.sip_port, "synced", with_offer=False)
        answers.append(code)
        if code == 200:  # the room reached node-b before its meeting: this caller is let in
            call.bye()
            call.close()
        return code == 480
    try:
        h.poll_until(refused, 10, "node-b to refuse room synced with 480 (it knows the room and its meeting)", 0.2)
        checks.expect(True, f"meeting: node-b knows node-a's room and its meeting: 480 outside the window "
                            f"(answers until then: {answers})")
    except h.Failure as e:
        checks.expect(False, f"meeting: {e}; answers {answers}")
    reply = api_a.request("PATCH", f"/v1/meetings/{meeting['id']}",
                          {"start": rfc3339(now - datetime.timedelta(minutes=5)),
                           "end": rfc3339(now + datetime.timedelta(minutes=30))},
                          headers={"If-Match": reply.header("etag")})
    if reply.status != 200:
        raise h.Failure(f"PATCH /v1/meetings on node-a: {reply.describe()}")
    admitted = {}

    def answered():
        code, call = call_once(pair.b.sip_port, "synced")
        answers.append(code)
        if code == 200:
            admitted["call"] = call
        return code == 200
    try:
        # An attempt that still finds the meeting ahead hears the "not started" prompt before its 480.
        h.poll_until(answered, 30, "node-b to admit a caller to synced once node-a opened the meeting", 0.2)
        checks.expect(True, "meeting: the meeting moved to now on node-a admits a caller on node-b (200)")
        checks.expect(pair.placement("synced") == "node-b", "meeting: chorus_placements puts synced on node-b")
        checks.expect(admitted["call"].bye() == 200, "meeting: the caller's BYE on node-b → 200")
        h.poll_until(lambda: pair.placement("synced") is None, 10, "synced's placement to go with its conference")
        checks.expect(True, "meeting: the last caller gone, node-b released synced's placement")
    except h.Failure as e:
        checks.expect(False, f"meeting: {e}; answers {answers}")
    finally:
        if "call" in admitted:
            admitted["call"].close()


def case_rest(pair, checks):
    print("--- rest: a conference on node-a asked of node-b", flush=True)
    api_b = pair.api["node-b"]
    path = f"/v1/conferences/{ROOM}?x=1"
    reply = api_b.get(path)
    location = reply.header("location")
    checks.expect(reply.status == 307 and location == f"http://127.0.0.1:{pair.a.http_port}{path}",
                  f"rest: GET {path} on node-b → 307 to node-a ({reply.status}, {location})")
    followed = pair.api["node-a"].get(path)
    checks.expect(followed.status == 200 and followed.json().get("node") == "node-a",
                  f"rest: following it, node-a answers 200 for its conference ({followed.describe()[:160]})")
    checks.expect(ROOM not in pair.listed(pair.b), "rest: node-b's list holds its own conferences only")


def case_drain(pair, checks):
    print("--- drain: POST /v1/system/drain on node-b", flush=True)
    api_b = pair.api["node-b"]
    reply = api_b.post("/v1/system/drain")
    checks.expect(reply.status == 202 and reply.json().get("draining") is True and
                  reply.json().get("node_id") == "node-b", f"drain: POST → 202 draining ({reply.describe()[:200]})")
    checks.expect(h.options_probe(pair.b.sip_port) == 503, "drain: node-b answers OPTIONS with 503")
    checks.expect(h.options_probe(pair.a.sip_port) == 200, "drain: node-a still answers OPTIONS with 200")
    h.poll_until(lambda: pair.pg.query("SELECT draining FROM chorus_nodes WHERE node_id = 'node-b'") == [["t"]], 10,
                 "chorus_nodes.draining for node-b")
    checks.expect(True, "drain: chorus_nodes says node-b is draining")
    status = api_b.get("/v1/system")
    checks.expect(status.status == 200 and status.json().get("draining") is True and
                  status.json().get("clustered") is True, f"drain: GET /v1/system ({status.describe()[:200]})")
    code, call = call_once(pair.b.sip_port, "9196")
    retry_after = call.final.get("retry-after") if call.final is not None else None
    checks.expect(code == 503 and retry_after, f"drain: a call to a room not live on node-b → 503 with Retry-After "
                                               f"({code}, {retry_after})")
    reply = api_b.delete("/v1/system/drain")
    checks.expect(reply.status == 200 and reply.json().get("draining") is False,
                  f"drain: DELETE → 200, not draining ({reply.describe()[:200]})")
    checks.expect(h.options_probe(pair.b.sip_port) == 200, "drain: node-b answers OPTIONS with 200 again")


def case_loss(pair, checks):
    print("--- loss: SIGKILL node-a, redial room 1000 on node-b", flush=True)
    os.kill(pair.a.proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    pair.a.proc.wait(timeout=10)
    deadline = h.Deadline(REDIAL_BOUND_S)
    answers = []
    redial = None
    while not deadline.expired():
        code, call = call_once(pair.b.sip_port, ROOM)
        answers.append(code)
        if code == 200:
            redial = call
            break
        time.sleep(0.2)  # pacing only: each attempt waited for its answer
    elapsed = time.monotonic() - killed
    if not checks.expect(redial is not None, f"loss: a redial to 1000 on node-b got 200 within {REDIAL_BOUND_S} s of "
                                             f"the kill (answers {answers})"):
        return None
    codes = sorted(set(answers))
    print(f"    first 200 {elapsed:.1f} s after SIGKILL of node-a (lease {LEASE_S} s, renewed every 2 s); "
          f"{len(answers)} attempts, answers {codes}", flush=True)
    checks.expect(set(answers[:-1]) <= {302}, f"loss: until then node-b redirected to node-a ({codes})")
    checks.expect(pair.placement(ROOM) == "node-b", f"loss: chorus_placements puts 1000 on node-b "
                                                    f"({pair.placement(ROOM)})")
    return redial


def body(args):
    sipp = h.require_binary("sipp", "sip-tester")
    pg = rig.PgServer()
    rig.require_cluster_flags(args.chorusd)
    checks = h.Checks()
    pair = None
    sipp_proc = None
    try:
        pg.start()
        pair = Pair(args, pg).start()
        print(f"[{TEST}] node-a SIP {pair.a.sip_port} HTTP {pair.a.http_port}, node-b SIP {pair.b.sip_port} "
              f"HTTP {pair.b.http_port}", flush=True)
        stream, sipp_proc = case_join(pair, sipp, args.output_dir, checks)
        case_redirect(pair, checks)
        case_events(pair, stream, checks)
        case_meeting(pair, checks)
        case_rest(pair, checks)
        case_drain(pair, checks)
        redial = case_loss(pair, checks)
        h.stop_process(sipp_proc)  # its call died with node-a
        if redial is not None:
            checks.expect(redial.bye() == 200, "stop: the redialled call's BYE on node-b → 200")
            redial.close()
        h.expect_quiescent(pair.b, checks, "node-b")
        h.expect_clean_stop(pair.b, checks)
        checks.expect(pg.query("SELECT room_id FROM chorus_placements WHERE node_id = 'node-b'") == [],
                      "stop: node-b left no placement behind")
    finally:
        if sipp_proc is not None:
            h.stop_process(sipp_proc)
        if pair is not None:
            pair.close()
            pair.a.stop()
            pair.b.stop()
        pg.stop()
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
