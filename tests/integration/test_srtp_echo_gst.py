#!/usr/bin/env python3
"""SDES-SRTP echo room (9196) with real GStreamer peers, and what the server does with hostile packets.

Per case (one call each, one chorusd for all):
  * Python is the SIP UA: INVITE sip:9196@127.0.0.1:PORT with `m=audio P RTP/SAVP 0` and one
    `a=crypto:1 SUITE inline:KEY` (RFC 4568 §9.1), where P is a UDP socket of the test (the "phone
    socket"); the 200 must carry one a=crypto line of the same suite (the server's key); ACK.
  * A gst-launch-1.0 sender (audiotestsrc 440 Hz → PCMU → rtppcmupay → srtpenc with our key) sends to a
    relay port R of the test; the relay sends every datagram on through P to the server's RTP port, so
    the server sees one symmetric source, and forwards what the server sends to P to port Q, where a
    gst-launch-1.0 receiver (udpsrc → srtpdec with the server's key and SSRC → rtpjitterbuffer → PCMU
    → wavenc) records the echo. The relay checks the echo keeps our sequence numbers and timestamps
    under a server SSRC of its own.
  * While the echo flows, the relay injects (counter deltas read from the SIGUSR1 status line):
      foreign  20 fresh, authentic packets of the sender diverted through another local socket: dropped,
               media_dropped_source grows by >= 20, nothing comes back to that socket, the echo goes on;
      replay   20 packets already sent re-sent from P: media_dropped_replay grows by >= 20 (RFC 3711 §3.3.2);
      forged   20 copies of fresh packets with one payload byte flipped, each sent just before the real
               one: media_dropped_auth grows by >= 20 (RFC 3711 §3.4 / RFC 7714 §9), the real ones echo.
  * The call is still up (dialogs == 1); the recording's dominant frequency is within 2 % of 440 Hz and
    it holds >= 1 s of audio; BYE → 200; chorusd returns to no transactions, dialogs or media ports.
Cases: aes_cm_128_hmac_sha1_80 (its sequence numbers start near 65535, so the rollover counter of both
SRTP directions steps during the call, RFC 3711 §3.3.1) and aead_aes_128_gcm (RFC 7714; run when the
installed srtpenc offers aes-128-gcm).

The test runs in a private network namespace with only loopback (it re-executes itself under
`unshare -n`) and skips when that is not allowed or GStreamer's tools/elements are missing.
By hand: `python3 tests/integration/test_srtp_echo_gst.py --chorusd build/bin/chorusd [--only gcm]`.
"""

import base64
import os
import queue
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import media_checks  # noqa: E402

TEST = "test_srtp_echo_gst"
ECHO_URI_USER = "9196"
TONE_HZ = 440.0
TONE_TOLERANCE = 0.02
MIN_AUDIO_S = 1.0
PACKET_S = 0.02  # 160 PCMU samples per RTP packet
SENDER_MAX_S = 40.0  # the sender's num-buffers: it stops by itself even if the test does not stop it
INJECTED = 20
CALL_TIMEOUT_S = 10.0
STAGE_TIMEOUT_S = 6.0
GST_STOP_TIMEOUT_S = 10.0
RELAY_MAX_S = 120.0
WRAP_AFTER_S = 8.0  # aes-cm case: the sequence number wraps this long after the sender starts

GST_ELEMENTS = {  # element: Debian package
    "audiotestsrc": "gstreamer1.0-plugins-base", "audioconvert": "gstreamer1.0-plugins-base",
    "audioresample": "gstreamer1.0-plugins-base", "udpsrc": "gstreamer1.0-plugins-good",
    "udpsink": "gstreamer1.0-plugins-good", "mulawenc": "gstreamer1.0-plugins-good",
    "mulawdec": "gstreamer1.0-plugins-good", "rtppcmupay": "gstreamer1.0-plugins-good",
    "rtppcmudepay": "gstreamer1.0-plugins-good", "rtpjitterbuffer": "gstreamer1.0-plugins-good",
    "wavenc": "gstreamer1.0-plugins-good", "srtpenc": "gstreamer1.0-plugins-bad",
    "srtpdec": "gstreamer1.0-plugins-bad",
}


