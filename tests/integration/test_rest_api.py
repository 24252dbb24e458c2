#!/usr/bin/env python3
"""The REST API against a running chorusd, with sipp as the caller.

- Rooms and meetings: room A has a meeting whose join window is open now (start now-5 min, end now+30 min,
  UTC), room B one that starts in 2 days. sipp's `uac` to A is answered (exit 0); a call to B gets 480
  with a Warning (sipp/rest_rejected_480.xml).
- Removal: sipp/rest_kicked_bye.xml calls A and waits; the test finds the participant with GET
  /v1/conferences/A/participants, DELETEs it (204), and sipp must receive chorusd's BYE.
- Server-Sent Events: GET /v1/events, opened before the calls, shows participant.joined then
  participant.left for each call, ids strictly increasing, none for room B.
- Webhooks: a loopback http.server subscribed with event_types ["*"] receives the events; every
  `webhook-signature` verifies (Standard Webhooks, HMAC-SHA256 with the secret POST /v1/webhooks returned),
  and GET /v1/webhooks/{id}/deliveries lists each as delivered with the receiver's 204.
- Auth, generated from the server's own /v1/openapi.json: every operation with `x-required-scope`
  answers 401 problem+json (WWW-Authenticate: Bearer) without a token, and 403 problem+json with an
  API key holding another scope (any key for "admin" operations); path parameters are "x".
- Malformed JSON to POST /v1/rooms: 400 problem+json. A 2 MiB body (with Content-Length, and chunked):
  413 problem+json.
- Afterwards chorusd is quiescent (no transactions, dialogs or media ports).
"""

import datetime
import json
import os
import re
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

TEST = "test_rest_api"
SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")
ROOM_A, ROOM_B = "rest-room-a", "rest-room-b"
SCOPES = ("rooms:read", "rooms:write", "meetings:write", "conferences:moderate")
SIPP_TIMEOUT_S = 60
BIG_BODY = 2 * 1024 * 1024


def rfc3339(at):
    return at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sipp_command(sipp, server, room, args, folder):
    media_lo, _ = h.free_port_range(4)
    cmd = [sipp, f"127.0.0.1:{server.sip_port}", "-s", room, "-i", "127.0.0.1", "-p", str(h.free_port()),
           "-mi", "127.0.0.1", "-mp", str(media_lo), "-nostdin", "-aa",
           "-timeout", f"{SIPP_TIMEOUT_S}s", "-timeout_error",
           "-trace_err", "-error_file", os.path.join(folder, "errors.log"),
           "-trace_msg", "-message_file", os.path.join(folder, "messages.log")] + args
    if "-sf" in args:
        cmd[cmd.index("-sf") + 1] = os.path.join(SCENARIO_DIR, args[args.index("-sf") + 1])
    return cmd


