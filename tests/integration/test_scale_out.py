#!/usr/bin/env python3
"""Issue 14, several nodes: PostgreSQL, Kamailio with the shipped deploy/kamailio/kamailio.cfg, and two
chorusd nodes (node-a, node-b) clustered on that database, all on loopback in a private network
namespace (only lo). Kamailio probes both nodes with OPTIONS (every second here) and looks rooms up in
chorus_placements (scale_out_rig.py says how each piece is started).

A room or meeting made through one node reaches the other's SIP path a moment later (a PostgreSQL
notification); the test waits until the other node's event stream shows the room.created or
meeting.created before dialling (Cluster.reached_all says why that suffices).

Cases, in this order (each builds on a cluster whose nodes are both up, except the last):
  spread    sipp (sipp/room_call.xml) makes 40 calls to 20 rooms through Kamailio, every room twice
            (rooms 1-20, then 1-20 again), 10 calls/s, each held 20 s. While they are held: each node's
            GET /v1/conferences lists its own conferences; every room is on exactly one node with both
            its calls, both nodes have rooms, and chorus_placements names the same node for each room.
            sipp completes all 40; afterwards no conference is left and their placements are gone.
  meet      two baresip agents (440 and 700 Hz microphones, recording what they hear) dial one room
            through Kamailio: the room is on one node with two participants, and each agent hears the
            other's tone at least 20 dB above its own (the mix; audio_room_agents measures).
  meeting   a room and a meeting in two days made through node A's REST: node B answers a direct INVITE
            with 480; a meeting open now added through node A: node B answers 200.
  events    an SSE stream on node B; a call straight into node A: the stream shows its
            participant.joined (and then participant.left) for that room.
  drain     a call through Kamailio holds room D on node X; POST /v1/system/drain on X: Kamailio's
            dispatcher marks X inactive (kamcmd dispatcher.list), four calls to new rooms through
            Kamailio all land on the other node, a second call to D still lands on X (its live
            conference keeps its calls and takes its room's new ones), both of D's calls end with 200;
            DELETE /v1/system/drain: X active again.
  loss      a call straight into node A places room L on A; SIGKILL of node A; redials of L through
            Kamailio (each bounded, until the first 200) are answered by node B, which then holds L's
            conference and placement. The time from the kill to that 200 is printed beside the lease
            (10 s) and the attempts' answers; it is measured, not asserted.
Finally, with Kamailio stopped (its probes keep OPTIONS transactions alive), node B goes back to no
transactions, dialogs or media ports and exits 0 on SIGTERM.

Skips (77) when kamailio (+ kamailio-postgres-modules), PostgreSQL's server binaries, sipp, baresip or
sox is missing, or unshare -n is not permitted; fails (not skips) when chorusd has no cluster settings
(--node-id, --node-sip-address, --node-http-url). Runs alone (sipp's 40 calls, real-time audio).
"""

import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audio_room_agents as ar  # noqa: E402
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402
import scale_out_rig as rig  # noqa: E402
from baresip_agent import BaresipAgent  # noqa: E402

TEST = "test_scale_out"
ROOMS = [f"scale{i:02d}" for i in range(1, 21)]
LEASE_S = 10  # placement_lease_s's default
SPREAD_HOLD_MS = 20000
SPREAD_SEEN_S = 15.0  # all 40 calls must be listed before the first of them ends (20 s)
MIN_SEPARATION_DB = 20.0
FIRST_PROMPT_S = 3.0  # "You are the first participant." plays to the first joiner instead of the room
SETTLE_S = 1.0
MIX_WINDOW_S = 4.0
REDIAL_BOUND_S = 60.0


