#!/usr/bin/env python3
"""Media reflection, hijack and inactivity (issue 12), attacked from small Python SIP/RTP peers over UDP in
a loopback-only network namespace that also carries 192.0.2.10 (a "remote" caller's address).

- Refused offers (RFC 3261 §20.43): from the remote address, an SDP naming loopback, and from anyone one
  naming a link-local or multicast address, or 0.0.0.0 with sendrecv, gets 488 with `Warning: 305`.
  0.0.0.0 with a=sendonly (RFC 3264 §8.4 hold) is answered 200.
- Reflection: caller A's SDP names 127.0.0.9, where the test listens; A sends nothing. Not one packet
  reaches 127.0.0.9 during the whole test. Caller B's SDP names 127.0.0.7 (a NATed phone's private
  address, also listened on) but B sends from 127.0.0.1: chorusd latches to B, B hears caller C's tone,
  127.0.0.7 gets nothing. C's SDP is its signaling address (proven at once).
- Hijack: after the latch window a stranger on 127.0.0.5 sprays RTP (PCMU, random SSRCs) at every port
  of chorusd's RTP range. It gets no packet back, B keeps receiving the mix, and chorusd counts
  media_foreign_source_drops.
- Spoofed signaling: an INVITE over UDP from 127.0.0.1 whose SDP names a listener on 127.0.0.1 (the
  signaling source's own IP: what a forged source address looks like) and is never ACKed — a spoofer
  never sees our 200. Over UDP the signaling source is proven only by the ACK, so the listener gets
  nothing until chorusd gives up on the ACK and ends the call.
- Inactivity: A never sends; after --media-timeout chorusd ends A's call with BYE and counts
  media_timeouts. Then B and C hang up and chorusd is quiescent.
Without the defences 127.0.0.9 receives A's mix at once, the stranger latches A's silent session and the
spoofed call's listener gets the mix.
"""

import math
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_media_guard"
ROOM = "1000"  # the open room every empty store has (DESIGN §4)
REMOTE_IP = "192.0.2.10"  # TEST-NET-1 on the namespace's lo: a caller that is not loopback
VICTIM_IP = "127.0.0.9"
NAT_PRIVATE_IP = "127.0.0.7"
STRANGER_IP = "127.0.0.5"
MEDIA_TIMEOUT_S = 8
LATCH_WINDOW_MS = 1000
PCMU = 0


def ulaw(sample):
    """ITU-T G.711 µ-law of a 16-bit linear sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = 7
    for bit in range(7, -1, -1):
        if magnitude & (0x4000 >> (7 - bit)):
            exponent = bit
            break
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


TONE = bytes(ulaw(int(8000 * math.sin(2 * math.pi * 440 * n / 8000))) for n in range(160))


def is_rtp(data):
    return len(data) >= 12 and data[0] >> 6 == 2 and not 72 <= (data[1] & 0x7F) <= 76


class Listener:
    """Counts every datagram arriving at host:port (bound before any call names it)."""

    def __init__(self, host, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.1)
        self.host, self.port = self.sock.getsockname()
        self.count = 0
        self.rtp = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data, _ = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            self.count += 1
            self.rtp += is_rtp(data)

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


class RtpLeg(Listener):
    """A caller's media socket on 127.0.0.1: sends a PCMU tone every 20 ms to `to` once set, counts RTP back."""

    def __init__(self):
        super().__init__("127.0.0.1")
        self.to = None
        self.ssrc = random.getrandbits(32)
        self.sender = threading.Thread(target=self._send, daemon=True)
        self.sender.start()

    def _send(self):
        seq, ts = random.getrandbits(16), random.getrandbits(32)
        while self.running:
            if self.to:
                header = struct.pack("!BBHII", 0x80, PCMU, seq & 0xFFFF, ts & 0xFFFFFFFF, self.ssrc)
                try:
                    self.sock.sendto(header + TONE, self.to)
                except OSError:
                    return
                seq, ts = seq + 1, ts + 160
            time.sleep(0.02)


def offer(ip, port, direction="sendrecv"):
    return h.sdp_offer(ip, port, direction)


def invite(server, sip_host, sdp):
    """(peer, INVITE bytes, call id) of a call to ROOM from a UDP peer on sip_host."""
    peer = h.UdpPeer(host=sip_host)
    call_id = h.new_token("mg-")
    request = h.build_request(
        "INVITE", f"sip:{ROOM}@127.0.0.1:{server.sip_port}",
        via=f"SIP/2.0/UDP {peer.host}:{peer.port};branch={h.new_branch()};rport",
        from_=f"<sip:guard@{peer.host}>;tag={h.new_token()}", to=f"<sip:{ROOM}@127.0.0.1>", call_id=call_id, cseq=1,
        contact=f"<sip:guard@{peer.host}:{peer.port}>", body=sdp)
    peer.send(request, ("127.0.0.1", server.sip_port))
    return peer, request, call_id


def final_response(peer, call_id):
    final, _ = h.wait_final(peer, 10.0, lambda m: m.call_id == call_id)
    return final


