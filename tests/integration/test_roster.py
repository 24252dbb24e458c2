#!/usr/bin/env python3
"""The roster for SIP endpoints: RFC 4575 conference event package over RFC 6665 SUBSCRIBE/NOTIFY.

- A subscriber on a raw UDP socket from 127.0.0.1 (a trusted source, --sip-trusted-sources) sends
  SUBSCRIBE sip:1000@127.0.0.1:PORT (Event: conference, Expires: 600): 200 with Expires 600, then a
  NOTIFY with the full state (Subscription-State active, version 1, nobody in the room).
- Refusals: from 127.0.0.2 (neither a participant nor trusted) 403; Event: presence 489 with
  Allow-Events; Expires: 10 423 with Min-Expires; an unknown room 404.
- baresip (a real SIP UA) dials room 1000: the subscriber gets a partial NOTIFY (state="partial",
  version one more) with baresip's user (state="full", its From URI as entity) and user-count 1.
- A participant may subscribe: a raw caller on 127.0.0.3 joins room 1000 with an INVITE, then
  SUBSCRIBEs out of any dialog with the From URI of its call from the same address: 200, and a full
  NOTIFY listing itself. It unsubscribes (Expires: 0): 200 and a NOTIFY terminated;reason=timeout.
  It subscribes again inside its call's dialog: 200 in that dialog and a NOTIFY with the call's
  Call-ID; its BYE ends the call and that subscription with it.
- baresip hangs up: the first subscriber gets a partial NOTIFY with baresip's user state="deleted".
- The first subscriber unsubscribes too (200, a NOTIFY terminated;reason=timeout).
- A last subscriber is open when chorusd gets SIGTERM: the drain ends it with a NOTIFY
  terminated;reason=deactivated (RFC 6665 §4.2.2: re-subscribe at once) and chorusd exits 0.
Every NOTIFY body is validated with `xmllint --schema` against data/conference-info.xsd, written
from RFC 4575 §5, and every NOTIFY is answered 200.
"""

import os
import queue
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
from baresip_agent import BaresipAgent  # noqa: E402

TEST = "test_roster"
NS = {"ci": "urn:ietf:params:xml:ns:conference-info"}
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "conference-info.xsd")
WAIT_S = 15.0
ROOM = "1000"


