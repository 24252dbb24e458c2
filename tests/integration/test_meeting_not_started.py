#!/usr/bin/env python3
"""A room whose only meeting starts in two days, called from a small Python SIP UAC over UDP.

- Spoken refusal (RFC 3960 §3 early media, RFC 3261 §13.3.1.1): an INVITE offering PCMU, whose SDP points
  at the test's own UDP socket, gets 183 Session Progress with a To tag, a Contact and an SDP answer;
  the "meeting not started" prompt arrives there as RTP (payload type 0, ≥ 50 packets, i.e. ≥ 1 s)
  before the final 480 with `Warning: 399 ...` in the same dialog (same To tag). The 480 is ACKed in
  its transaction (§17.1.1.3) and is not re-sent afterwards. While early the caller is not a
  participant (GET /v1/conferences/{id}/participants lists nobody).
- Without an offer: 480 with the Warning at once, no 183.
- CANCEL while early (§9.2): 200 to the CANCEL, 487 to the INVITE (same To tag), ACKed.
- Afterwards chorusd is quiescent (no transactions, dialogs or media ports: the early calls' ports
  went back to the pool).
"""

import datetime
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

TEST = "test_meeting_not_started"
ROOM = "not-started-room"
MIN_PROMPT_PACKETS = 50  # 20 ms PCMU packets: at least a second of the prompt
PROMPT_TIMEOUT_S = 30.0  # the prompt is a few seconds; chorusd's own early bound is 30 s


