"""The pieces bench/video_mcu.py measures with: the clips and their replayer, the counting receivers,
the latency probe, the SIP calls into room `bench`, and the report's tables.

    record_clip, Clip       a videotestsrc clip encoded once (vp8enc, rtpvp8pay, rtpstreampay) and read
                            back as RTP packets grouped into frames, key frames marked
    Replayer, Stream        one thread pacing every sender's frames at 30 fps on absolute deadlines, with
                            its own SSRC, sequence numbers, timestamps and PictureIDs; a PLI or FIR makes
                            a sender jump to the clip's next key frame; the red marker on request
    Receivers, Sink         one thread counting what every receiver socket gets (packets, frames by
                            marker bit, sequence gaps, RTCP, foreign SSRCs), optionally forwarding it
    Probe, measure_latency  gst-launch decoding one output to small RGB frames; red marker → red tile 0
    PlainVideoCall, make_room   a plain VP8 `m=video` SIP dialog (sendonly or recvonly); the mcu room over REST
    runs_table, latency_table, threads_table, checks   the printed report

Everything started is stopped by PID (stop_process).
"""

import json
import os
import random
import re
import selectors
import signal
import socket
import statistics
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

from media_pps import SdesCall

WIDTH, HEIGHT, FPS = 1280, 720, 30
TICKS_PER_FRAME = 90_000 // FPS  # RFC 7741 §6.1: VP8 over RTP runs on a 90 kHz clock
PT = 96
CLIP_FRAMES = 300  # 10 s
MARK_FRAMES = 10  # the red marker: 333 ms, so an output well under 30 fps still shows it
ROOM = "bench"
RTP_CAPS = f"application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload={PT}"
ENCODE = ["deadline=1", "cpu-used=8", "end-usage=cbr", "target-bitrate=1500000"]  # chorusd's class encoder too
SUSTAINED_SHARE = 0.95  # 720p30 counts as sustained when the slowest receiver got ≥ 95% of 30 fps
FLAT_LIMIT = 1.10
RATIO_TARGET = 1.0
PROBE_W, PROBE_H = 128, 72  # the probe's frames: a tenth of the composite each way
# Tile 0's centre, in composite pixels: inside tile 0 for every grid chorusd uses (its smallest, 4x4,
# is 320x180 at the origin) and above the name label along a tile's bottom edge.
PROBE_REGION = (100, 50, 220, 130)
MARK_WAIT_S = 3.0
FIRST_FRAME_WAIT_S = 8.0  # the baseline's encoder makes a key frame every 128 frames (4.3 s)
MEDIA_SOCKET_BUFFER = 1 << 20


# ---------------------------------------------------------------------------------------------
# The clips: recorded once, then replayed.

class Clip:
    """Recorded RTP packets grouped into frames (consecutive packets with one timestamp), with which
    frames are VP8 key frames and where each packet's 15-bit PictureID sits."""

    def __init__(self, name, packets):
        self.name = name
        self.frames = []  # [[(packet bytes, PictureID offset or 0)]]
        self.keyframe = []
        timestamp = None
        for packet in packets:
            if len(packet) < 13 or packet[0] >> 6 != 2 or packet[0] & 0x1F:
                raise RuntimeError(f"{name}: unexpected RTP packet layout (CSRCs or an extension)")
            ts = struct.unpack_from("!I", packet, 4)[0]
            if ts != timestamp:
                self.frames.append([])
                self.keyframe.append(starts_keyframe(packet[12:]))
                timestamp = ts
            self.frames[-1].append((packet, picture_id_offset(packet)))
        if not self.frames or not self.keyframe[0]:
            raise RuntimeError(f"{name}: no frames, or the first is not a key frame")
        # next_key[i]: the first key frame at or after frame i, wrapping to 0 (a key frame).
        self.next_key = [0] * len(self.frames)
        following = 0
        for i in range(len(self.frames) - 1, -1, -1):
            if self.keyframe[i]:
                following = i
            self.next_key[i] = following

    def describe(self):
        packets = sum(len(f) for f in self.frames)
        octets = sum(len(p) for f in self.frames for p, _ in f)
        return (f"{len(self.frames)} frames, {sum(self.keyframe)} key frames, {packets} packets, "
                f"{8 * octets * FPS / len(self.frames) / 1000:.0f} kbit/s at {FPS} fps")