def refused(server, checks, sip_host, sdp, label):
    """The offer is answered 488 with a 305 Warning (and the 488 is ACKed)."""
    peer, request, call_id = invite(server, sip_host, sdp)
    try:
        final = final_response(peer, call_id)
        code = final.code if final else None
        warning = (final.get("warning") or "") if final else ""
        checks.expect(code == 488 and warning.startswith("305 "),
                      f"{label}: 488 with Warning 305 (got {code} {warning!r})")
        if final:
            peer.send(h.ack_for_failure(h.parse_sip(request), final), ("127.0.0.1", server.sip_port))
    finally:
        peer.close()


def answered(server, sip_host, sdp):
    """(peer, 200 OK, chorusd's RTP port) of an accepted call, ACKed; Failure otherwise."""
    peer, _, call_id = invite(server, sip_host, sdp)
    ok = final_response(peer, call_id)
    if ok is None or ok.code != 200:
        raise h.Failure(f"call not answered 200: {ok.summary() if ok else 'no final response'}")
    peer.send(h.in_dialog_request("ACK", ok, peer, 1), ("127.0.0.1", server.sip_port))
    return peer, ok, h.sdp_audio_port(ok.body)


def hang_up(server, peer, ok):
    bye = h.in_dialog_request("BYE", ok, peer, 2)
    peer.send(bye, ("127.0.0.1", server.sip_port))
    final, _ = h.wait_final(peer, 5.0, lambda m: m.call_id == ok.call_id and m.cseq == (2, "BYE"))
    return final.code if final else None


def wait_for_bye(peer, call_id, timeout_s, server_port):
    """Answers chorusd's BYE for call_id with 200; the time it came, or None."""
    deadline = h.Deadline(timeout_s)
    while not deadline.expired():
        msg = peer.recv(deadline.remaining())
        if msg is None or msg.is_response or msg.call_id != call_id:
            continue
        if msg.method == "BYE":
            lines = ["SIP/2.0 200 OK"] + [f"Via: {v}" for v in msg.all("via")] + [
                f"From: {msg.get('from')}", f"To: {msg.get('to')}", f"Call-ID: {msg.call_id}",
                f"CSeq: {msg.cseq[0]} BYE", "Content-Length: 0"]
            peer.send(("\r\n".join(lines) + "\r\n\r\n").encode(), ("127.0.0.1", server_port))
            return time.monotonic()
    return None