class Suite:
    """An SDES crypto suite (RFC 4568 §6.2, RFC 7714 §12) and how srtpenc/srtpdec name it."""

    def __init__(self, case, name, key_len, cipher, auth, seq_start):
        self.case, self.name, self.key_len, self.cipher, self.auth = case, name, key_len, cipher, auth
        self.seq_start = seq_start  # None: random, away from a wrap


SUITES = [
    Suite("aes_cm_128_hmac_sha1_80", "AES_CM_128_HMAC_SHA1_80", 30, "aes-128-icm", "hmac-sha1-80",
          65536 - int(WRAP_AFTER_S / PACKET_S)),
    Suite("aead_aes_128_gcm", "AEAD_AES_128_GCM", 28, "aes-128-gcm", "null", None),
]


# ---------------------------------------------------------------------------------------------
# RTP header fields the relay looks at (RFC 3550 §5.1); SRTP leaves the header in the clear.

def rtp_fields(packet):
    """(payload type, sequence, timestamp, ssrc) or None when it is not an RTP v2 packet."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    seq, ts, ssrc = struct.unpack_from("!HII", packet, 2)
    return packet[1] & 0x7F, seq, ts, ssrc


def forged(packet):
    """A copy with one byte of the (encrypted) payload flipped: its tag can no longer verify."""
    i = min(len(packet) - 1, 12 + 5)
    return packet[:i] + bytes([packet[i] ^ 0x5A]) + packet[i + 1:]


def udp_socket(port=0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    return sock


class Relay(threading.Thread):
    """Sender → R → (relay) → P → server, server → P → (relay) → Q → receiver; a bounded select loop.

    The main thread asks for injections through request(); the counters are read under lock."""

    def __init__(self, phone, phone_rtcp, inlet, foreign, server_addr, receiver_port):
        super().__init__(name="relay", daemon=True)
        self.phone, self.phone_rtcp, self.inlet, self.foreign = phone, phone_rtcp, inlet, foreign
        self.outlet = udp_socket()
        self.server_addr, self.receiver_addr = server_addr, ("127.0.0.1", receiver_port)
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.commands = queue.Queue()
        self.error = None
        self.divert_left = self.forge_left = 0
        self.sent = []  # packets that went out through P, in order (replay material)
        self.sent_headers = {}  # seq -> timestamp of what went out through P
        self.diverted_seqs = set()
        self.echoed_seqs = set()
        self.n = dict(from_sender=0, to_server=0, diverted=0, forged=0, replayed=0, from_server=0,
                      echo_mismatch=0, echo_duplicate=0, echo_of_diverted=0, not_rtp=0, from_stranger=0,
                      to_foreign=0, server_rtcp=0, wraps=0)
        self.server_pt_ssrc = None
        self.last_server_seq = None

    def count(self, key):
        with self.lock:
            return self.n[key]

    def request(self, kind, count):
        self.commands.put((kind, count))

    def roc(self):
        """How often the echo's sequence number has wrapped so far (its SRTP rollover counter)."""
        return self.count("wraps")

    def run(self):
        deadline = h.Deadline(RELAY_MAX_S)
        socks = [self.inlet, self.phone, self.phone_rtcp, self.foreign]
        try:
            for _ in range(int(RELAY_MAX_S / 0.01) + 2):
                if self.stop_event.is_set() or deadline.expired():
                    return
                self._commands()
                readable, _, _ = select.select(socks, [], [], 0.01)
                for sock in readable:
                    data, addr = sock.recvfrom(65535)
                    self._on_datagram(sock, data, addr)
        except Exception as e:  # reported by the main thread
            self.error = repr(e)

    def _commands(self):
        for _ in range(self.commands.qsize()):
            kind, count = self.commands.get_nowait()
            if kind == "divert":
                self.divert_left += count
            elif kind == "forge":
                self.forge_left += count
            elif kind == "replay":
                for packet in self.sent[-count:]:
                    self.phone.sendto(packet, self.server_addr)
                with self.lock:
                    self.n["replayed"] += min(count, len(self.sent))

    def _on_datagram(self, sock, data, addr):
        if sock is self.inlet:
            self._from_sender(data)
        elif sock is self.phone_rtcp:
            with self.lock:
                self.n["server_rtcp"] += 1
        elif sock is self.foreign:
            with self.lock:
                self.n["to_foreign"] += 1
        elif addr != self.server_addr:
            with self.lock:
                self.n["from_stranger"] += 1
        else:
            self._from_server(data)

    def _from_sender(self, data):
        fields = rtp_fields(data)
        with self.lock:
            self.n["from_sender"] += 1
        if self.divert_left > 0:
            self.divert_left -= 1
            self.foreign.sendto(data, self.server_addr)
            if fields:
                self.diverted_seqs.add(fields[1])
            with self.lock:
                self.n["diverted"] += 1
            return
        if self.forge_left > 0:
            self.forge_left -= 1
            self.phone.sendto(forged(data), self.server_addr)
            with self.lock:
                self.n["forged"] += 1
        self.phone.sendto(data, self.server_addr)
        self.sent = self.sent[-200:] + [data]
        if fields:
            self.sent_headers[fields[1]] = fields[2]
        with self.lock:
            self.n["to_server"] += 1

    def _from_server(self, data):
        fields = rtp_fields(data)
        self.outlet.sendto(data, self.receiver_addr)
        with self.lock:
            self.n["from_server"] += 1
            if fields is None:
                self.n["not_rtp"] += 1
                return
            pt, seq, ts, ssrc = fields
            if self.server_pt_ssrc is None:
                self.server_pt_ssrc = (pt, ssrc)
            if self.sent_headers.get(seq) != ts or (pt, ssrc) != self.server_pt_ssrc:
                self.n["echo_mismatch"] += 1
            if seq in self.echoed_seqs:  # a replayed or forged packet was let through
                self.n["echo_duplicate"] += 1
            if seq in self.diverted_seqs:  # a packet from the foreign source was let through
                self.n["echo_of_diverted"] += 1
            self.echoed_seqs.add(seq)
            if self.last_server_seq is not None and seq < 0x1000 and self.last_server_seq > 0xF000:
                self.n["wraps"] += 1
            self.last_server_seq = seq

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5.0)
        self.outlet.close()