def vp8_descriptor_length(payload):
    """RFC 7741 §4.2: X R N S R PID, then with X an I L T K byte, I's 7- or 15-bit PictureID,
    L's TL0PICIDX and a T/K byte."""
    length = 1
    if payload[0] & 0x80:
        flags = payload[1]
        length = 2
        if flags & 0x80:
            length += 2 if payload[2] & 0x80 else 1
        if flags & 0x40:
            length += 1
        if flags & 0x30:
            length += 1
    return length


def starts_keyframe(payload):
    """The payload starts partition 0 of a frame (S=1, PID=0) whose RFC 6386 §9.1 frame tag says key."""
    offset = vp8_descriptor_length(payload)
    return bool(payload[0] & 0x10) and payload[0] & 0x07 == 0 and len(payload) > offset and not payload[offset] & 0x01


def picture_id_offset(packet):
    """Where a 15-bit PictureID sits in the packet (rtpvp8pay picture-id-mode=15-bit), else 0."""
    payload = packet[12:]
    if payload[0] & 0x80 and payload[1] & 0x80 and payload[2] & 0x80:
        return 14
    return 0


def record_clip(workdir, name, source, frames):
    """Encodes `frames` frames of `source` (a videotestsrc with its properties) once, as the senders
    would, into RFC 4571 framing (rtpstreampay: a 16-bit length before each packet) and reads it back."""
    path = os.path.join(workdir, f"{name}.rtp")
    cmd = ["gst-launch-1.0", "-q", *source, f"num-buffers={frames}", "is-live=false", "!",
           f"video/x-raw,format=I420,width={WIDTH},height={HEIGHT},framerate={FPS}/1", "!",
           "vp8enc", *ENCODE, "keyframe-max-dist=30", "!",
           "rtpvp8pay", f"pt={PT}", "mtu=1200", "picture-id-mode=15-bit", "!", "rtpstreampay", "!",
           "filesink", f"location={path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"recording {name} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    with open(path, "rb") as f:
        data = f.read()
    packets, offset = [], 0
    while offset + 2 <= len(data):
        length = struct.unpack_from("!H", data, offset)[0]
        packets.append(data[offset + 2:offset + 2 + length])
        offset += 2 + length
    return Clip(name, packets)


# ---------------------------------------------------------------------------------------------
# Senders: one thread replays the clips for all of them.

def media_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, MEDIA_SOCKET_BUFFER)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


class Stream:
    """One sender's RTP stream: its socket (bound where its SDP says), destination, SSRC, sequence
    number, timestamp and PictureID, where it is in the clip, and what it sent and was asked for."""

    def __init__(self, sock, dest, start_tick):
        self.sock = sock
        self.dest = dest
        self.start_tick = start_tick
        self.ssrc = random.randrange(1, 1 << 32)
        self.seq = random.randrange(1 << 16)
        self.timestamp = random.randrange(1 << 32)
        self.picture_id = random.randrange(1 << 15)
        self.position = 0
        self.keyframe_wanted = False
        self.mark_requested = False  # the main thread asks for the red marker
        self.mark_position = None  # where in the marker clip, while it plays
        self.mark_sent_at = []  # monotonic time of each marker key frame's first packet
        self.packets = self.octets = self.frames = 0
        self.plis = self.firs = self.rtcp = self.jumps = self.send_errors = 0