class Cluster:
    def __init__(self, args, pg, kamailio_bins):
        self.args = args
        self.pg = pg
        out = args.output_dir
        # --media-timeout 0: the test's own callers send no RTP and are hung up by the test.
        self.nodes = [rig.Node(args.chorusd, out, node_id, pg, extra_args=["--media-timeout", "0"])
                      for node_id in ("node-a", "node-b")]
        self.kamailio = rig.Kamailio(*kamailio_bins, args.source_dir, out, pg, self.nodes)
        self.apis = {}
        self.streams = {}  # node id → its GET /v1/events, to know when a write reached every node

    @property
    def a(self):
        return self.nodes[0]

    @property
    def b(self):
        return self.nodes[1]

    def start(self):
        for node in self.nodes:
            node.start()
            h.poll_until(lambda: os.path.exists(os.path.join(node.data_dir, "admin-token")), 10,
                         f"{node.node_id}'s admin token")
            self.apis[node.node_id] = rc.RestClient(node.http_port, rc.read_admin_token(node.data_dir))
            self.streams[node.node_id] = rc.EventStream(node.http_port, rc.read_admin_token(node.data_dir))
            if not self.streams[node.node_id].ok:
                raise h.Failure(f"GET /v1/events on {node.node_id}: {self.streams[node.node_id].status_line}")
        last = {}

        def heartbeats():
            try:
                last["rows"] = self.pg.query("SELECT node_id FROM chorus_nodes WHERE heartbeat_at > now() - "
                                             "interval '6 seconds'")
            except h.Failure as e:  # the nodes create the table: until then, and if they never do
                last["rows"] = str(e)
            return isinstance(last["rows"], list) and len(last["rows"]) == 2
        try:
            h.poll_until(heartbeats, 20, "both nodes' heartbeats in chorus_nodes", 0.25)
        except h.Failure as e:
            raise h.Failure(f"{e}; last answer: {last.get('rows')}") from None
        self.kamailio.start()
        self.wait_dispatcher(lambda flags: all(flags.get(n.sip_uri, "").startswith("A") for n in self.nodes),
                             "both nodes active in Kamailio's dispatcher")
        return self

    def wait_dispatcher(self, condition, what, timeout_s=20.0):
        return h.poll_until(lambda: (lambda f: f if condition(f) else None)(self.kamailio.dispatcher_flags()),
                            timeout_s, what, 0.25)

    def api(self, node):
        return self.apis[node.node_id]

    def conferences(self, node):
        """{room: participant_count} of the node's GET /v1/conferences (its own conferences)."""
        reply = self.api(node).get("/v1/conferences?limit=200")
        if reply.status != 200:
            raise h.Failure(f"GET /v1/conferences on {node.node_id}: {reply.describe()}")
        return {item["id"]: item.get("participant_count") for item in reply.json()["items"]}

    def where(self, room):
        """{node id: participant_count} of the nodes that list room's conference."""
        found = {}
        for node in self.nodes:
            if node.alive():
                counts = self.conferences(node)
                if room in counts:
                    found[node.node_id] = counts[room]
        return found

    def wait_where(self, room, count, timeout_s=15.0):
        """The single node id that lists room with `count` participants; Failure when none does in time."""
        seen = {}

        def probe():
            seen.update(room=self.where(room))
            holders = [n for n, c in seen["room"].items() if c == count]
            return holders[0] if len(seen["room"]) == 1 and holders else None
        try:
            return h.poll_until(probe, timeout_s, f"room {room} on one node with {count} participants", 0.25)
        except h.Failure as e:
            raise h.Failure(f"{e} (last seen: {seen.get('room')})") from None

    def placement(self, room):
        rows = self.pg.query(f"SELECT node_id FROM chorus_placements WHERE room_id = '{room}' AND lease_until > now()")
        return rows[0][0] if rows else None

    def create_room(self, node, room):
        """POST /v1/rooms on node, then wait until the other nodes have it (reached_all)."""
        reply = self.api(node).post("/v1/rooms", {"id": room, "name": f"scale-out {room}"})
        if reply.status != 201:
            raise h.Failure(f"POST /v1/rooms {room} on {node.node_id}: {reply.describe()}")
        self.reached_all(node, "room.created", "room_id", room)

    def create_meeting(self, node, meeting):
        """POST /v1/meetings on node (201 or Failure), then wait until the other nodes have it."""
        reply = self.api(node).post("/v1/meetings", meeting)
        if reply.status != 201:
            raise h.Failure(f"POST /v1/meetings {meeting} on {node.node_id}: {reply.describe()}")
        self.reached_all(node, "meeting.created", "meeting_id", reply.json()["id"])

    def reached_all(self, writer, kind, key, value, timeout_s=10.0):
        """A write through one node reaches the others' SIP path asynchronously (a chorus_store
        notification, then the record read again from the store; server/cluster_views.hpp). The
        writer's event about it is notified after the write committed, and each node handles
        notifications in order, so once another node's event stream carries the event, that node's
        views have the record: wait for it there."""
        for node in self.nodes:
            if node is writer or not node.alive():
                continue
            stream = self.streams[node.node_id]

            def seen():
                return any(e.get("event") == kind and str(json.loads(e["data"]).get("data", {}).get(key)) == str(value)
                           for e in stream.snapshot())
            h.poll_until(seen, timeout_s, f"{kind} {value} from {writer.node_id} on {node.node_id}'s events", 0.05)

    def node(self, node_id):
        return next(n for n in self.nodes if n.node_id == node_id)

    def close(self):
        for api in self.apis.values():
            api.close()
        for stream in self.streams.values():
            stream.close()