class Subscriber:
    """One RFC 6665 subscriber on a UDP socket. A thread reads the socket, answers every NOTIFY 200
    at once (chorusd's NOTIFY transaction times out after 64*T1, which a test step may outlast) and
    keeps them in order; responses to our SUBSCRIBEs go to a queue."""

    def __init__(self, server, host, user, name):
        self.peer = h.UdpPeer(host=host)
        self.server_addr = ("127.0.0.1", server.sip_port)
        self.uri = f"sip:{ROOM}@127.0.0.1:{server.sip_port}"
        self.user = user
        self.from_uri = f"sip:{user}@127.0.0.1"
        self.call_id = h.new_token("roster-")
        self.from_tag = h.new_token()
        self.to_tag = None
        self.contact_of_server = None
        self.cseq = 0
        self.name = name
        self.notifies = []
        self.responses = queue.Queue()
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        while self.running:
            msg = self.peer.recv(0.1)
            if msg is None:
                continue
            if msg.is_response:
                self.responses.put(msg)
            elif msg.method == "NOTIFY":
                self._answer(msg)

    def _answer(self, msg):
        response = ["SIP/2.0 200 OK"] + [f"Via: {v}" for v in msg.all("via")] + \
            [f"{n}: {msg.get(n)}" for n in ("from", "to", "call-id", "cseq")] + ["Content-Length: 0"]
        self.peer.send(("\r\n".join(response) + "\r\n\r\n").encode(), self.server_addr)
        with self.lock:
            if all(n.get("cseq") != msg.get("cseq") for n in self.notifies):  # a retransmission counts once
                self.notifies.append(msg)

    def subscribe(self, expires, event="conference", uri=None, call_id=None):
        """Sends a SUBSCRIBE (in the dialog once it has one) and returns its final response."""
        self.cseq += 1
        call_id = call_id or self.call_id
        in_dialog = self.to_tag is not None and uri is None and call_id == self.call_id
        to = f"<{self.uri}>" + (f";tag={self.to_tag}" if in_dialog else "")
        request = h.build_request(
            "SUBSCRIBE", self.contact_of_server if in_dialog else (uri or self.uri),
            via=f"SIP/2.0/UDP {self.peer.host}:{self.peer.port};branch={h.new_branch()};rport",
            from_=f"<{self.from_uri}>;tag={self.from_tag}", to=to, call_id=call_id, cseq=self.cseq,
            contact=f"<sip:{self.user}@{self.peer.host}:{self.peer.port}>",
            extra=[("Event", event), ("Expires", str(expires)), ("Accept", "application/conference-info+xml")])
        self.peer.send(request, self.server_addr)
        deadline = h.Deadline(WAIT_S)
        final = None
        while final is None and not deadline.expired():
            try:
                msg = self.responses.get(timeout=max(0.01, deadline.remaining()))
            except queue.Empty:
                break
            if msg.call_id == call_id and msg.code is not None and msg.code >= 200:
                final = msg
        if final is not None and final.code == 200 and call_id == self.call_id and self.to_tag is None:
            self.to_tag = final.get("to").split("tag=")[1].split(";")[0]
            self.contact_of_server = final.contact_uri()
        return final

    def final_for(self, call_id, method):
        """The final response to our request `method` in call_id, from the queue (None after WAIT_S)."""
        deadline = h.Deadline(WAIT_S)
        while not deadline.expired():
            try:
                msg = self.responses.get(timeout=max(0.01, deadline.remaining()))
            except queue.Empty:
                return None
            if msg.call_id == call_id and msg.code is not None and msg.code >= 200 and msg.cseq[1] == method:
                return msg
        return None

    def wait_notify(self, predicate, what):
        """The first NOTIFY (already received or arriving within WAIT_S) for which predicate holds."""
        def found():
            with self.lock:
                return next((n for n in self.notifies if predicate(n)), None)
        try:
            return h.poll_until(found, WAIT_S, f"{self.name}: a NOTIFY {what}", 0.05)
        except h.Failure:
            raise h.Failure(f"{self.name}: no NOTIFY {what} within {WAIT_S:.0f} s "
                            f"(got {[n.get('subscription-state') for n in self.notifies]})") from None

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.peer.close()


def document(notify):
    return ET.fromstring(notify.body) if notify.body else None


def users_of(root):
    return {u.get("entity"): u for u in root.findall("ci:users/ci:user", NS)}


def user_count(root):
    value = root.findtext("ci:conference-state/ci:user-count", None, NS)
    return int(value) if value is not None else None


def validate_all(subscribers, outdir, checks):
    """xmllint --schema on every NOTIFY body the subscribers received."""
    count = 0
    for sub in subscribers:
        for i, notify in enumerate(sub.notifies):
            if not notify.body:
                continue
            path = os.path.join(outdir, f"{sub.name}-notify-{i + 1}.xml")
            with open(path, "wb") as f:
                f.write(notify.body)
            run = subprocess.run(["xmllint", "--noout", "--schema", SCHEMA, path], capture_output=True, text=True,
                                 timeout=30)
            checks.expect(run.returncode == 0, f"{os.path.basename(path)} validates against RFC 4575 §5's schema"
                          + ("" if run.returncode == 0 else f": {run.stderr.strip()[-500:]}"))
            count += 1
    checks.expect(count >= 4, f"{count} NOTIFY bodies were validated")


def refusals(server, outdir, checks):
    print("--- refusals: not a participant 403, another event 489, too brief 423, unknown room 404", flush=True)
    stranger = Subscriber(server, "127.0.0.2", "stranger", "stranger")
    final = stranger.subscribe(600)
    checks.expect(final is not None and final.code == 403, f"a stranger from 127.0.0.2 gets 403 ({final and final.summary()})")
    watcher = Subscriber(server, "127.0.0.1", "probe", "probe")
    final = watcher.subscribe(600, event="presence")
    checks.expect(final is not None and final.code == 489 and final.get("allow-events") == "conference",
                  f"Event: presence gets 489 with Allow-Events: conference ({final and final.summary()})")
    final = watcher.subscribe(10, call_id=h.new_token("roster-"))
    checks.expect(final is not None and final.code == 423 and final.get("min-expires") == "60",
                  f"Expires: 10 gets 423 with Min-Expires: 60 ({final and final.summary()})")
    final = watcher.subscribe(600, uri=f"sip:no-such-room@127.0.0.1:{server.sip_port}", call_id=h.new_token("r-"))
    checks.expect(final is not None and final.code == 404, f"an unknown room gets 404 ({final and final.summary()})")
    for sub in (stranger, watcher):
        sub.close()