# ---------------------------------------------------------------------------------------------
# GStreamer peers.

def require_gstreamer():
    h.require_binary("gst-launch-1.0", "gstreamer1.0-tools")
    inspect = h.require_binary("gst-inspect-1.0", "gstreamer1.0-tools")
    for element, package in GST_ELEMENTS.items():
        probe = subprocess.run([inspect, element], capture_output=True, timeout=60)
        if probe.returncode != 0:
            raise h.Skip(f"GStreamer element {element} is missing (Debian package {package})")
    srtpenc = subprocess.run([inspect, "srtpenc"], capture_output=True, timeout=60).stdout.decode()
    return {s.cipher for s in SUITES if s.cipher in srtpenc}


def sender_command(suite, key, ssrc, seq_start, port):
    return ["gst-launch-1.0", "-e", "audiotestsrc", f"freq={TONE_HZ:g}", "is-live=true", "samplesperbuffer=160",
            f"num-buffers={int(SENDER_MAX_S / PACKET_S)}", "!", "audioconvert", "!", "audioresample", "!",
            "audio/x-raw,rate=8000,channels=1", "!", "mulawenc", "!",
            "rtppcmupay", f"ssrc={ssrc}", f"seqnum-offset={seq_start}", "!",
            "srtpenc", f"key={key.hex()}", f"rtp-cipher={suite.cipher}", f"rtp-auth={suite.auth}",
            f"rtcp-cipher={suite.cipher}", f"rtcp-auth={suite.auth}", "!",
            "udpsink", "host=127.0.0.1", f"port={port}"]


def receiver_command(suite, key, ssrc, roc, port, wav_path):
    caps = (f"application/x-srtp,media=(string)audio,clock-rate=(int)8000,encoding-name=(string)PCMU,"
            f"payload=(int)0,ssrc=(uint){ssrc},srtp-key=(buffer){key.hex()},"
            f"srtp-cipher=(string){suite.cipher},srtp-auth=(string){suite.auth},"
            f"srtcp-cipher=(string){suite.cipher},srtcp-auth=(string){suite.auth},roc=(uint){roc}")
    # srtpdec takes the key from the caps only when they name the SSRC (else it asks through its
    # request-key signal, which gst-launch cannot answer), so the receiver starts after the first echo.
    return ["gst-launch-1.0", "-e", "udpsrc", f"port={port}", f"caps={caps}", "!", "srtpdec", "!",
            "rtpjitterbuffer", "!", "rtppcmudepay", "!", "mulawdec", "!", "audioconvert", "!", "wavenc", "!",
            "filesink", f"location={wav_path}"]