def spray(server, seconds):
    """From STRANGER_IP, RTP with random SSRCs at every port of the range; the datagrams that came back."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((STRANGER_IP, 0))
    sock.setblocking(False)
    back, sent, seq = 0, 0, 0
    deadline = h.Deadline(seconds)
    while not deadline.expired():
        for port in range(server.rtp_lo, server.rtp_hi + 1):
            header = struct.pack("!BBHII", 0x80, PCMU, seq & 0xFFFF, seq * 160, random.getrandbits(32))
            sock.sendto(header + TONE, ("127.0.0.1", port))
            sent += 1
        seq += 1
        time.sleep(0.02)
        try:
            while True:
                sock.recvfrom(2048)
                back += 1
        except BlockingIOError:
            pass
    time.sleep(0.3)  # anything chorusd sent in answer to the last round
    try:
        while True:
            sock.recvfrom(2048)
            back += 1
    except BlockingIOError:
        pass
    sock.close()
    return sent, back


def refusals(server, checks):
    print("--- offers aiming media where it must not go: 488 + Warning 305", flush=True)
    refused(server, checks, REMOTE_IP, offer("127.0.0.1", 40000), "a remote caller naming loopback")
    refused(server, checks, "127.0.0.1", offer("169.254.169.254", 40000), "link-local (cloud metadata)")
    refused(server, checks, "127.0.0.1", offer("239.1.2.3", 40000), "multicast")
    refused(server, checks, "127.0.0.1", offer("0.0.0.0", 40000), "0.0.0.0 with sendrecv")
    peer, ok, _ = answered(server, "127.0.0.1", offer("0.0.0.0", 40000, "sendonly"))
    checks.expect(True, "0.0.0.0 with a=sendonly is hold (RFC 3264 §8.4): answered 200")
    checks.expect(hang_up(server, peer, ok) == 200, "the held call hangs up with 200 to its BYE")
    peer.close()


def attacks(server, checks):
    victim = Listener(VICTIM_IP)
    nat_private = Listener(NAT_PRIVATE_IP)
    spoof_victim = Listener("127.0.0.1")
    b_leg, c_leg = RtpLeg(), RtpLeg()
    calls = []
    spoofer = None
    try:
        print("--- A names 127.0.0.9 and stays silent; B is NATed (SDP 127.0.0.7); C is plain", flush=True)
        a_peer, a_ok, _ = answered(server, "127.0.0.1", offer(VICTIM_IP, victim.port))
        a_answered = time.monotonic()
        b_peer, b_ok, b_port = answered(server, "127.0.0.1", offer(NAT_PRIVATE_IP, nat_private.port))
        b_leg.to = ("127.0.0.1", b_port)
        c_peer, c_ok, c_port = answered(server, "127.0.0.1", offer("127.0.0.1", c_leg.port))
        c_leg.to = ("127.0.0.1", c_port)
        calls = [(b_peer, b_ok), (c_peer, c_ok)]
        # A forged UDP INVITE: its SDP names the (forged) signaling source's IP; nobody ACKs the 200.
        spoofer, _, spoof_call = invite(server, "127.0.0.1", offer("127.0.0.1", spoof_victim.port))
        spoof_ok = final_response(spoofer, spoof_call)
        checks.expect(spoof_ok is not None and spoof_ok.code == 200,
                      "the spoofed INVITE is answered 200 (chorusd cannot tell it is forged yet)")

        h.poll_until(lambda: b_leg.rtp >= 25, 10.0, "B to hear the mix (its RTP latched chorusd to it)")
        checks.expect(True, f"B, NATed, hears the mix ({b_leg.rtp} RTP packets so far)")
        # Past every leg's latch window (A's included): from now on only proof moves a destination.
        time.sleep(max(0.0, a_answered + LATCH_WINDOW_MS / 1000.0 + 0.5 - time.monotonic()))

        print("--- a stranger sprays the whole RTP range", flush=True)
        before = b_leg.rtp
        sent, back = spray(server, 2.0)
        during = b_leg.rtp - before
        checks.expect(back == 0, f"the stranger got nothing back for {sent} sprayed packets (got {back})")
        checks.expect(during >= 25, f"B kept hearing the mix during the spray ({during} packets in ~2 s)")
        status = server.status()
        checks.expect(status.get("media_foreign_source_drops", 0) > 0,
                      f"chorusd counted the spray as foreign (media_foreign_source_drops="
                      f"{status.get('media_foreign_source_drops')})")

        print("--- a datagram over the 1,500-byte ingress limit to C's port", flush=True)
        malformed_before = server.status().get("media_dropped_malformed", 0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as oversized:
            oversized.sendto(bytes([0x80, 0x00]) + bytes(1599), ("127.0.0.1", c_port))
        h.poll_until(lambda: server.status().get("media_dropped_malformed", 0) > malformed_before, 10.0,
                     "chorusd to count the oversized datagram as malformed")
        checks.expect(True, "chorusd dropped and counted the oversized datagram (media_dropped_malformed)")

        print(f"--- A sends nothing: BYE after --media-timeout {MEDIA_TIMEOUT_S}", flush=True)
        bye_at = wait_for_bye(a_peer, a_ok.call_id, MEDIA_TIMEOUT_S + 10.0, server.sip_port)
        checks.expect(bye_at is not None, "chorusd hung up the silent caller A with BYE")
        if bye_at is not None:
            checks.expect(bye_at - a_answered >= MEDIA_TIMEOUT_S - 0.5,
                          f"not before the timeout ({bye_at - a_answered:.1f} s after the answer)")
        a_peer.close()
        checks.expect(any("media timeout: hanging up" in line for line in server.log_lines()),
                      "chorusd logged the media timeout")
        checks.expect(server.status().get("media_timeouts", 0) >= 1, "chorusd counted media_timeouts")
        checks.expect(b_leg.rtp > before + during, "B still hears the mix after A left")

        for peer, ok in calls:
            checks.expect(hang_up(server, peer, ok) == 200, "B and C hang up with 200 to their BYE")
            peer.close()
        calls = []
        checks.expect(victim.count == 0, f"not one packet reached {VICTIM_IP}, named by A's SDP (got {victim.count})")
        checks.expect(nat_private.count == 0,
                      f"not one packet reached {NAT_PRIVATE_IP}, B's unproven SDP address (got {nat_private.count})")
        checks.expect(c_leg.rtp > 0, f"C, proven by its signaling address, got media ({c_leg.rtp} packets)")
        # 64*T1 (6.4 s here) without the ACK ended the spoofed call long before A's media timeout.
        checks.expect(any("no ACK for 2xx" in line for line in server.log_lines()),
                      "chorusd ended the spoofed call for want of an ACK")
        checks.expect(spoof_victim.count == 0,
                      f"not one packet reached the spoofed call's SDP address before any ACK (got {spoof_victim.count})")
    finally:
        for peer, _ in calls:
            peer.close()
        if spoofer:
            spoofer.close()
        for leg in (victim, nat_private, spoof_victim, b_leg, c_leg):
            leg.stop()


def body(args):
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir, rtp_ports=40, extra_args=[
        "--media-timeout", str(MEDIA_TIMEOUT_S), "--media-latch-window", str(LATCH_WINDOW_MS)]).start()
    refusals(server, checks)
    attacks(server, checks)
    h.expect_quiescent(server, checks)
    h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "for the remote caller's address",
                                   extra_setup=f"ip addr add {REMOTE_IP}/32 dev lo")


if __name__ == "__main__":
    sys.exit(main())