def participant_subscribes(server, outdir, checks):
    print("--- a participant (a raw caller on 127.0.0.3) subscribes with its call's From URI", flush=True)
    caller = Subscriber(server, "127.0.0.3", "carol", "participant")
    call_id = h.new_token("call-")
    invite = h.build_request(
        "INVITE", caller.uri, via=f"SIP/2.0/UDP 127.0.0.3:{caller.peer.port};branch={h.new_branch()};rport",
        from_=f'"Carol <&> Co" <{caller.from_uri}>;tag={h.new_token()}', to=f"<{caller.uri}>", call_id=call_id,
        cseq=1, contact=f"<sip:carol@127.0.0.3:{caller.peer.port}>", body=h.sdp_offer("127.0.0.3", h.free_port()))
    caller.peer.send(invite, caller.server_addr)
    ok = caller.final_for(call_id, "INVITE")
    if ok is None or ok.code != 200:
        raise h.Failure(f"the participant's INVITE was not answered 200 ({ok and ok.summary()})")
    caller.peer.send(h.in_dialog_request("ACK", ok, caller.peer, 1), caller.server_addr)
    final = caller.subscribe(600)
    checks.expect(final is not None and final.code == 200, f"the participant's SUBSCRIBE gets 200 ({final and final.summary()})")
    full = caller.wait_notify(lambda n: n.body and document(n).get("state") == "full", "with the full state")
    entities = users_of(document(full))
    carol = entities.get("sip:carol@127.0.0.1")
    checks.expect(carol is not None, f"the participant is listed by its From URI ({list(entities)})")
    if carol is not None:
        checks.expect(carol.findtext("ci:display-text", None, NS) == "Carol <&> Co",
                      "its display name arrives intact through XML escaping")
    final = caller.subscribe(0)
    checks.expect(final is not None and final.code == 200, "its unsubscribe (Expires: 0) gets 200")
    last = caller.wait_notify(lambda n: (n.get("subscription-state") or "").startswith("terminated"), "terminated")
    checks.expect(last.get("subscription-state") == "terminated;reason=timeout",
                  f"the final NOTIFY says terminated;reason=timeout ({last.get('subscription-state')})")
    print("--- the participant subscribes inside its call's dialog (RFC 6665 §4.5.2)", flush=True)
    caller.peer.send(h.in_dialog_request(
        "SUBSCRIBE", ok, caller.peer, 2,
        extra=[("Contact", f"<sip:carol@127.0.0.3:{caller.peer.port}>"), ("Event", "conference"),
               ("Expires", "600"), ("Accept", "application/conference-info+xml")]), caller.server_addr)
    in_call = caller.final_for(call_id, "SUBSCRIBE")
    checks.expect(in_call is not None and in_call.code == 200 and in_call.get("to") == ok.get("to"),
                  f"the SUBSCRIBE in the call's dialog gets 200 in that dialog ({in_call and in_call.summary()})")
    shared = caller.wait_notify(lambda n: n.call_id == call_id and n.body, "in the call's dialog")
    checks.expect(document(shared).get("state") == "full" and "sip:carol@127.0.0.1" in users_of(document(shared)),
                  "its NOTIFY comes in the call's dialog with the full state")
    caller.peer.send(h.in_dialog_request("BYE", ok, caller.peer, 3), caller.server_addr)
    bye = caller.final_for(call_id, "BYE")
    checks.expect(bye is not None and bye.code == 200, "the participant's BYE gets 200")
    return caller