def finish_gst(proc, what, log_path):
    """SIGINT: gst-launch -e sends EOS down the pipeline (wavenc finalises its header) and exits 0."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGINT)
    try:
        code = proc.wait(timeout=GST_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        h.stop_process(proc)
        raise h.Failure(f"{what} did not stop within {GST_STOP_TIMEOUT_S:.0f} s of SIGINT; see {log_path}")
    return code


# ---------------------------------------------------------------------------------------------
# SIP and SDP.

def sdp_offer(port, suite, key):
    inline = base64.b64encode(key).decode()
    return (f"v=0\r\no=gst 4711 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n"
            f"a=crypto:1 {suite.name} inline:{inline}\r\na=sendrecv\r\n").encode()


def parse_answer(body, suite, checks):
    """(server media address, server key) from the 200's SDP; Failure when it is unusable."""
    text = body.decode("utf-8", "replace")
    media = re.search(r"^m=audio (\d+) (\S+) ", text, re.M)
    conn = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    cryptos = re.findall(r"^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)", text, re.M)
    if not media or not conn:
        raise h.Failure(f"the 200's SDP has no m=audio or c= line:\n{text}")
    checks.expect(media.group(2) == "RTP/SAVP", f"answer's m=audio profile is RTP/SAVP ({media.group(2)})")
    if len(cryptos) != 1:
        raise h.Failure(f"the answer must carry exactly one a=crypto line (RFC 4568 §7.1.2), it has "
                        f"{len(cryptos)}:\n{text}")
    tag, name, inline = cryptos[0]
    checks.expect(tag == "1" and name == suite.name, f"answer's a=crypto is tag 1 {suite.name} ({tag} {name})")
    key = base64.b64decode(inline + "=" * (-len(inline) % 4))
    if len(key) != suite.key_len:
        raise h.Failure(f"the server's inline key is {len(key)} bytes, {suite.name} needs {suite.key_len}")
    return (conn.group(1), int(media.group(1))), key


class Call:
    """Our INVITE dialog with the echo room over UDP."""

    def __init__(self, server, sip):
        self.server_addr = ("127.0.0.1", server.sip_port)
        self.sip = sip
        self.uri = f"sip:{ECHO_URI_USER}@127.0.0.1:{server.sip_port}"
        self.call_id = h.new_token("srtp-echo-")
        self.ok = None

    def invite(self, sdp):
        self.ok = h.invite_answered(self.sip, self.server_addr, self.uri, self.call_id, "gst", sdp, CALL_TIMEOUT_S)
        return self.ok

    def bye(self):
        self.sip.send(h.in_dialog_request("BYE", self.ok, self.sip, 2), self.server_addr)
        final, _ = h.wait_final(self.sip, CALL_TIMEOUT_S,
                                lambda m: m.call_id == self.call_id and m.cseq == (2, "BYE"))
        return final.code if final else None


# ---------------------------------------------------------------------------------------------
# The case.

COUNTERS = ("media_packets_in", "media_packets_out", "media_dropped_auth", "media_dropped_replay",
            "media_dropped_source", "media_dropped_malformed")


def counters(server):
    status = server.status()
    missing = [c for c in COUNTERS if c not in status]
    if missing:
        raise h.Failure(f"the status line lacks {missing}: {status}")
    return status


def wait_growth(server, name, before, want):
    """Poll the status until counter `name` grew by want since `before`; the growth seen at the end."""
    deadline = h.Deadline(STAGE_TIMEOUT_S)
    grown = 0
    for _ in range(int(STAGE_TIMEOUT_S / 0.1) + 2):
        grown = counters(server)[name] - before[name]
        if grown >= want or deadline.expired():
            break
        time.sleep(0.1)
    return grown


def wait_relay(relay, key, target, what, timeout_s=STAGE_TIMEOUT_S):
    def reached():
        if relay.error:
            raise h.Failure(f"the relay thread failed: {relay.error}")
        return relay.count(key) >= target
    h.poll_until(reached, timeout_s, what, 0.02)