class Replayer(threading.Thread):
    """Paces every stream's frames at FPS on absolute deadlines, all packets of a frame together;
    reads the RTCP the streams get (PLI/FIR: jump to the next key frame). When it falls more than 5
    frames behind (the driver was descheduled) it skips ahead rather than bursting; those are counted."""

    def __init__(self, clip, marker, streams):
        super().__init__(name="replayer", daemon=True)
        self.clip, self.marker, self.streams = clip, marker, streams
        self.stop_event = threading.Event()
        self.ticks = self.late_ticks = self.skipped_ticks = 0
        self.max_late_s = 0.0
        self.error = None

    def run(self):
        try:
            self._loop()
        except Exception as e:  # reported by the main thread
            self.error = repr(e)

    def _loop(self):
        period = 1.0 / FPS
        start = time.monotonic() + 0.02
        tick = 0
        while not self.stop_event.is_set():
            deadline = start + tick * period
            now = time.monotonic()
            if deadline > now:
                time.sleep(deadline - now)
            else:
                late = now - deadline
                self.max_late_s = max(self.max_late_s, late)
                if late > 0.010:
                    self.late_ticks += 1
                if late > 5 * period:
                    skip = int(late / period)
                    self.skipped_ticks += skip
                    tick += skip
            self._read_feedback()
            for stream in self.streams:
                if tick >= stream.start_tick:
                    self._send_frame(stream)
            tick += 1
            self.ticks += 1

    def _read_feedback(self):
        """RTCP sent to the senders (RFC 5761 mux): RFC 4585 §6.3.1 PLI (PSFB FMT 1) and RFC 5104
        §4.3.1 FIR (PSFB FMT 4) ask for a key frame."""
        for stream in self.streams:
            while True:
                try:
                    data = stream.sock.recv(65535)
                except (BlockingIOError, InterruptedError, OSError):  # OSError: an ICMP error of an earlier send
                    break
                stream.rtcp += 1
                offset = 0
                while offset + 4 <= len(data):
                    fmt, pt = data[offset] & 0x1F, data[offset + 1]
                    if pt == 206 and fmt in (1, 4):
                        stream.keyframe_wanted = True
                        if fmt == 1:
                            stream.plis += 1
                        else:
                            stream.firs += 1
                    offset += 4 * (struct.unpack_from("!H", data, offset + 2)[0] + 1)

    def _send_frame(self, stream):
        if stream.mark_requested and stream.mark_position is None:
            stream.mark_requested = False
            stream.mark_position = 0
        if stream.mark_position is not None:
            packets = self.marker.frames[stream.mark_position]
            if stream.mark_position == 0:
                stream.mark_sent_at.append(time.monotonic())
            stream.mark_position += 1
            if stream.mark_position >= len(self.marker.frames):
                stream.mark_position = None
                stream.position = 0  # back on the senders' clip at its first key frame
        else:
            if stream.keyframe_wanted:
                stream.keyframe_wanted = False
                if not self.clip.keyframe[stream.position]:
                    stream.position = self.clip.next_key[stream.position]
                    stream.jumps += 1
            packets = self.clip.frames[stream.position]
            stream.position = (stream.position + 1) % len(self.clip.frames)
        for template, pid_offset in packets:
            buf = bytearray(template)  # the marker bit and payload type stay the recording's
            struct.pack_into("!HII", buf, 2, stream.seq, stream.timestamp, stream.ssrc)
            if pid_offset:
                struct.pack_into("!H", buf, pid_offset, 0x8000 | stream.picture_id)
            try:
                stream.sock.sendto(buf, stream.dest)
                stream.packets += 1
                stream.octets += len(buf)
            except OSError:
                stream.send_errors += 1
            stream.seq = (stream.seq + 1) & 0xFFFF
        stream.timestamp = (stream.timestamp + TICKS_PER_FRAME) & 0xFFFFFFFF
        stream.picture_id = (stream.picture_id + 1) & 0x7FFF
        stream.frames += 1

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5)

    def stats(self):
        return {"ticks": self.ticks, "late_ticks": self.late_ticks, "skipped_ticks": self.skipped_ticks,
                "max_late_ms": round(1000 * self.max_late_s, 1),
                "frames": sum(s.frames for s in self.streams), "packets": sum(s.packets for s in self.streams),
                "plis": sum(s.plis for s in self.streams), "firs": sum(s.firs for s in self.streams),
                "jumps": sum(s.jumps for s in self.streams), "send_errors": sum(s.send_errors for s in self.streams)}


