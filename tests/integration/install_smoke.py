"""What test_package.py and test_docker.py ask of an installed chorusd, however it was installed:
/healthz answers, every file of the page is served (the routes read from rest-api/api/web_routes.hpp,
so the install rules cannot drift from what the server serves), and a call into room 1000 is answered
and hears the "first participant" prompt as RTP.

Standard library only; the SIP pieces are chorus_harness's.
"""

import os
import re
import socket
import struct
import time
import urllib.error
import urllib.request

import chorus_harness as h

ROOM = "1000"
PROMPT_TIMEOUT_S = 15.0
# The prompt is two seconds or so of espeak-ng speech; half a second of it proves it is heard.
MIN_LOUD_PACKETS = 25
LOUD_PEAK = 1000  # of 32767: speech peaks well above it, the mixer's silence is 0


def web_routes(source_dir):
    """[(route, file relative to the web root)] that chorusd serves: kWebAssets and kJsSipAsset."""
    path = os.path.join(source_dir, "rest-api", "api", "web_routes.hpp")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    routes = re.findall(r'\{\s*"(/[^"]*)",\s*"([^"]+)",\s*"[^"]+"\s*\}', text)
    if not any(route == "/vendor/jssip.min.js" for route, _ in routes) or not any(r == "/" for r, _ in routes):
        raise h.Failure(f"could not read the page's routes from {path} (found {routes})")
    return routes


def http_get(port, path, host="127.0.0.1", timeout_s=10.0):
    """(status, body) of GET http://host:port/path; status None when nothing answered."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout_s) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None, b""


def expect_served(port, routes, web_root, checks, label):
    """/healthz is 200 and each page route is 200 with the bytes of `web_root`'s file (the
    installed copy; None: only the status is checked)."""
    status, body = http_get(port, "/healthz")
    checks.expect(status == 200, f"{label}: /healthz answers 200 (got {status} {body[:100]!r})")
    for route, file in routes:
        status, body = http_get(port, route)
        if web_root is None:
            checks.expect(status == 200 and body, f"{label}: GET {route} is 200 with a body (got {status})")
            continue
        with open(os.path.join(web_root, file), "rb") as f:
            installed = f.read()
        checks.expect(status == 200 and body == installed,
                      f"{label}: GET {route} is 200 with the installed {file} ({status}, {len(body)} bytes, "
                      f"installed {len(installed)})")


def _ulaw_to_linear(byte):
    """ITU-T G.711 µ-law to a 16-bit sample."""
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte >> 4) & 0x07)
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


_ULAW = [_ulaw_to_linear(b) for b in range(256)]
_ULAW_SILENCE = bytes([0xFF]) * 160  # 20 ms of PCMU at 8 kHz


def _rtp_packet(seq, timestamp, ssrc):
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + _ULAW_SILENCE


def _loud(packet):
    """A PCMU RTP packet whose samples peak above LOUD_PEAK."""
    if len(packet) <= 12 or packet[0] >> 6 != 2 or packet[1] & 0x7F != 0:
        return False
    header = 12 + 4 * (packet[0] & 0x0F)
    return any(abs(_ULAW[b]) > LOUD_PEAK for b in packet[header:])


def listen_for_prompt(rtp, answer_addr, timeout_s=PROMPT_TIMEOUT_S):
    """Sends PCMU silence from `rtp` to answer_addr every 20 ms (so chorusd latches to it, as a phone's
    symmetric RTP does) and counts loud packets back; (loud packets, all packets) once MIN_LOUD_PACKETS
    came or timeout_s passed."""
    deadline = h.Deadline(timeout_s)
    seq, timestamp, ssrc = 1, 0, 0x5EED1234
    loud = received = 0
    next_send = time.monotonic()
    for _ in range(int(timeout_s / 0.02) + 50):
        if deadline.expired() or loud >= MIN_LOUD_PACKETS:
            break
        now = time.monotonic()
        if now >= next_send:
            rtp.sendto(_rtp_packet(seq, timestamp, ssrc), answer_addr)
            seq, timestamp, next_send = seq + 1, timestamp + 160, next_send + 0.02
        rtp.settimeout(max(0.001, min(next_send - time.monotonic(), deadline.remaining())))
        try:
            data, _ = rtp.recvfrom(2048)
        except (socket.timeout, ConnectionRefusedError):
            continue
        received += 1
        loud += 1 if _loud(data) else 0
    return loud, received


def expect_call_hears_prompt(sip_port, checks, label, host="127.0.0.1"):
    """INVITE room 1000 with a PCMU offer naming our RTP socket; 200, ACK, the prompt heard, BYE 200."""
    peer = h.UdpPeer(host=host)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind((host, 0))
    try:
        server = (host, sip_port)
        call_id = h.new_token("install-") + "@" + host
        uri = f"sip:{ROOM}@{host}:{sip_port}"
        offer = h.sdp_offer(host, rtp.getsockname()[1])
        try:
            ok = h.invite_answered(peer, server, uri, call_id, "installcheck", offer, 10.0, label=f"{label}: ")
        except h.Failure as e:
            checks.expect(False, str(e))
            return
        answer_port = h.sdp_audio_port(ok.body)
        checks.expect(answer_port is not None, f"{label}: the 200 to the INVITE into room {ROOM} has an SDP answer")
        if answer_port is None:
            return
        loud, received = listen_for_prompt(rtp, (host, answer_port))
        checks.expect(loud >= MIN_LOUD_PACKETS,
                      f"{label}: the caller hears the first-participant prompt ({loud} loud PCMU packets of "
                      f"{received} received; ≥ {MIN_LOUD_PACKETS} needed)")
        bye = h.in_dialog_request("BYE", ok, peer, 2)
        peer.send(bye, server)
        final, _ = h.wait_final(peer, 5.0, lambda m: m.call_id == call_id and m.cseq == (2, "BYE"))
        checks.expect(final is not None and final.code == 200,
                      f"{label}: BYE answered 200 ({final.summary() if final else 'nothing'})")
    finally:
        rtp.close()
        peer.close()


def share_dir_line(lines):
    """The fields of chorusd's last `msg="share dir"` log line (a reused log file holds earlier runs'
    too), or None."""
    for line in reversed(lines):
        if 'msg="share dir"' in line:
            return h.parse_logfmt(line)
    return None
