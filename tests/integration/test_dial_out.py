#!/usr/bin/env python3
"""Dial-out through the REST API against a running chorusd, with sipp as the callee (UAS).

- Answered: sipp/dial_out_answer.xml listens on a free loopback port. POST
  /v1/conferences/1000/participants {"to": "sip:alice@127.0.0.1:PORT"} answers 202 {"id", "to",
  "state": "dialing"}; sipp receives chorusd's INVITE (with an SDP offer), answers 180 then 200 with
  PCMU, and must receive the ACK. The participant is then listed by GET /v1/conferences/1000/participants
  with the id the 202 gave and the target as caller_id, and GET /v1/events (SSE, opened before) shows
  participant.joined for it. DELETE of the participant: sipp must receive chorusd's BYE and answer 200
  (sipp exits 0 only when every step of its scenario happened), and participant.left follows.
- Busy: sipp/dial_out_busy.xml answers 486 and must receive the ACK (RFC 3261 §17.1.1.3); the event
  stream shows participant.dial_failed with status 486 and the target, and nobody joined.
- Refusals: a tel: target and a missing `to` are 422 problem+json naming /to; an unknown room is 404.
- Afterwards chorusd is quiescent (no transactions, dialogs or media ports) once Timer D (32 s) has
  ended the 486's INVITE client transaction.
"""

import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

TEST = "test_dial_out"
SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")
ROOM = "1000"
SIPP_TIMEOUT_S = 60