def echo_goes_on(relay, checks, after, packets=25):
    base = relay.count("from_server")
    try:
        wait_relay(relay, "from_server", base + packets, f"{packets} more echoed packets")
        checks.expect(True, f"the echo goes on after {after} ({packets} more packets)")
    except h.Failure as e:
        checks.expect(False, f"the echo goes on after {after}: {e}")


def wait_echo_drained(relay):
    """After the sender stopped: wait until no echo has come for 0.2 s, so the receiver records the tail."""
    last = [relay.count("from_server"), time.monotonic()]

    def quiet():
        now = relay.count("from_server")
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - last[1] >= 0.2
    h.poll_until(quiet, STAGE_TIMEOUT_S, "the echo to stop after the sender did", 0.05)


def stage(server, relay, checks, name, counter, kind, relay_key):
    """Ask the relay for INJECTED packets of `kind`, then expect `counter` to grow by INJECTED."""
    before = counters(server)
    target = relay.count(relay_key) + INJECTED
    relay.request(kind, INJECTED)
    wait_relay(relay, relay_key, target, f"the relay to inject {INJECTED} {kind} packets")
    grown = wait_growth(server, counter, before, INJECTED)
    after = server.last_status
    others = ", ".join(f"{c} +{after[c] - before[c]}" for c in COUNTERS if c != counter)
    checks.expect(grown >= INJECTED, f"{name}: {counter} grew by {grown} (>= {INJECTED}); {others}")
    echo_goes_on(relay, checks, name)


def start_receiver(suite, key, relay, port, outdir):
    wav = os.path.join(outdir, f"{suite.case}-echo.wav")
    log = os.path.join(outdir, f"{suite.case}-receiver.log")
    pt, ssrc = relay.server_pt_ssrc
    proc = h.spawn(receiver_command(suite, key, ssrc, relay.roc(), port, wav), log)
    h.poll_until(lambda: h.file_has(log, "Setting pipeline to PLAYING") or proc.poll() is not None,
                 STAGE_TIMEOUT_S, "the receiver pipeline to play", 0.05)
    if proc.poll() is not None:
        raise h.Failure(f"the gst-launch receiver exited ({proc.returncode}); see {log}")
    return proc, wav, log


def check_recording(wav, checks):
    try:
        audible = media_checks.audible_seconds(wav)
        dominant = media_checks.dominant_frequency(wav)
        level = media_checks.tone_energy_db(wav, TONE_HZ)
    except (OSError, ValueError) as e:
        checks.expect(False, f"the recording {wav} can be read: {e}")
        return
    checks.expect(audible >= MIN_AUDIO_S, f"the recording holds {audible:.2f} s of audio (>= {MIN_AUDIO_S:g} s)")
    ok = dominant is not None and abs(dominant - TONE_HZ) <= TONE_TOLERANCE * TONE_HZ
    shown = f"{dominant:.1f} Hz" if dominant is not None else "none"
    checks.expect(ok, f"the echo's dominant frequency is {shown} (440 Hz +- 2 %); tone level {level:.1f} dBFS")