def start_ticks(count):
    """Sender j starts FPS·j/count frames after sender 0: the key frames spread over the second."""
    return [FPS * j // count for j in range(count)]


# ---------------------------------------------------------------------------------------------
# Receivers: one thread counts what every receiver socket gets.

class Sink:
    """A counting receiver: packets, octets, frames (marker bits), sequence gaps, RTCP, packets
    under another SSRC than expected; optionally forwards its RTP to the latency probe."""

    def __init__(self, sock, expected_ssrc=None):
        self.sock = sock
        self.port = sock.getsockname()[1]
        self.expected_ssrc = expected_ssrc
        self.forward_to = None
        self.packets = self.octets = self.frames = self.gaps = self.rtcp = self.foreign = self.timestamps = 0
        self.last_seq = self.last_timestamp = None

    def counters(self):
        return (self.packets, self.octets, self.frames, self.gaps, self.rtcp, self.foreign, self.timestamps)


class Receivers(threading.Thread):
    def __init__(self, sinks):
        super().__init__(name="receivers", daemon=True)
        self.sinks = sinks
        self.selector = selectors.DefaultSelector()
        for sink in sinks:
            self.selector.register(sink.sock, selectors.EVENT_READ, sink)
        self.outlet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.stop_event = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop_event.is_set():
                for key, _ in self.selector.select(0.1):
                    self._drain(key.data)
        except Exception as e:  # reported by the main thread
            self.error = repr(e)

    def _drain(self, sink):
        while True:
            try:
                data = sink.sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # a pending socket error: read again at the next readiness
                return
            if len(data) < 12:
                continue
            if 64 <= data[1] & 0x7F <= 95:  # RFC 5761 §4: RTCP on the muxed port
                sink.rtcp += 1
                continue
            ssrc = int.from_bytes(data[8:12], "big")
            if sink.expected_ssrc is not None and ssrc != sink.expected_ssrc:
                sink.foreign += 1
                continue
            seq = (data[2] << 8) | data[3]
            if sink.last_seq is not None:
                step = (seq - sink.last_seq) & 0xFFFF
                if 1 < step < 0x8000:
                    sink.gaps += step - 1
            if sink.last_seq is None or 0 < ((seq - sink.last_seq) & 0xFFFF) < 0x8000:
                sink.last_seq = seq
            sink.packets += 1
            sink.octets += len(data)
            sink.frames += data[1] >> 7
            timestamp = data[4:8]
            if timestamp != sink.last_timestamp:  # a cross-check on the marker bits: frames by timestamp
                sink.timestamps += 1
                sink.last_timestamp = timestamp
            if sink.forward_to is not None:
                try:
                    self.outlet.sendto(data, sink.forward_to)
                except OSError:
                    pass

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5)
        self.selector.close()
        self.outlet.close()


# ---------------------------------------------------------------------------------------------
# The latency probe.