def start_sipp(sipp, server, room, name, args, outdir):
    folder = os.path.join(outdir, name)
    os.makedirs(folder, exist_ok=True)
    cmd = sipp_command(sipp, server, room, args, folder)
    with open(os.path.join(folder, "command.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    return h.spawn(cmd, os.path.join(folder, "screen.log"), cwd=folder), folder


def wait_sipp(proc, folder):
    try:
        code = proc.wait(timeout=SIPP_TIMEOUT_S + 30)
    except subprocess.TimeoutExpired:
        h.stop_process(proc)
        code = "killed (did not end within its -timeout + 30 s)"
    if code != 0:
        for log in ("errors.log", "screen.log"):
            path = os.path.join(folder, log)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    print(f"    {log}:\n" + f.read().decode("utf-8", "replace")[-2500:])
    return code


def run_sipp(sipp, server, room, name, args, outdir):
    proc, folder = start_sipp(sipp, server, room, name, args, outdir)
    return wait_sipp(proc, folder)


def call_ids_sent(folder):
    """Call-IDs of the INVITEs sipp sent (its -trace_msg file)."""
    try:
        with open(os.path.join(folder, "messages.log"), "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return set()
    ids = set()
    for block in text.split("INVITE sip:")[1:]:
        m = re.search(r"^Call-ID:\s*(\S+)", block, re.M | re.I)
        if m:
            ids.add(m.group(1))
    return ids


# ---------------------------------------------------------------------------------------------

def create_rooms_and_meetings(api, checks):
    now = datetime.datetime.now(datetime.timezone.utc)
    for room in (ROOM_A, ROOM_B):
        reply = api.post("/v1/rooms", {"id": room, "name": f"REST test {room}"})
        checks.expect(reply.status == 201 and reply.json().get("id") == room and reply.header("location") ==
                      f"/v1/rooms/{room}", f"POST /v1/rooms {room}: 201 with Location ({reply.describe()[:300]})")
    open_now = {"room_id": ROOM_A, "title": "open now", "start": rfc3339(now - datetime.timedelta(minutes=5)),
                "end": rfc3339(now + datetime.timedelta(minutes=30))}
    later = {"room_id": ROOM_B, "title": "in two days", "start": rfc3339(now + datetime.timedelta(days=2)),
             "end": rfc3339(now + datetime.timedelta(days=2, hours=1))}
    for meeting in (open_now, later):
        reply = api.post("/v1/meetings", meeting)
        ok = reply.status == 201 and all(reply.json().get(k) == meeting[k] for k in meeting)
        checks.expect(ok, f"POST /v1/meetings {meeting['title']!r} in {meeting['room_id']}: 201 echoing it "
                          f"({reply.describe()[:160]})")
        if reply.status == 201:
            got = api.get(f"/v1/meetings/{reply.json()['id']}")
            checks.expect(got.status == 200 and got.json()["start"] == meeting["start"],
                          f"GET /v1/meetings/{reply.json()['id']}: 200, same start")


def participants_of(api, room):
    reply = api.get(f"/v1/conferences/{room}/participants")
    return reply.json()["items"] if reply.status == 200 else []


def kick_call(api, sipp, server, outdir, checks):
    """sipp calls A and waits for a BYE; the test DELETEs its participant. The participant's id."""
    proc, folder = start_sipp(sipp, server, ROOM_A, "kicked_bye", ["-sf", "rest_kicked_bye.xml", "-m", "1"], outdir)
    found = h.poll_until(lambda: participants_of(api, ROOM_A) or proc.poll() is not None, 20,
                         f"a participant in {ROOM_A} (GET /v1/conferences/{ROOM_A}/participants)")
    if found is True:
        checks.expect(False, f"kicked_bye: sipp ended (code {proc.returncode}) before it was in the conference")
        return None
    participant = found[0]
    sent = call_ids_sent(folder)
    checks.expect(not sent or participant["call_id"] in sent,
                  f"the participant's call_id {participant['call_id']} is the one sipp sent {sorted(sent)}")
    conf = api.get(f"/v1/conferences/{ROOM_A}")
    checks.expect(conf.status == 200 and conf.json().get("participant_count") == 1,
                  f"GET /v1/conferences/{ROOM_A}: participant_count 1 ({conf.describe()[:160]})")
    reply = api.delete(f"/v1/conferences/{ROOM_A}/participants/{participant['id']}")
    checks.expect(reply.status == 204, f"DELETE /v1/conferences/{ROOM_A}/participants/{participant['id']}: 204 "
                                       f"({reply.describe()[:160]})")
    code = wait_sipp(proc, folder)
    checks.expect(code == 0, f"kicked_bye: sipp received the BYE and answered it (exit code {code})")
    gone = api.get(f"/v1/conferences/{ROOM_A}")
    checks.expect(gone.status == 404 and gone.is_problem(404),
                  f"GET /v1/conferences/{ROOM_A} after the removal: 404 problem ({gone.describe()[:120]})")
    return participant


def check_events(stream, calls, checks):
    """calls: [participant id or None] in call order; each must show joined then left, ids increasing."""
    def both_seen():
        events = stream.snapshot()
        left = [e for e in events if e.get("event") == "participant.left"]
        return len(left) >= len(calls)
    try:
        h.poll_until(both_seen, 15, f"{len(calls)} participant.left events on the stream")
    except h.Failure as e:
        checks.expect(False, f"{e}; events: {[ev.get('event') for ev in stream.snapshot()]}")
    events = stream.snapshot()
    ids = [int(e.get("id", "-1")) for e in events]
    checks.expect(ids == sorted(ids) and len(set(ids)) == len(ids),
                  f"SSE ids strictly increasing: {ids}")
    bodies = []
    for e in events:
        data = json.loads(e["data"])
        checks.expect(data.get("type") == e.get("event") and str(data.get("id")) == e.get("id"),
                      f"SSE event {e.get('id')} {e.get('event')}: data carries the same id and type")
        bodies.append(data)
    participant_events = [(b["type"], b["data"].get("participant_id"), b["data"].get("room_id"))
                          for b in bodies if b["type"] in ("participant.joined", "participant.left")]
    print(f"    participant events: {participant_events}")
    checks.expect(all(room == ROOM_A for _, _, room in participant_events),
                  f"participant events only for {ROOM_A} (the call to {ROOM_B} was refused)")
    expected = []
    for pid in calls:
        expected += [("participant.joined", pid), ("participant.left", pid)]
    got = [(t, p) for t, p, _ in participant_events]
    # The uac call's participant id is not known from the outside: match it by position.
    ok = len(got) == len(expected) and all(t == et and (ep is None or str(p) == str(ep))
                                           for (t, p), (et, ep) in zip(got, expected))
    pairs_ok = ok and all(got[i][1] == got[i + 1][1] for i in range(0, len(got), 2))
    checks.expect(pairs_ok, f"SSE: joined then left for each call in order, same participant id ({got})")
    checks.expect(stream.error is None, f"SSE reader ended without error ({stream.error})")


def check_webhooks(api, receiver, webhook, checks):
    def joined_and_left():
        types = [json.loads(body).get("type") for _, body in receiver.snapshot()]
        return types.count("participant.left") >= 2 and types.count("participant.joined") >= 2
    try:
        h.poll_until(joined_and_left, 30, "webhook deliveries of 2 participant.joined and 2 participant.left")
    except h.Failure as e:
        checks.expect(False, str(e))
    deliveries = receiver.snapshot()
    checks.expect(len(deliveries) > 0, f"the receiver got {len(deliveries)} webhook POSTs")
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    event_ids = []
    for headers, body in deliveries:
        event = json.loads(body)
        event_ids.append(event.get("id"))
        stamp = int(headers.get("webhook-timestamp", "0") or 0)
        checks.expect(rc.verify_webhook_signature(webhook["secret"], headers, body) and abs(now - stamp) < 300,
                      f"webhook {event.get('type')} (event {event.get('id')}, webhook-id {headers.get('webhook-id')})"
                      f": signature verifies, timestamp within 5 min")
    if deliveries:
        checks.expect(not rc.verify_webhook_signature("whsec_" + "QUJD" * 8, *deliveries[0]),
                      "a delivery does not verify with another secret")
    checks.expect(len({headers.get("webhook-id") for headers, _ in deliveries}) == len(deliveries),
                  "every delivery has its own webhook-id")

    def listed():
        items = api.list_all(f"/v1/webhooks/{webhook['id']}/deliveries")
        done = {item["event_id"]: item for item in items if item["status"] == "delivered"}
        return items if all(eid in done for eid in event_ids) else None
    try:
        items = h.poll_until(listed, 15, "GET /v1/webhooks/{id}/deliveries to list every received event delivered")
        by_event = {item["event_id"]: item for item in items}
        checks.expect(all(by_event[eid]["http_status"] == 204 and by_event[eid]["webhook_id"] == webhook["id"]
                          for eid in event_ids),
                      f"deliveries list each of the {len(event_ids)} received events: delivered, http_status 204")
    except h.Failure as e:
        checks.expect(False, f"{e}: {api.get('/v1/webhooks/' + webhook['id'] + '/deliveries').describe()[:600]}")


# ---------------------------------------------------------------------------------------------

def operations(document):
    """(method, path with params as "x", required scope) for each operation that needs a token."""
    out = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "x-required-scope" not in op:
                continue
            out.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path), op["x-required-scope"]))
    return out