def start_callee(sipp, scenario, name, outdir):
    """sipp as a UAS on a free loopback port, for one call. (process, folder, port)"""
    folder = os.path.join(outdir, name)
    os.makedirs(folder, exist_ok=True)
    port = h.free_port()
    media_lo, _ = h.free_port_range(4)
    cmd = [sipp, "-sf", os.path.join(SCENARIO_DIR, scenario), "-i", "127.0.0.1", "-p", str(port),
           "-mi", "127.0.0.1", "-mp", str(media_lo), "-m", "1", "-nostdin",
           "-timeout", f"{SIPP_TIMEOUT_S}s", "-timeout_error",
           "-trace_err", "-error_file", os.path.join(folder, "errors.log"),
           "-trace_msg", "-message_file", os.path.join(folder, "messages.log")]
    with open(os.path.join(folder, "command.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    proc = h.spawn(cmd, os.path.join(folder, "screen.log"), cwd=folder)
    # sipp binds its port before it reads the scenario's first recv; wait until the port is taken.
    h.poll_until(lambda: not h._can_bind(port, socket.SOCK_DGRAM) or proc.poll() is not None, 10, f"sipp on udp port {port}")
    return proc, folder, port


def wait_callee(proc, folder):
    try:
        code = proc.wait(timeout=SIPP_TIMEOUT_S + 30)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: stop it by PID and report
        h.stop_process(proc)
        code = "killed (did not end within its -timeout + 30 s)"
    if code != 0:
        for log in ("errors.log", "screen.log", "messages.log"):
            path = os.path.join(folder, log)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    print(f"    {log}:\n" + f.read().decode("utf-8", "replace")[-2500:])
    return code


def events_of(stream, kind):
    out = []
    for e in stream.snapshot():
        if e.get("event") == kind:
            try:
                out.append(json.loads(e["data"])["data"])
            except (ValueError, KeyError):
                pass
    return out


def participants(api):
    reply = api.get(f"/v1/conferences/{ROOM}/participants")
    return reply.json()["items"] if reply.status == 200 else []


def answered_call(api, sipp, stream, outdir, checks):
    proc, folder, port = start_callee(sipp, "dial_out_answer.xml", "answered", outdir)
    target = f"sip:alice@127.0.0.1:{port}"
    reply = api.post(f"/v1/conferences/{ROOM}/participants", {"to": target, "display_name": "Alice"})
    checks.expect(reply.status == 202, f"POST dial-out to {target}: 202 ({reply.describe()[:200]})")
    if reply.status != 202:
        h.stop_process(proc)
        return
    started = reply.json()
    checks.expect(started.get("state") == "dialing" and started.get("to") == target,
                  f"202 body has state dialing and the target ({started})")
    pid = started["id"]
    found = h.poll_until(lambda: [p for p in participants(api) if p["id"] == pid] or proc.poll() is not None, 20,
                         f"participant {pid} in GET /v1/conferences/{ROOM}/participants")
    if found is True:
        checks.expect(False, f"sipp ended (code {proc.returncode}) before the participant was listed")
        wait_callee(proc, folder)
        return
    checks.expect(found[0]["caller_id"] == target and found[0]["display_name"] == "Alice",
                  f"the listed participant is the callee ({found[0]})")
    try:
        h.poll_until(lambda: any(str(e.get("participant_id")) == pid for e in events_of(stream, "participant.joined")),
                     10, f"participant.joined for {pid} on the event stream")
        checks.expect(True, f"participant.joined for {pid} on GET /v1/events")
    except h.Failure as e:
        checks.expect(False, str(e))
    reply = api.delete(f"/v1/conferences/{ROOM}/participants/{pid}")
    checks.expect(reply.status == 204, f"DELETE participant {pid}: 204 ({reply.describe()[:160]})")
    code = wait_callee(proc, folder)
    checks.expect(code == 0, f"sipp got INVITE, ACK for its 200 and the BYE, and answered it (exit code {code})")
    try:
        h.poll_until(lambda: any(str(e.get("participant_id")) == pid for e in events_of(stream, "participant.left")),
                     10, f"participant.left for {pid}")
        checks.expect(True, f"participant.left for {pid} on GET /v1/events")
    except h.Failure as e:
        checks.expect(False, str(e))


def busy_call(api, sipp, stream, outdir, checks):
    proc, folder, port = start_callee(sipp, "dial_out_busy.xml", "busy", outdir)
    target = f"sip:bob@127.0.0.1:{port}"
    reply = api.post(f"/v1/conferences/{ROOM}/participants", {"to": target})
    checks.expect(reply.status == 202, f"POST dial-out to {target}: 202 ({reply.describe()[:200]})")
    code = wait_callee(proc, folder)
    checks.expect(code == 0, f"sipp answered 486 and got the ACK (exit code {code})")
    try:
        failed = h.poll_until(lambda: [e for e in events_of(stream, "participant.dial_failed") if e.get("to") == target],
                              10, f"participant.dial_failed for {target}")
        checks.expect(failed[0].get("status") == 486, f"participant.dial_failed carries status 486 ({failed[0]})")
    except h.Failure as e:
        checks.expect(False, str(e))
    joined = [e for e in events_of(stream, "participant.joined") if e.get("caller_id") == target]
    checks.expect(not joined, "no participant.joined for the busy callee")


def refusals(api, checks):
    for body, what in (({"to": "tel:+15551234"}, "a tel: URI"), ({}, "no to")):
        reply = api.post(f"/v1/conferences/{ROOM}/participants", body)
        fields = [e.get("field") for e in reply.json().get("errors", [])] if reply.is_problem(422) else []
        checks.expect(reply.is_problem(422) and "/to" in fields, f"{what}: 422 problem naming /to ({reply.describe()[:200]})")
    reply = api.post("/v1/conferences/no-such-room/participants", {"to": "sip:alice@127.0.0.1:5999"})
    checks.expect(reply.is_problem(404), f"unknown room: 404 problem ({reply.describe()[:160]})")


def body(args):
    sipp = h.require_binary("sipp", "sip-tester")
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    h.poll_until(lambda: os.path.exists(os.path.join(server.data_dir, "admin-token")), 10, "the admin token file")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    stream = None
    try:
        stream = rc.EventStream(server.http_port, api.token)
        checks.expect(stream.ok, f"GET /v1/events: 200 text/event-stream ({stream.status_line})")
        print("--- dial-out answered, then removed with DELETE", flush=True)
        answered_call(api, sipp, stream, args.output_dir, checks)
        print("--- dial-out to a busy callee", flush=True)
        busy_call(api, sipp, stream, args.output_dir, checks)
        print("--- refusals", flush=True)
        refusals(api, checks)
        try:
            # RFC 3261 §17.1.1.2: the INVITE client transaction that got the 486 over UDP stays in
            # Completed for Timer D (32 s, whatever T1) to ACK retransmitted 486s.
            h.poll_until(lambda: server.status().get("client_transactions") == 0, 45,
                         "Timer D to end the 486's INVITE client transaction", interval_s=0.5)
        except h.Failure as e:
            checks.expect(False, str(e))
        h.expect_quiescent(server, checks)
    finally:
        if stream is not None:
            stream.close()
        api.close()
        h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    return h.run(TEST, body, description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