class Probe:
    """gst-launch decoding one VP8 RTP stream to small RGB frames on its stdout; a thread notes each
    frame's arrival and whether tile 0's centre is red."""

    def __init__(self, workdir):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log_path = os.path.join(workdir, f"probe-{self.port}.log")
        cmd = ["gst-launch-1.0", "-q", "udpsrc", "address=127.0.0.1", f"port={self.port}", "buffer-size=4194304",
               f"caps={RTP_CAPS}", "!",
               "rtpvp8depay", "wait-for-keyframe=true", "!", "vp8dec", "!", "videoscale", "!", "videoconvert", "!",
               f"video/x-raw,format=RGB,width={PROBE_W},height={PROBE_H}", "!", "fdsink", "fd=1", "sync=false"]
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log)
        self.frames = []  # (monotonic arrival, red)
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name="probe-reader", daemon=True)
        self.reader.start()

    def _read(self):
        size = PROBE_W * PROBE_H * 3
        x0, y0, x1, y1 = (v * PROBE_W // WIDTH for v in PROBE_REGION)
        while True:
            frame = self.proc.stdout.read(size)
            if not frame or len(frame) < size:
                return
            now = time.monotonic()
            sums, n = [0, 0, 0], 0
            for y in range(y0, y1):
                row = frame[(y * PROBE_W + x0) * 3:(y * PROBE_W + x1) * 3]
                sums[0] += sum(row[0::3])
                sums[1] += sum(row[1::3])
                sums[2] += sum(row[2::3])
                n += x1 - x0
            r, g, b = (v / n for v in sums)
            with self.lock:
                self.frames.append((now, r > 150 and g < 90 and b < 90))

    def snapshot(self, since=0):
        """The frames from index `since` on."""
        with self.lock:
            return self.frames[since:]

    def count(self):
        with self.lock:
            return len(self.frames)

    def stop(self):
        stop_process(self.proc)


def stop_process(proc, grace_s=5):
    """SIGTERM by PID, SIGKILL after grace_s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace_s)


def measure_latency(stream, probe, samples, kick=None):
    """Red marker → red tile 0 at the probe, `samples` times; {"samples": [ms], "note": ...}."""
    def wait(predicate, timeout_s):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            found = predicate()
            if found:
                return found
            time.sleep(0.002)
        return None

    time.sleep(1.0)  # gst-launch binds the probe's port
    for attempt in range(2):
        if kick:
            kick()  # a PLI: a key frame the probe can start on
        if wait(probe.snapshot, FIRST_FRAME_WAIT_S / (attempt + 1)):
            break
    else:
        return {"samples": [], "note": f"the probe decoded nothing: {read_text(probe.log_path)[-300:]}"}
    first = probe.count() - 1
    latencies, missed, note = [], 0, ""
    for _ in range(samples):
        if not wait(lambda: not probe.snapshot(probe.count() - 1)[0][1], MARK_WAIT_S):
            note = "tile 0 stayed red"
            break
        sent, seen_before = len(stream.mark_sent_at), probe.count()
        stream.mark_requested = True
        if not wait(lambda: len(stream.mark_sent_at) > sent, 1.0):
            note = "the replayer did not send the marker"
            break
        sent_at = stream.mark_sent_at[-1]
        seen = wait(lambda: next((t for t, red in probe.snapshot(seen_before) if red and t > sent_at), None),
                    MARK_WAIT_S)
        if seen is None:
            missed += 1  # the output skipped the marker (or took longer than MARK_WAIT_S)
            if missed >= 3:
                break
            continue
        latencies.append(round(1000 * (seen - sent_at), 2))
        time.sleep(0.2 + random.random() * 0.1)  # the marker ends; its phase against the output frames varies
    if missed:
        note = (note + "; " if note else "") + f"{missed} markers never shown within {MARK_WAIT_S:.0f} s"
    decoded = probe.snapshot(first)
    span = decoded[-1][0] - decoded[0][0] if len(decoded) > 1 else 0.0
    return {"samples": latencies, "missed": missed, "note": note,
            "probe_decoded_fps": round((len(decoded) - 1) / span, 1) if span else 0.0}


def percentile(values, p):
    """Nearest rank (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-p * len(ordered) // 100) - 1))]


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


# ---------------------------------------------------------------------------------------------
# chorusd: REST, SIP calls.

class PlainVideoCall(SdesCall):
    """A SIP dialog to room `bench` with one plain `m=video RTP/AVPF 96` VP8 section, sendonly (a
    sender) or recvonly (a receiver). media_pps.SdesCall carries the INVITE/ACK/BYE exchange; its SDES
    key is unused here."""

    def __init__(self, sip_port, direction, name):
        super().__init__(sip_port, "AES_CM_128_HMAC_SHA1_80")
        self.call_id = f"{uuid.uuid4()}@video-mcu"
        self.to = f"<sip:{ROOM}@127.0.0.1>"
        self.remote_target = f"sip:{ROOM}@127.0.0.1:{sip_port}"
        self.direction = direction
        self.name = name
        self.media = media_socket()  # bound before the offer names it: the port is ours
        self.rtp_port = self.media.getsockname()[1]
        self.ssrc = random.randrange(1, 1 << 32)
        self.server_ssrc = None  # the answer's a=ssrc: what chorusd sends a receiver under

    def offer(self):
        # RFC 7741 §6.1 VP8; RFC 4585 §4.2 PLI; RFC 5761 rtcp-mux; RFC 5576 our SSRC.
        return (f"v=0\r\no=bench {random.randrange(1, 1 << 31)} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                f"t=0 0\r\nm=video {self.rtp_port} RTP/AVPF {PT}\r\na=rtpmap:{PT} VP8/90000\r\n"
                f"a=rtcp-fb:{PT} nack pli\r\na=ssrc:{self.ssrc} cname:{self.name}@video-mcu\r\na=rtcp-mux\r\n"
                f"a={self.direction}\r\n").encode()

    def start(self):
        code, head, body = self._final(self._request("INVITE", self.remote_target, 1, self.offer()), 1, "INVITE")
        if code != 200:
            raise RuntimeError(f"INVITE ({self.name}) answered {code}:\n{head}")
        self.to = re.search(r"^(?:To|t):\s*(.+?)\s*$", head, re.M | re.I)[1]
        contact = re.search(r"^(?:Contact|m):\s*<?([^>;\s]+)", head, re.M | re.I)
        self.remote_target = contact[1] if contact else self.remote_target
        # RFC 3261 §13.2.2.4: the ACK of a 2xx is its own transaction, sent once here (loopback).
        self.sock.sendto(self._request("ACK", self.remote_target, 1), self.server)
        sdp = body.decode(errors="replace")
        parts = re.split(r"^(?=m=)", sdp, flags=re.M)
        video = next((p for p in parts[1:] if p.startswith("m=video")), None)
        port = int(re.match(r"m=video (\d+) ", video)[1]) if video else 0
        if port == 0:
            raise RuntimeError(f"{self.name}: chorusd refused the video section (port 0 or none): is it built "
                               f"with the video MCU, and is room {ROOM} in mode mcu?\n{sdp}")
        answered = {"sendonly": "recvonly", "recvonly": "sendonly"}[self.direction]
        if not re.search(rf"^a={answered}\s*$", video, re.M):
            raise RuntimeError(f"{self.name}: the answer's video section is not {answered}:\n{video}")
        ip = re.search(r"^c=IN IP4 (\S+)", video, re.M) or re.search(r"^c=IN IP4 (\S+)", parts[0], re.M)
        self.server_rtp = (ip[1], port)
        ssrc = re.search(r"^a=ssrc:(\d+) ", video, re.M)
        self.server_ssrc = int(ssrc[1]) if ssrc else None
        return self

    def send_pli(self):
        """RFC 4585 §6.3.1 from the receiver's own port (chorusd sends there): a key frame of its class."""
        if self.server_ssrc is not None:
            self.media.sendto(struct.pack("!BBHII", 0x81, 206, 2, self.ssrc, self.server_ssrc), self.server_rtp)

    def close(self):
        self.media.close()


def http(method, port, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def make_room(server, workdir):
    """POST /v1/rooms for room `bench` in mode mcu, with the admin token chorusd wrote at its start."""
    token_path = os.path.join(workdir, "var", "admin-token")
    body = {"id": ROOM, "name": ROOM, "dial_in_number": "7000", "mode": "mcu", "max_participants": 1000}
    end = time.monotonic() + 15
    while True:
        try:
            with open(token_path) as f:
                token = f.read().strip()
            status, text = http("POST", server.http_port, "/v1/rooms", token, body)
            if status == 201 and json.loads(text).get("mode") == "mcu":
                return
            raise RuntimeError(f"POST /v1/rooms answered {status}: {text[:500]}")
        except (FileNotFoundError, ConnectionError, urllib.error.URLError):
            if time.monotonic() > end:
                raise RuntimeError("chorusd's REST API did not come up (admin token or port)")
            time.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# Report.

def baseline_of(rows, senders):
    return next((r for r in rows if r["system"] == "baseline" and r["senders"] == senders and "error" not in r), None)


def runs_table(args, rows):
    lines = [f"{WIDTH}x{HEIGHT} VP8 at {FPS} fps in and out, {args.seconds:g} s window after {args.warmup:g} s; "
             f"CPUs {args.cpus} ({cpu_count(args.cpus)} cores) for the system measured; the driver (replayer, "
             f"receivers) shares them",
             "",
             "| system | senders | receivers | grid | fps sent per sender | fps min / median | kbit/s median "
             "| CPU-s per second | frames per CPU-s | vs baseline | lost packets | key frame requests to senders "
             "| MCU packets in / refused / out | driver CPU-s/s |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            reason = r["error"].strip().splitlines()[0][:200].replace("|", "/") if r["error"].strip() else "?"
            lines.append(f"| {r['system']} | {r['senders']} | {r['receivers']} | failed: {reason} |" + " |" * 10)
            continue
        base = baseline_of(rows, r["senders"])
        ratio = (f"{r['frames_per_cpu_s'] / base['frames_per_cpu_s']:.2f}"
                 if base and base["frames_per_cpu_s"] and r["system"] == "chorusd" else "—")
        counters = r.get("counters")
        mcu = "—" if counters is None else " / ".join(
            "n/a" if counters[c] is None else f"{counters[c]:,}"
            for c in ("video_mcu_packets_in", "video_mcu_packets_refused", "video_mcu_packets_out"))
        rep = r["replayer"]
        lines.append(f"| {r['system']} | {r['senders']} | {r['receivers']} | {r['grid']}x{r['grid']} | "
                     f"{r['sender_fps']:.1f} | {r['fps_min']:.1f} / {r['fps_median']:.1f} | {r['kbps_median']:,.0f} | "
                     f"{r['cpu_per_s']:.3f} | **{r['frames_per_cpu_s']:.1f}** | {ratio} | {r['gaps']:,} | "
                     f"{rep['plis'] + rep['firs']} | {mcu} | {r['driver_cpu_per_s']:.3f} |")
    notes = []
    for r in rows:
        if "error" in r:
            continue
        rep, what = r["replayer"], []
        if r["receivers_silent"]:
            what.append(f"{r['receivers_silent']} receivers got nothing")
        if r["foreign"]:
            what.append(f"{r['foreign']:,} packets under another SSRC than the answer's a=ssrc")
        if r["server_socket_drops"]:
            what.append(f"{r['server_socket_drops']:,} datagrams from the senders dropped by the system's sockets")
        if r["receiver_socket_drops"]:
            what.append(f"{r['receiver_socket_drops']:,} datagrams dropped by the receivers' sockets (driver too slow)")
        if rep["skipped_ticks"] or rep["late_ticks"] > rep["ticks"] // 100:
            what.append(f"replayer late {rep['late_ticks']} of {rep['ticks']} ticks (> 10 ms, max "
                        f"{rep['max_late_ms']:.0f} ms), {rep['skipped_ticks']} skipped")
        if r["fps_max"] > FPS * 1.03:
            what.append(f"a receiver got {r['fps_max']:.1f} fps, more than {FPS}: the system was catching up a "
                        f"backlog (slow start or starved of CPU); a longer --warmup or window evens it out")
        if rep["send_errors"]:
            what.append(f"{rep['send_errors']:,} send errors")
        if what:
            notes.append(f"- {r['system']} {r['senders']}x{r['receivers']}: " + "; ".join(what))
    if notes:
        lines += ["", "Warnings:"] + notes
    return "\n".join(lines)


def latency_table(rows, direct):
    base_p50 = percentile(direct["samples"], 50) if direct else None
    lines = ["Glass-to-glass: from the replayer sending sender 0's red key frame to the probe decoding a red "
             "tile 0; \"added\" subtracts the probe alone's p50 (replayer → probe, no server).", "",
             "| system | senders | receivers | samples | p50 / p99 (ms) | added p50 / p99 (ms) | probe decoded fps "
             "| note |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    if direct:
        lines.append(f"| probe alone | — | — | {len(direct['samples'])} | {fmt_ms(direct['samples'])} | — | "
                     f"{direct.get('probe_decoded_fps', 0):.1f} | {direct['note']} |")
    for r in rows:
        lat = r.get("latency")
        if lat is None:
            continue
        samples = lat["samples"]
        added = "—"
        if samples and base_p50 is not None:
            added = f"{percentile(samples, 50) - base_p50:.1f} / {percentile(samples, 99) - base_p50:.1f}"
        lines.append(f"| {r['system']} | {r['senders']} | {r['receivers']} | {len(samples)} | {fmt_ms(samples)} | "
                     f"{added} | {lat.get('probe_decoded_fps', 0):.1f} | {lat['note'].replace('|', '/')} |")
    return "\n".join(lines)


def fmt_ms(samples):
    return f"{percentile(samples, 50):.1f} / {percentile(samples, 99):.1f}" if samples else "—"


def threads_table(rows, top=10):
    """Each run's busiest thread groups (names with digits folded: one group per kind of GStreamer
    streaming thread, media-N for chorusd's worker), in CPU-s per second."""
    lines = [f"CPU-s per second by thread group (the {top} busiest; names with digits folded):", "",
             "| system | senders | receivers | thread groups |", "|---|---:|---:|---|"]
    for r in rows:
        if "error" in r:
            continue
        busiest = sorted(r["threads"].items(), key=lambda item: -item[1])[:top]
        lines.append(f"| {r['system']} | {r['senders']} | {r['receivers']} | "
                     + ", ".join(f"`{name}` {value:.3f}" for name, value in busiest) + " |")
    return "\n".join(lines)


def pair_ratios(rows, pairs, senders):
    """chorusd's frames per CPU-second over the baseline's, one ratio per measured pair: the first from
    the main runs (chorusd at its fewest receivers), then each --pairs extra."""
    ratios = []
    chorus = sorted((r for r in rows if r["system"] == "chorusd" and r["senders"] == senders and "error" not in r),
                    key=lambda r: r["receivers"])
    base = baseline_of(rows, senders)
    if chorus and base and base["frames_per_cpu_s"]:
        ratios.append(chorus[0]["frames_per_cpu_s"] / base["frames_per_cpu_s"])
    for pair in sorted({r["pair"] for r in pairs if r["senders"] == senders}):
        both = {r["system"]: r for r in pairs if r["senders"] == senders and r["pair"] == pair and "error" not in r}
        if "chorusd" in both and "baseline" in both and both["baseline"]["frames_per_cpu_s"]:
            ratios.append(both["chorusd"]["frames_per_cpu_s"] / both["baseline"]["frames_per_cpu_s"])
    return ratios


def checks(args, rows, pairs=()):
    """The issue's targets, each PASS or FAIL (or n/a when the runs for it are missing)."""
    chorus = [r for r in rows if r["system"] == "chorusd" and "error" not in r]
    out, cores = [], cpu_count(args.cpus)
    most = max(args.senders)
    for r in [r for r in chorus if r["senders"] == most]:
        ok = r["fps_min"] >= SUSTAINED_SHARE * FPS
        out.append(f"sustained 720p{FPS} with {most} senders, {plural(r['receivers'], 'receiver')}: "
                   f"{'PASS' if ok else 'FAIL'} (min {r['fps_min']:.1f} fps, median {r['fps_median']:.1f}; target "
                   f"≥ {SUSTAINED_SHARE * FPS:.1f}) at {r['cpu_per_s']:.2f} CPU-s per second, "
                   f"{100 * r['cpu_per_s'] / cores:.0f}% of {cores} cores")
    if not any(r["senders"] == most for r in chorus):
        out.append(f"sustained 720p{FPS} with {most} senders: n/a (no chorusd run)")
    for senders in args.senders:
        runs = sorted((r for r in chorus if r["senders"] == senders), key=lambda r: r["receivers"])
        if len(runs) < 2:
            out.append(f"flat cost, {senders} senders: n/a (needs two receiver counts)")
        else:
            lo, hi = runs[0], runs[-1]
            ratio = hi["cpu_per_s"] / lo["cpu_per_s"] if lo["cpu_per_s"] else float("inf")
            notes = ""
            if lo["frames_per_cpu_s"] and hi["frames_per_cpu_s"] and \
                    abs(hi["fps_median"] / lo["fps_median"] - 1) > 0.05:  # per second hides a slower output
                notes += (f"; but the outputs' fps differ ({lo['fps_median']:.1f} vs {hi['fps_median']:.1f}): per "
                          f"composited frame {1000 / lo['frames_per_cpu_s']:.1f} vs "
                          f"{1000 / hi['frames_per_cpu_s']:.1f} CPU-ms")
            if lo["grid"] != hi["grid"]:
                notes += (f"; the grids differ ({lo['grid']}x{lo['grid']} vs {hi['grid']}x{hi['grid']}: receivers "
                          f"are tiles too)")
            out.append(f"flat cost, {senders} senders: {'PASS' if ratio <= FLAT_LIMIT else 'FAIL'} "
                       f"({hi['cpu_per_s']:.3f} CPU-s/s at {plural(hi['receivers'], 'receiver')} / "
                       f"{lo['cpu_per_s']:.3f} "
                       f"at {lo['receivers']} = {ratio:.3f}; target ≤ {FLAT_LIMIT:.2f}){notes}")
        base = baseline_of(rows, senders)
        ratios = pair_ratios(rows, pairs, senders)
        if not runs or not base or not ratios:
            out.append(f"frames per CPU-second vs baseline, {senders} senders: n/a (needs both systems)")
        else:
            ratio = statistics.median(ratios)
            over = (f"median of {len(ratios)} alternated pairs ({', '.join(f'{r:.2f}' for r in ratios)}): "
                    if len(ratios) > 1 else "")
            out.append(f"frames per CPU-second vs baseline, {senders} senders: "
                       f"{'PASS' if ratio >= RATIO_TARGET else 'FAIL'} "
                       f"(chorusd at {plural(runs[0]['receivers'], 'receiver')} "
                       f"{runs[0]['frames_per_cpu_s']:.1f}, baseline {base['frames_per_cpu_s']:.1f}; "
                       f"{over}{ratio:.2f}; target ≥ {RATIO_TARGET:.1f})")
    if not args.latency_samples:
        out.append("glass-to-glass latency: not measured (--latency-samples 0)")
    return "\n".join(out)


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def cpu_count(cpus):
    count = 0
    for part in cpus.split(","):
        lo, _, hi = part.partition("-")
        count += int(hi or lo) - int(lo) + 1
    return count