def auth_sweep(api, server_port, keys, checks):
    document = api.expect(200, "GET", "/v1/openapi.json", token=None).json()
    ops = operations(document)
    checks.expect(len(ops) >= 20 and any(s == "admin" for *_, s in ops),
                  f"/v1/openapi.json lists {len(ops)} operations that need a token")
    anonymous = rc.RestClient(server_port, token=None)
    failures_401, failures_403 = [], []
    for method, path, scope in ops:
        body = {} if method in ("POST", "PATCH", "PUT") else None
        reply = anonymous.request(method, path, body)
        if not (reply.is_problem(401) and reply.header("www-authenticate").startswith("Bearer")):
            failures_401.append(f"{method} {path}: {reply.describe()[:160]}")
        # A key without the needed scope: for "admin" any key; otherwise one holding only another scope.
        other = "rooms:read" if scope != "rooms:read" else "meetings:write"
        reply = anonymous.request(method, path, body, token=keys[other])
        www = reply.header("www-authenticate")
        scope_named = scope == "admin" or ('error="insufficient_scope"' in www and f'scope="{scope}"' in www)
        if not (reply.is_problem(403) and scope_named):
            failures_403.append(f"{method} {path} ({scope}) with a {other} key: {reply.describe()[:160]} {www}")
    anonymous.close()
    checks.expect(not failures_401, f"{len(ops)} operations without a token: 401 problem+json with "
                                    f"WWW-Authenticate: Bearer {failures_401}")
    checks.expect(not failures_403, f"{len(ops)} operations with a key lacking the scope: 403 problem+json "
                                    f"(insufficient_scope naming the scope) {failures_403}")
    bad = api.request("GET", "/v1/rooms", token="chorus_" + "A" * 43)
    checks.expect(bad.is_problem(401) and 'error="invalid_token"' in bad.header("www-authenticate"),
                  f"an unknown key: 401 invalid_token ({bad.describe()[:120]})")
    # The keys do work where their scope allows.
    reads = api.request("GET", "/v1/rooms", token=keys["rooms:read"])
    checks.expect(reads.status == 200, f"GET /v1/rooms with a rooms:read key: 200 ({reads.describe()[:100]})")


