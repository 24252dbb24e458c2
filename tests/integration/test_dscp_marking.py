#!/usr/bin/env python3
"""QoS marking as a receiver sees it (issue 15): a Python SIP/RTP caller on loopback dials room 1000 of a
chorusd run with its default classes, and reads the TOS octet of every datagram chorusd sends it from the
ancillary data of recvmsg (IP_RECVTOS, ip(7)), as a packet capture would show it:

- SIP over UDP (the 200 OK to the INVITE and to the BYE) carries CS3: DSCP 24, TOS 0x60 (RFC 4594 §4.2);
- the room's audio RTP carries EF: DSCP 46, TOS 0xB8 (RFC 3246, RFC 4594 §4.3);
- chorusd counted no refused mark (dscp_mark_failures in its status line).
The caller sends a PCMU tone so its address is latched and the mix flows back (the MCU sends every tick).
Without the marking every datagram arrives with TOS 0. About 5 s.
"""

import math
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_dscp_marking"
ROOM = "1000"  # the open room every empty store has (DESIGN §4)
SIP_TOS = 24 << 2  # CS3
AUDIO_TOS = 46 << 2  # EF
RTP_PACKETS = 25  # half a second of 20 ms packets
TIMEOUT_S = 10.0


def tos_of(ancillary):
    """The TOS octet from recvmsg's control messages (IP_TOS, one byte), or None."""
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == socket.IP_TOS and data:
            return data[0]
    return None


class MarkedUdpPeer(h.UdpPeer):
    """The harness's SIP peer, noting the TOS of every datagram it receives."""

    def __init__(self):
        super().__init__()
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        self.marks = []  # (first line, TOS)

    def recv(self, timeout_s):
        self.sock.settimeout(max(0.001, timeout_s))
        try:
            data, ancillary, _, _ = self.sock.recvmsg(65535, socket.CMSG_SPACE(4))
        except (socket.timeout, ConnectionRefusedError):
            return None
        message = h.parse_sip(data) or h.SipMessage("<unparsable>", [], b"", data)
        self.marks.append((data.split(b"\r\n", 1)[0].decode(errors="replace"), tos_of(ancillary)))
        return message


def ulaw(sample):
    """ITU-T G.711 µ-law of a 16-bit linear sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = next((bit for bit in range(7, -1, -1) if magnitude & (0x4000 >> (7 - bit))), 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


TONE = bytes(ulaw(int(8000 * math.sin(2 * math.pi * 440 * n / 8000))) for n in range(160))


class RtpCaller:
    """The caller's RTP socket: sends a PCMU tone every 20 ms once told where, and notes the TOS of
    each RTP packet chorusd sends it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.marks = []
        self.stop_event = threading.Event()
        self.thread = None

    def send_to(self, address):
        def run():
            sequence = 0
            while not self.stop_event.wait(0.02) and sequence < 1000:  # bounded: 20 s at most
                header = struct.pack("!BBHII", 0x80, 0, sequence, 160 * sequence, 0x15D5C)
                self.sock.sendto(header + TONE, address)
                sequence += 1
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def receive(self, count, timeout_s):
        deadline = h.Deadline(timeout_s)
        for _ in range(count * 20):
            if len(self.marks) >= count or deadline.expired():
                break
            self.sock.settimeout(max(0.001, deadline.remaining()))
            try:
                data, ancillary, _, _ = self.sock.recvmsg(2048, socket.CMSG_SPACE(4))
            except socket.timeout:
                break
            if len(data) >= 12 and data[0] >> 6 == 2 and not 72 <= (data[1] & 0x7F) <= 76:
                self.marks.append(tos_of(ancillary))

    def close(self):
        self.stop_event.set()
        if self.thread:
            self.thread.join(timeout=2)
        self.sock.close()


def body(args):
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    peer = MarkedUdpPeer()
    rtp = RtpCaller()
    try:
        address = ("127.0.0.1", server.sip_port)
        call_id = h.new_token("dscp-")
        ok = h.invite_answered(peer, address, f"sip:{ROOM}@127.0.0.1:{server.sip_port}", call_id, "qos",
                               h.sdp_offer("127.0.0.1", rtp.port), TIMEOUT_S)
        media_port = h.sdp_audio_port(ok.body)
        if media_port is None:
            raise h.Failure(f"no m=audio port in the answer:\n{ok.body.decode(errors='replace')}")
        rtp.send_to(("127.0.0.1", media_port))
        rtp.receive(RTP_PACKETS, TIMEOUT_S)
        checks.expect(len(rtp.marks) >= RTP_PACKETS,
                      f"chorusd sent the caller {RTP_PACKETS} RTP packets (got {len(rtp.marks)})")
        wrong = [tos for tos in rtp.marks if tos != AUDIO_TOS]
        checks.expect(rtp.marks and not wrong,
                      f"every audio RTP packet arrives with TOS 0x{AUDIO_TOS:02X} (EF); others: "
                      f"{sorted({hex(t) if t is not None else 'none' for t in wrong})}")
        final = h.ack_and_bye(peer, address, ok)
        checks.expect(final is not None and final.code == 200, "BYE answered 200")
        checks.expect(len(peer.marks) >= 2, f"SIP from chorusd seen: {[line for line, _ in peer.marks]}")
        wrong_sip = [(line, tos) for line, tos in peer.marks if tos != SIP_TOS]
        checks.expect(not wrong_sip, f"every SIP datagram arrives with TOS 0x{SIP_TOS:02X} (CS3); others: {wrong_sip}")
        status = server.status()
        checks.expect(status.get("dscp_mark_failures") == 0,
                      f"no refused mark counted (dscp_mark_failures={status.get('dscp_mark_failures')})")
    finally:
        rtp.close()
        peer.close()
    h.expect_quiescent(server, checks)
    h.expect_clean_stop(server, checks)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