def proxied(cluster, room, label, checks, port=None):
    """A call to room through Kamailio (or straight to `port`); the ProxiedCall, or None (a failed check)."""
    call = rig.ProxiedCall(port or cluster.kamailio.port, room, timeout_s=20.0)
    code = call.invite()
    if not checks.expect(code == 200, f"{label}: INVITE to {room} answered 200 (got {code})"):
        call.close()
        return None
    return call


def hang_up(call, label, checks):
    if call is not None:
        code = call.bye()
        checks.expect(code == 200, f"{label}: BYE in room {call.room} answered 200 (got {code})")
        call.close()


def rfc3339(at):
    return at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------

def case_spread(cluster, sipp, checks):
    print("--- spread: 40 sipp calls to 20 rooms through Kamailio", flush=True)
    for room in ROOMS:
        cluster.create_room(cluster.a, room)
    run = rig.SippRooms(sipp, cluster.args.source_dir, cluster.args.output_dir, "spread", cluster.kamailio.port,
                        ROOMS + ROOMS, rate=10, hold_ms=SPREAD_HOLD_MS, timeout_s=90).start()
    lists = {}

    def all_in():
        lists.update({n.node_id: cluster.conferences(n) for n in cluster.nodes})
        total = sum(count for counts in lists.values() for room, count in counts.items() if room in ROOMS)
        return total == 2 * len(ROOMS)
    try:
        h.poll_until(all_in, SPREAD_SEEN_S, "both nodes to list all 40 calls", 0.25)
    except h.Failure as e:
        checks.expect(False, f"spread: {e} (lists: {lists})")
    placements = dict(cluster.pg.query("SELECT room_id, node_id FROM chorus_placements"))
    for node_id, counts in lists.items():
        print(f"    {node_id}: {sorted((r, c) for r, c in counts.items() if r in ROOMS)}")
    split = {room: [n for n, counts in lists.items() if room in counts] for room in ROOMS}
    checks.expect(all(len(nodes) == 1 for nodes in split.values()),
                  f"spread: every room's conference is on exactly one node ({split})")
    checks.expect(all(lists[nodes[0]][room] == 2 for room, nodes in split.items() if len(nodes) == 1),
                  "spread: both calls of every room met in that room's conference")
    per_node = {n.node_id: sum(1 for nodes in split.values() if nodes == [n.node_id]) for n in cluster.nodes}
    checks.expect(all(count > 0 for count in per_node.values()), f"spread: both nodes have rooms ({per_node})")
    checks.expect(all(placements.get(room) == nodes[0] for room, nodes in split.items() if len(nodes) == 1),
                  f"spread: chorus_placements names the node that runs each room ({placements})")
    ok, failed, code, _ = run.wait()
    checks.expect(ok == 2 * len(ROOMS) and failed == 0,
                  f"spread: sipp completed {ok} of {2 * len(ROOMS)} calls, {failed} failed (exit {code})")
    try:
        h.poll_until(lambda: not any(r in ROOMS for n in cluster.nodes for r in cluster.conferences(n)) and
                     not cluster.pg.query("SELECT room_id FROM chorus_placements WHERE room_id LIKE 'scale%'"),
                     15, "the rooms' conferences and placements to end")
        checks.expect(True, "spread: after the calls no conference is left and their placements are gone")
    except h.Failure as e:
        checks.expect(False, f"spread: {e}")