def run_media(server, suite, call_sockets, keys, server_media, outdir, checks):
    """Everything between the ACK and the BYE: peers, relay, injections, the recording."""
    phone, phone_rtcp, inlet, foreign = call_sockets
    receiver_port = h.free_port(tcp=False)
    relay = Relay(phone, phone_rtcp, inlet, foreign, server_media, receiver_port)
    relay.start()
    our_key, server_key = keys
    ssrc = random.randrange(1, 1 << 32)
    seq_start = suite.seq_start if suite.seq_start is not None else random.randrange(0, 30000)
    sender_log = os.path.join(outdir, f"{suite.case}-sender.log")
    sender = receiver = None
    try:
        sender = h.spawn(sender_command(suite, our_key, ssrc, seq_start, inlet.getsockname()[1]), sender_log)
        try:
            wait_relay(relay, "from_server", 1, "the first echoed packet", CALL_TIMEOUT_S)
        except h.Failure as e:
            n = {k: relay.count(k) for k in relay.n}
            raise h.Failure(f"{e}; relay {n}; server {counters(server)}") from None
        pt, server_ssrc = relay.server_pt_ssrc
        print(f"  sender ssrc {ssrc:#010x} seq from {seq_start}; echo ssrc {server_ssrc:#010x} pt {pt}", flush=True)
        checks.expect(pt == 0 and server_ssrc != ssrc, "the echo is PCMU (pt 0) under an SSRC of the server")
        receiver, wav, receiver_log = start_receiver(suite, server_key, relay, receiver_port, outdir)
        echo_goes_on(relay, checks, "the receiver started", packets=50)
        stage(server, relay, checks, "foreign source", "media_dropped_source", "divert", "diverted")
        stage(server, relay, checks, "replay", "media_dropped_replay", "replay", "replayed")
        stage(server, relay, checks, "forged", "media_dropped_auth", "forge", "forged")
        if suite.seq_start is not None:  # this case exists to step the rollover counter mid-call
            wait_relay(relay, "wraps", 1, "the echo's sequence number to wrap", WRAP_AFTER_S + STAGE_TIMEOUT_S)
        echo_goes_on(relay, checks, "the injections", packets=50)
        status = counters(server)
        checks.expect(status.get("dialogs") == 1, f"the call is still up (dialogs {status.get('dialogs')})")
        checks.expect(sender.poll() is None, "the sender ran until the checks were done")
        checks.expect(finish_gst(sender, "the sender", sender_log) == 0, "the sender stopped cleanly")
        wait_echo_drained(relay)
        checks.expect(finish_gst(receiver, "the receiver", receiver_log) == 0, "the receiver stopped cleanly")
        receiver = None
        check_recording(wav, checks)
        n = {k: relay.count(k) for k in relay.n}
        print(f"  relay: {n}", flush=True)
        checks.expect(n["echo_mismatch"] == 0, f"every echo kept our sequence number and timestamp "
                      f"({n['echo_mismatch']} did not)")
        checks.expect(n["echo_duplicate"] == 0 and n["echo_of_diverted"] == 0,
                      f"no replayed, forged or foreign packet was echoed ({n['echo_duplicate']} duplicates, "
                      f"{n['echo_of_diverted']} diverted)")
        checks.expect(n["to_foreign"] == 0, f"nothing was sent to the foreign socket ({n['to_foreign']})")
        checks.expect(n["from_stranger"] == 0, f"nothing reached P from anyone but the server "
                      f"({n['from_stranger']})")
    finally:
        for proc in (sender, receiver):
            if proc is not None:
                h.stop_process(proc)
        relay.stop()


def run_case(server, suite, outdir, checks):
    print(f"--- {suite.case}", flush=True)
    port = h.free_consecutive_ports(2)  # P and P+1: RTCP comes to P+1 without rtcp-mux (RFC 3605 default)
    sockets = [udp_socket(port), udp_socket(port + 1), udp_socket(), udp_socket()]
    sip = h.UdpPeer()
    call = Call(server, sip)
    try:
        key = os.urandom(suite.key_len)
        ok = call.invite(sdp_offer(port, suite, key))
        server_media, server_key = parse_answer(ok.body, suite, checks)
        print(f"  200 OK: media at {server_media[0]}:{server_media[1]}", flush=True)
        checks.expect(server_media[0] == "127.0.0.1", f"answer's c= is 127.0.0.1 ({server_media[0]})")
        try:
            run_media(server, suite, sockets, (key, server_key), server_media, outdir, checks)
        finally:
            checks.expect(call.bye() == 200, "BYE answered 200")
    finally:
        sip.close()
        for sock in sockets:
            sock.close()
    status = server.wait_quiescent()
    print(f"  quiescent: {dict((k, status[k]) for k in COUNTERS)}", flush=True)


def body(args):
    ciphers = require_gstreamer()
    suites = [s for s in SUITES if args.only is None or args.only in s.case]
    if not suites:
        raise h.Skip(f"--only {args.only} matches no case")
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    for suite in suites:
        if suite.cipher not in ciphers:
            print(f"--- {suite.case}: skipped, srtpenc offers no {suite.cipher}", flush=True)
            continue
        run_case(server, suite, args.output_dir, checks)
    return checks.failures


# ---------------------------------------------------------------------------------------------
# A private network namespace with only loopback.

def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help="run the case whose name contains this (aes_cm, gcm)")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "for a loopback-only namespace")


if __name__ == "__main__":
    sys.exit(main())