def drain(server, checks):
    print("--- chorusd drains (SIGTERM) with a subscription open", flush=True)
    last = Subscriber(server, "127.0.0.1", "last", "last")
    final = last.subscribe(600)
    checks.expect(final is not None and final.code == 200, "a last subscription is accepted")
    last.wait_notify(lambda n: True, "with the state")
    server.proc.send_signal(15)
    ended = last.wait_notify(lambda n: (n.get("subscription-state") or "").startswith("terminated"), "terminated")
    checks.expect(ended.get("subscription-state") == "terminated;reason=deactivated",
                  f"the drain ends it with terminated;reason=deactivated ({ended.get('subscription-state')})")
    try:
        code = server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
    checks.expect(code == 0, f"chorusd exits 0 after the drain ({code})")
    last.close()


def body(args):
    baresip = h.require_binary("baresip", "baresip-core")
    h.require_binary("sox", "sox")
    h.require_binary("xmllint", "libxml2-utils")
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    watcher = Subscriber(server, "127.0.0.1", "watcher", "watcher")
    final = watcher.subscribe(600)
    if final is None or final.code != 200:
        raise h.Failure(f"the trusted subscriber's SUBSCRIBE was not answered 200 ({final and final.summary()})")
    checks.expect(final.get("expires") == "600", f"200 with Expires: 600 ({final.get('expires')})")
    first = watcher.wait_notify(lambda n: True, "at all")
    root = document(first)
    checks.expect(first.get("subscription-state") == "active;expires=600" or
                  (first.get("subscription-state") or "").startswith("active;expires=59"),
                  f"Subscription-State: active with the expiry ({first.get('subscription-state')})")
    checks.expect(first.get("content-type") == "application/conference-info+xml", "the body is conference-info+xml")
    checks.expect(root.get("state") == "full" and root.get("version") == "1" and user_count(root) == 0,
                  f"the first NOTIFY is the full state, version 1, nobody there ({root.attrib}, {user_count(root)})")
    refusals(server, args.output_dir, checks)

    print("--- baresip joins room 1000", flush=True)
    agent = BaresipAgent(baresip, os.path.join(args.output_dir, "baresip"), tone_hz=440).start()
    participant = None
    try:
        since = len(agent.control.events)
        agent.control.command("dial", f"sip:{ROOM}@127.0.0.1:{server.sip_port}")
        checks.expect(agent.control.wait_event("CALL_ESTABLISHED", WAIT_S, since) is not None, "baresip's call is up")
        baresip_uri = f"sip:tester@127.0.0.1:{agent.sip_port}"
        joined = watcher.wait_notify(lambda n: n.body and baresip_uri in users_of(document(n)), "listing baresip")
        root = document(joined)
        user = users_of(root)[baresip_uri]
        checks.expect(root.get("state") == "partial" and int(root.get("version")) >= 2,
                      f"baresip's join comes as partial state, version {root.get('version')}")
        checks.expect(user.get("state") == "full" and user_count(root) == 1,
                      f"baresip's user in full, user-count 1 ({user.attrib}, {user_count(root)})")
        participant = participant_subscribes(server, args.output_dir, checks)

        print("--- baresip hangs up", flush=True)
        since = len(agent.control.events)
        agent.control.command("hangup")
        agent.control.wait_event("CALL_CLOSED", WAIT_S, since)
        left = watcher.wait_notify(
            lambda n: n.body and (users_of(document(n)).get(baresip_uri) is not None and
                                  users_of(document(n))[baresip_uri].get("state") == "deleted"),
            "with baresip's user deleted")
        versions = [int(document(n).get("version")) for n in watcher.notifies if n.body]
        checks.expect(versions == list(range(1, len(versions) + 1)),
                      f"the watcher's documents are numbered 1, 2, 3, ... ({versions})")
        checks.expect(document(left).get("state") == "partial", "the leave is partial state")
    finally:
        agent.stop()
    final = watcher.subscribe(0)
    checks.expect(final is not None and final.code == 200, "the watcher's unsubscribe gets 200")
    watcher.wait_notify(lambda n: n.get("subscription-state") == "terminated;reason=timeout", "terminated")
    validate_all([watcher] + ([participant] if participant else []), args.output_dir, checks)
    for sub in [watcher] + ([participant] if participant else []):
        sub.close()
    subscribed = sum(1 for line in server.log_lines() if "msg=subscribed" in line)
    checks.expect(subscribed == 3, f"chorusd logged three subscriptions ({subscribed})")
    drain(server, checks)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