def dial(agent, cluster, room, label, checks):
    agent.control.drain()
    since = len(agent.control.events)
    agent.control.command("dial", f"sip:{room}@127.0.0.1:{cluster.kamailio.port}")
    try:
        event = agent.control.wait_event("CALL_ESTABLISHED", ar.CALL_TIMEOUT_S, since, stop_on=("CALL_CLOSED",))
    except h.Failure as e:
        event = {"type": "none", "param": str(e)}
    ok = event.get("type") == "CALL_ESTABLISHED"
    checks.expect(ok, f"{label}: baresip's call to {room} through Kamailio established "
                      f"({event.get('type')} {event.get('param', '')!r})")
    return ar.now() if ok else None


def case_meet(cluster, baresip, checks):
    print("--- meet: two baresip agents in one room through Kamailio", flush=True)
    room = "meet"
    cluster.create_room(cluster.b, room)
    agents = [BaresipAgent(baresip, os.path.join(cluster.args.output_dir, f"meet-{hz}"), tone_hz=hz,
                           record=True).start() for hz in (440, 700)]
    clock = ar.RecordingClock(agents)
    try:
        joined = [dial(agent, cluster, room, f"meet {agent.tone_hz} Hz", checks) for agent in agents]
        if None in joined:
            return
        holder = cluster.wait_where(room, 2)
        checks.expect(True, f"meet: both calls are in room {room} on {holder} (GET /v1/conferences)")
        start = max(joined[0] + FIRST_PROMPT_S, joined[1] + SETTLE_S)
        end = start + MIX_WINDOW_S
        ar.sleep_until(end + 0.5)
        for agent, other in ((agents[0], agents[1]), (agents[1], agents[0])):
            heard = ar.recording(agent, clock)
            own = heard.level_db(agent.tone_hz, start, end)
            theirs = heard.level_db(other.tone_hz, start, end)
            checks.expect(theirs - own >= MIN_SEPARATION_DB,
                          f"meet: the {agent.tone_hz} Hz agent hears {other.tone_hz} Hz at {theirs:.1f} dB, its own "
                          f"{agent.tone_hz} Hz at {own:.1f} dB (>= {MIN_SEPARATION_DB:.0f} dB apart)")
    finally:
        for agent in agents:
            ar.hang_up(agent, f"meet {agent.tone_hz} Hz", checks)
        clock.stop()
        for agent in agents:
            agent.stop()


def case_meeting(cluster, checks):
    print("--- meeting: made through node A's REST, admitted by node B", flush=True)
    room = "planned"
    cluster.create_room(cluster.a, room)
    now = datetime.datetime.now(datetime.timezone.utc)
    cluster.create_meeting(cluster.a, {"room_id": room, "title": "in two days",
                                       "start": rfc3339(now + datetime.timedelta(days=2)),
                                       "end": rfc3339(now + datetime.timedelta(days=2, hours=1))})
    call = rig.ProxiedCall(cluster.b.sip_port, room, timeout_s=20.0)
    code = call.invite()
    call.close()
    checks.expect(code == 480, f"meeting: node B answers 480 while node A's only meeting is in two days (got {code})")
    cluster.create_meeting(cluster.a, {"room_id": room, "title": "now",
                                       "start": rfc3339(now - datetime.timedelta(minutes=5)),
                                       "end": rfc3339(now + datetime.timedelta(minutes=30))})
    call = proxied(cluster, room, "meeting: node B admits the caller of node A's meeting", checks,
                   port=cluster.b.sip_port)
    if call is not None:
        checks.expect(cluster.where(room) == {"node-b": 1}, f"meeting: the call is in node B's conference "
                                                            f"({cluster.where(room)})")
    hang_up(call, "meeting", checks)