def rfc3339(at):
    return at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RtpCounter:
    """Counts RTP packets arriving at a UDP socket, on a thread, with the time of each."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.arrivals = []  # (monotonic time, payload type, source port, payload)
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                data, source = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) >= 12 and data[0] >> 6 == 2 and not 72 <= (data[1] & 0x7F) <= 76:  # RTP, not RTCP
                with self.lock:
                    self.arrivals.append((time.monotonic(), data[1] & 0x7F, source[1], data[12:]))

    def before(self, when):
        with self.lock:
            return [a for a in self.arrivals if a[0] <= when]

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.sock.close()


def invite_request(peer, server, offer, call_id, branch):
    via = f"SIP/2.0/UDP {peer.host}:{peer.port};branch={branch};rport"
    return h.build_request("INVITE", f"sip:{ROOM}@127.0.0.1:{server.sip_port}", via=via,
                           from_=f"<sip:tester@{peer.host}:{peer.port}>;tag={h.new_token()}",
                           to=f"<sip:{ROOM}@127.0.0.1:{server.sip_port}>", call_id=call_id, cseq=1,
                           contact=f"<sip:tester@{peer.host}:{peer.port}>", body=offer)


def read_until(peer, call_id, timeout_s, done):
    """Messages of `call_id` until done(msg) is true; (that message or None, time it came, all seen)."""
    deadline = h.Deadline(timeout_s)
    seen = []
    for _ in range(2000):
        msg = peer.recv(deadline.remaining())
        if msg is None:
            return None, None, seen
        if msg.call_id != call_id:
            continue
        seen.append(msg)
        if done(msg):
            return msg, time.monotonic(), seen
        if deadline.expired():
            break
    return None, None, seen


def codes(seen):
    return [m.code if m.is_response else m.method for m in seen]


def spoken_refusal(api, server, checks):
    peer = h.UdpPeer()
    rtp = RtpCounter()
    try:
        call_id = h.new_token("early-") + "@127.0.0.1"
        invite = invite_request(peer, server, h.sdp_offer("127.0.0.1", rtp.port), call_id, h.new_branch())
        peer.send(invite, ("127.0.0.1", server.sip_port))
        progress, progress_at, seen = read_until(peer, call_id, 10, lambda m: m.is_response and m.code >= 180)
        checks.expect(progress is not None and progress.code == 183,
                      f"INVITE with an offer: 183 Session Progress first (saw {codes(seen)})")
        if progress is None or progress.code != 183:
            return
        tag = re.search(r";\s*tag=([^;\s>]+)", progress.get("to") or "")
        checks.expect(tag is not None, f"183 has a To tag ({progress.get('to')})")
        checks.expect(progress.contact_uri() is not None, "183 has a Contact")
        answer_port = h.sdp_audio_port(progress.body)
        checks.expect((progress.get("content-type") or "").startswith("application/sdp") and answer_port,
                      f"183 carries an SDP answer with an audio port ({progress.body[:200]!r})")
        checks.expect(b"RTP/AVP 0" in progress.body, "the answer keeps PCMU (payload type 0)")
        checks.expect(not progress.get("require") and not progress.get("rseq"), "183 is unreliable (no 100rel)")

        listed = api.get(f"/v1/conferences/{ROOM}/participants")
        items = listed.json().get("items", []) if listed.status == 200 else []
        checks.expect(listed.status in (200, 404) and not items,
                      f"while early, nobody is a participant of {ROOM} ({listed.status} {items})")

        final, final_at, seen = read_until(peer, call_id, PROMPT_TIMEOUT_S, lambda m: m.is_response and m.code >= 200)
        checks.expect(final is not None and final.code == 480,
                      f"after the prompt: 480 (saw {codes(seen)}, final {final.summary() if final else None})")
        if final is None:
            return
        warning = final.get("warning") or ""
        checks.expect(warning.startswith("399 ") and "not started" in warning,
                      f"480 carries Warning: 399 ... not started ({warning!r})")
        checks.expect(tag is not None and f"tag={tag.group(1)}" in (final.get("to") or ""),
                      "the 480 belongs to the early dialog (same To tag as the 183)")
        packets = rtp.before(final_at)
        early = [p for p in packets if p[0] >= progress_at - 0.05]
        checks.expect(len(early) >= MIN_PROMPT_PACKETS,
                      f"RTP arrived between the 183 and the 480: {len(early)} packets "
                      f"(≥ {MIN_PROMPT_PACKETS}; {final_at - progress_at:.1f} s of early media)")
        checks.expect(early and all(p[1] == 0 for p in early),
                      f"the early RTP is PCMU (payload types {sorted({p[1] for p in early})})")
        # G.711 µ-law silence is 0xFF/0x7F (±0) and their neighbours; speech swings far from them.
        spoken = [p for p in early if sum(1 for b in p[3] if (b & 0x7F) < 0x70) > len(p[3]) // 4]
        checks.expect(len(spoken) >= MIN_PROMPT_PACKETS // 2,
                      f"the early RTP carries sound, not silence ({len(spoken)} of {len(early)} packets loud)")
        checks.expect(early and {p[2] for p in early} == {answer_port},
                      f"the RTP comes from the port in the 183's answer ({sorted({p[2] for p in early})} vs "
                      f"{answer_port})")

        peer.send(h.ack_for_failure(h.parse_sip(invite), final), ("127.0.0.1", server.sip_port))
        # Timer G re-sends the 480 every T1 (100 ms here) until the ACK; after it, silence.
        time.sleep(0.3)
        while peer.recv(0.05) is not None:
            pass
        again, _, _ = read_until(peer, call_id, 1.0, lambda m: m.is_response)
        checks.expect(again is None, f"no 480 after the ACK ({again.summary() if again else ''})")
        count = len(rtp.arrivals)
        time.sleep(1.0)
        checks.expect(len(rtp.arrivals) - count <= 2,
                      f"media stops with the 480 ({len(rtp.arrivals) - count} packets in the second after)")
    finally:
        rtp.stop()
        peer.close()


def no_offer(server, checks):
    peer = h.UdpPeer()
    try:
        call_id = h.new_token("nooffer-") + "@127.0.0.1"
        invite = invite_request(peer, server, b"", call_id, h.new_branch())
        peer.send(invite, ("127.0.0.1", server.sip_port))
        final, _, seen = read_until(peer, call_id, 10, lambda m: m.is_response and m.code >= 200)
        checks.expect(final is not None and final.code == 480 and (final.get("warning") or "").startswith("399 "),
                      f"INVITE without an offer: 480 with a Warning at once (saw {codes(seen)})")
        checks.expect(183 not in codes(seen), "no early media without an offer")
        if final is not None:
            peer.send(h.ack_for_failure(h.parse_sip(invite), final), ("127.0.0.1", server.sip_port))
    finally:
        peer.close()


def cancel_while_early(server, checks):
    peer = h.UdpPeer()
    rtp = RtpCounter()
    try:
        call_id = h.new_token("cancel-") + "@127.0.0.1"
        branch = h.new_branch()
        invite = invite_request(peer, server, h.sdp_offer("127.0.0.1", rtp.port), call_id, branch)
        peer.send(invite, ("127.0.0.1", server.sip_port))
        progress, _, seen = read_until(peer, call_id, 10, lambda m: m.is_response and m.code >= 180)
        checks.expect(progress is not None and progress.code == 183, f"183 before the CANCEL (saw {codes(seen)})")
        if progress is None:
            return
        parsed = h.parse_sip(invite)
        cancel = h.build_request("CANCEL", parsed.request_uri, via=parsed.top_via(), from_=parsed.get("from"),
                                 to=parsed.get("to"), call_id=call_id, cseq=1)
        peer.send(cancel, ("127.0.0.1", server.sip_port))
        got = {}
        deadline = h.Deadline(10)
        while not deadline.expired() and not ({"CANCEL", "INVITE"} <= got.keys()):
            msg = peer.recv(deadline.remaining())
            if msg is None:
                break
            if msg.call_id == call_id and msg.is_response and msg.code >= 200 and msg.cseq:
                got[msg.cseq[1]] = msg
        checks.expect("CANCEL" in got and got["CANCEL"].code == 200, "CANCEL while early: 200")
        checks.expect("INVITE" in got and got["INVITE"].code == 487,
                      f"CANCEL while early: the INVITE gets 487 ({got['INVITE'].summary() if 'INVITE' in got else None})")
        if "INVITE" in got:
            peer.send(h.ack_for_failure(parsed, got["INVITE"]), ("127.0.0.1", server.sip_port))
    finally:
        rtp.stop()
        peer.close()


def body(args):
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    h.poll_until(lambda: os.path.exists(os.path.join(server.data_dir, "admin-token")), 10, "the admin token file")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    try:
        if not any("prompts loaded" in line for line in server.log_lines()):
            raise h.Skip("chorusd loaded no prompts (espeak-ng missing at build time?): nothing to speak")
        api.expect(201, "POST", "/v1/rooms", {"id": ROOM, "name": "meeting not started"})
        now = datetime.datetime.now(datetime.timezone.utc)
        api.expect(201, "POST", "/v1/meetings",
                   {"room_id": ROOM, "title": "in two days", "start": rfc3339(now + datetime.timedelta(days=2)),
                    "end": rfc3339(now + datetime.timedelta(days=2, hours=1))})

        print("--- INVITE with PCMU: 183, prompt as RTP, 480", flush=True)
        spoken_refusal(api, server, checks)
        print("--- INVITE without an offer: 480 at once", flush=True)
        no_offer(server, checks)
        print("--- CANCEL while early: 487", flush=True)
        cancel_while_early(server, checks)

        h.expect_quiescent(server, checks)
    finally:
        api.close()
        h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    return h.run(TEST, body, description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