def raw_exchange(port, head, body_chunks):
    """Send head, then the body chunks from another thread, and read the response (status, headers, body)
    until the server closes or the body is complete."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(head)

    def send_body():
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server may stop reading once it has answered
    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    data = b""
    try:
        for _ in range(100000):
            part = sock.recv(65536)
            if not part:
                break
            data += part
            head_end = data.find(b"\r\n\r\n")
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", data[:head_end], re.I) if head_end >= 0 else None
            if m and len(data) >= head_end + 4 + int(m.group(1)):
                break
    except OSError:
        pass
    sock.close()
    sender.join(timeout=10)
    head_end = data.find(b"\r\n\r\n")
    lines = data[:head_end].decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else None
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return rc.Reply(status, headers, data[head_end + 4:] if head_end >= 0 else b"")


def body_checks(api, port, token, checks):
    rooms_before = sorted(room["id"] for room in api.list_all("/v1/rooms"))
    for body in (b'{"name": "unterminated', b'{"name": "x",}', b"not json at all"):
        reply = api.request("POST", "/v1/rooms", body)
        checks.expect(reply.is_problem(400), f"POST /v1/rooms {body!r}: 400 problem+json ({reply.describe()[:140]})")
    chunk = b"x" * 65536
    head = (f"POST /v1/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {BIG_BODY}\r\n\r\n").encode()
    reply = raw_exchange(port, head, [chunk] * (BIG_BODY // len(chunk)))
    checks.expect(reply.is_problem(413), f"POST /v1/rooms with a 2 MiB body (Content-Length): 413 problem+json "
                                         f"({reply.describe()[:140]})")
    head = (f"POST /v1/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunks = [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * (BIG_BODY // len(chunk)) + [b"0\r\n\r\n"]
    reply = raw_exchange(port, head, chunks)
    checks.expect(reply.is_problem(413), f"POST /v1/rooms with a 2 MiB chunked body: 413 problem+json "
                                         f"({reply.describe()[:140]})")
    after = sorted(room["id"] for room in api.list_all("/v1/rooms"))
    checks.expect(after == rooms_before, f"no room was created by the refused bodies: {after}")


# ---------------------------------------------------------------------------------------------

def body(args):
    sipp = h.require_binary("sipp", "sip-tester")
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    h.poll_until(lambda: os.path.exists(os.path.join(server.data_dir, "admin-token")), 10, "the admin token file")
    admin_token = rc.read_admin_token(server.data_dir)
    api = rc.RestClient(server.http_port, admin_token)
    receiver = rc.WebhookReceiver()
    stream = None
    try:
        keys = {}
        for scope in SCOPES:
            reply = api.expect(201, "POST", "/v1/api-keys", {"name": f"only {scope}", "scopes": [scope]})
            keys[scope] = reply.json()["token"]
        hook = api.expect(201, "POST", "/v1/webhooks", {"url": receiver.url, "event_types": ["*"]}).json()
        checks.expect(hook.get("secret", "").startswith("whsec_"), "POST /v1/webhooks returns a whsec_ secret")
        listed = api.expect(200, "GET", f"/v1/webhooks/{hook['id']}").json()
        checks.expect("secret" not in listed, "GET /v1/webhooks/{id} does not show the secret again")

        print("--- rooms and meetings", flush=True)
        create_rooms_and_meetings(api, checks)

        stream = rc.EventStream(server.http_port, admin_token)
        checks.expect(stream.ok, f"GET /v1/events: 200 text/event-stream ({stream.status_line} {stream.headers})")

        print(f"--- sipp uac to {ROOM_A} (meeting open now)", flush=True)
        code = run_sipp(sipp, server, ROOM_A, "uac_open", ["-sn", "uac", "-m", "1"], args.output_dir)
        checks.expect(code == 0, f"sipp uac to {ROOM_A}: answered, ACKed, BYEd (exit code {code})")

        print(f"--- sipp to {ROOM_B} (meeting in 2 days)", flush=True)
        code = run_sipp(sipp, server, ROOM_B, "rejected_480", ["-sf", "rest_rejected_480.xml", "-m", "1"],
                        args.output_dir)
        checks.expect(code == 0, f"sipp to {ROOM_B}: 480 with a Warning, ACKed (exit code {code})")

        print(f"--- sipp to {ROOM_A}, removed with DELETE", flush=True)
        kicked = kick_call(api, sipp, server, args.output_dir, checks)

        print("--- events and webhooks", flush=True)
        check_events(stream, [None, int(kicked["id"]) if kicked else -1], checks)
        check_webhooks(api, receiver, hook, checks)

        print("--- auth sweep", flush=True)
        auth_sweep(api, server.http_port, keys, checks)

        print("--- bad bodies", flush=True)
        body_checks(api, server.http_port, admin_token, checks)

        h.expect_quiescent(server, checks)
    except AssertionError as e:
        checks.expect(False, str(e))
    finally:
        if stream is not None:
            stream.close()
        api.close()
        receiver.stop()
        h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    return h.run(TEST, body, description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