def case_hostile_room(cluster, checks):
    """Kamailio puts the Request-URI's user into its placement query only after checking it against
    ^[A-Za-z0-9_.+-]{1,64}$: a room name carrying SQL gets 404 and the proxy goes on routing."""
    print("--- hostile room name: SQL in the Request-URI's user", flush=True)
    call = rig.ProxiedCall(cluster.kamailio.port, "1000'OR'1'='1;--", timeout_s=10.0)
    code = call.invite()
    status = call.final.start_line if call.final is not None else ""
    call.close()
    # Kamailio's own refusal ("404 Not Found"); a node would say "404 Room Not Found", so the name
    # never reached the placement query or a node.
    checks.expect(code == 404 and status.endswith(" 404 Not Found"),
                  f"hostile room: an INVITE for 1000'OR'1'='1;-- is refused by Kamailio's check ({status!r})")
    call = proxied(cluster, "1000", "hostile room: Kamailio still routes room 1000", checks)
    hang_up(call, "hostile room", checks)


def case_events(cluster, checks):
    print("--- events: SSE on node B sees node A's joins", flush=True)
    room = "events"
    cluster.create_room(cluster.a, room)
    stream = rc.EventStream(cluster.b.http_port, rc.read_admin_token(cluster.b.data_dir))

    def wait_event(kind):
        def probe():
            return [e for e in stream.snapshot()
                    if e.get("event") == kind and json.loads(e["data"]).get("data", {}).get("room_id") == room]
        try:
            events = h.poll_until(probe, 10, f"{kind} for room {room} on node B's stream", 0.1)
            checks.expect(True, f"events: node B's stream shows node A's {kind} in {room}: {events[0]['data'][:200]}")
        except h.Failure as e:
            checks.expect(False, f"events: {e} (stream: {[ev.get('event') for ev in stream.snapshot()]})")
    try:
        checks.expect(stream.ok, f"events: GET /v1/events on node B: 200 ({stream.status_line})")
        call = proxied(cluster, room, "events: a call straight into node A", checks, port=cluster.a.sip_port)
        if call is None:
            return
        checks.expect(cluster.where(room) == {"node-a": 1}, f"events: the call is on node A ({cluster.where(room)})")
        wait_event("participant.joined")
        hang_up(call, "events", checks)
        wait_event("participant.left")
    finally:
        stream.close()


def case_drain(cluster, checks):
    print("--- drain: POST /v1/system/drain on the node of a live conference", flush=True)
    held_room, new_rooms = "drained", [f"fresh{i}" for i in range(1, 5)]
    for room in [held_room] + new_rooms:
        cluster.create_room(cluster.a, room)
    first = proxied(cluster, held_room, "drain: the first call", checks)
    if first is None:
        return
    holder = cluster.node(cluster.wait_where(held_room, 1))
    other = next(n for n in cluster.nodes if n is not holder)
    print(f"    {held_room} is on {holder.node_id}; draining it", flush=True)
    reply = cluster.api(holder).post("/v1/system/drain")
    checks.expect(reply.status in (200, 202), f"drain: POST /v1/system/drain on {holder.node_id}: {reply.status}")
    calls = []
    try:
        cluster.wait_dispatcher(lambda f: f.get(holder.sip_uri, "").startswith("I"),
                                f"Kamailio's dispatcher to mark {holder.node_id} inactive")
        checks.expect(True, f"drain: Kamailio's probes mark {holder.node_id} inactive")
        for room in new_rooms:
            calls.append(proxied(cluster, room, f"drain: new room {room}", checks))
        landed = {room: cluster.where(room) for room in new_rooms}
        checks.expect(all(found == {other.node_id: 1} for found in landed.values()),
                      f"drain: every new room went to {other.node_id} ({landed})")
        second = proxied(cluster, held_room, "drain: a second call to the drained node's room", checks)
        calls.append(second)
        found = cluster.where(held_room)
        checks.expect(found == {holder.node_id: 2},
                      f"drain: {held_room} stays on {holder.node_id} with both calls ({found})")
    finally:
        for call in calls:
            hang_up(call, "drain", checks)
        hang_up(first, "drain: the first call, after the drain", checks)
        reply = cluster.api(holder).delete("/v1/system/drain")
        checks.expect(reply.status in (200, 202, 204), f"drain: DELETE /v1/system/drain: {reply.status}")
    try:
        cluster.wait_dispatcher(lambda f: f.get(holder.sip_uri, "").startswith("A"),
                                f"{holder.node_id} active again in Kamailio's dispatcher")
        checks.expect(True, f"drain: {holder.node_id} is active again after DELETE /v1/system/drain")
    except h.Failure as e:
        checks.expect(False, f"drain: {e}")


def case_loss(cluster, checks):
    print("--- loss: SIGKILL of node A, then redials through Kamailio", flush=True)
    room = "lost"
    cluster.create_room(cluster.b, room)
    call = proxied(cluster, room, "loss: a call straight into node A", checks, port=cluster.a.sip_port)
    if call is None:
        return
    checks.expect(cluster.placement(room) == "node-a", f"loss: chorus_placements puts {room} on node-a "
                                                       f"({cluster.placement(room)})")
    call.close()  # its node is about to die: nobody will answer a BYE
    killed = time.monotonic()
    os.kill(cluster.a.proc.pid, signal.SIGKILL)
    cluster.a.proc.wait(timeout=10)
    answers = []
    redial = None
    deadline = h.Deadline(REDIAL_BOUND_S)
    while not deadline.expired():
        attempt = rig.ProxiedCall(cluster.kamailio.port, room, timeout_s=min(10.0, max(1.0, deadline.remaining())))
        code = attempt.invite()
        answers.append(code)
        if code == 200:
            redial = attempt
            break
        attempt.close()
        time.sleep(0.2)  # pacing only: each attempt already waited for its final answer
    elapsed = time.monotonic() - killed
    if not checks.expect(redial is not None, f"loss: a redial to {room} through Kamailio got 200 within "
                                             f"{REDIAL_BOUND_S:.0f} s of the kill (answers: {answers})"):
        return
    print(f"    redial answered {elapsed:.1f} s after SIGKILL of node-a (lease {LEASE_S} s, probes every "
          f"{cluster.kamailio.probe_interval_s} s); {len(answers)} attempts: {answers}", flush=True)
    checks.expect(cluster.where(room) == {"node-b": 1}, f"loss: node B runs {room} now ({cluster.where(room)})")
    checks.expect(cluster.placement(room) == "node-b", f"loss: chorus_placements puts {room} on node-b "
                                                       f"({cluster.placement(room)})")
    flags = cluster.kamailio.dispatcher_flags()
    checks.expect(flags.get(cluster.a.sip_uri, "").startswith("I"),
                  f"loss: Kamailio's dispatcher has node-a inactive ({flags})")
    hang_up(redial, "loss", checks)


def body(args):
    sipp = h.require_binary("sipp", "sip-tester")
    baresip = h.require_binary("baresip", "baresip-core")
    h.require_binary("sox", "sox")
    kamailio_bins = rig.require_kamailio()
    pg = rig.PgServer()
    rig.require_cluster_flags(args.chorusd)
    checks = h.Checks()
    cluster = None
    try:
        pg.start()
        cluster = Cluster(args, pg, kamailio_bins).start()
        print(f"[{TEST}] kamailio 127.0.0.1:{cluster.kamailio.port}, node-a SIP {cluster.a.sip_port} HTTP "
              f"{cluster.a.http_port}, node-b SIP {cluster.b.sip_port} HTTP {cluster.b.http_port}", flush=True)
        case_spread(cluster, sipp, checks)
        case_meet(cluster, baresip, checks)
        case_meeting(cluster, checks)
        case_hostile_room(cluster, checks)
        case_events(cluster, checks)
        case_drain(cluster, checks)
        case_loss(cluster, checks)
        # Kamailio's probes keep a few OPTIONS transactions alive on every node (each for 64·T1): it
        # stops first, then node B must drain to nothing.
        cluster.kamailio.stop()
        h.expect_quiescent(cluster.b, checks, "node-b")
        h.expect_clean_stop(cluster.b, checks)
    finally:
        if cluster is not None:
            cluster.close()
            for node in cluster.nodes:
                node.stop()
            cluster.kamailio.stop()
        pg.stop()
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run_in_loopback_netns(TEST, body, h.arg_parser(__doc__), __file__,
                                     "so that the nodes, Kamailio and the callers see only loopback"))
