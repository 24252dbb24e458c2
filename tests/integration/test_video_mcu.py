#!/usr/bin/env python3
"""Video MCU: a room in `mcu` mode decodes every sender's VP8 and sends each receiver one composed
1280x720 picture; the picture follows the layout asked for over REST, and a receiver's PLI gets a key frame.

Set-up (one chorusd, `--media-timeout 120` because the viewer never sends RTP):
  * Room `mcutest` is made over REST with `"mode": "mcu"`.
  * Three Python SIP UAs over UDP (one socket each) join in this order, each after the previous one's
    200: RED and BLUE offer `m=video ... a=sendonly`, VIEWER `a=recvonly`; every offer is VP8/90000
    as payload type 96 with `a=rtcp-mux` and `a=rtcp-fb:96 nack pli` / `ccm fir`, plus an `m=audio`
    PCMU sendrecv section on a socket kept open (silent) as a phone would have.
  * RED and BLUE are gst-launch senders (videotestsrc solid red / blue, 320x240 at 15 fps, vp8enc,
    rtpvp8pay) whose udpsink binds the port their SDP names, so chorusd sees the SDP address
    (symmetric RTP).
  * VIEWER's SDP port is a Python relay socket: it notes the arrival of every RTP packet and whether it
    starts a VP8 key frame (RFC 7741 §4.2 descriptor, then RFC 6386 §9.1 frame tag, start code and size),
    forwards the RTP to a gst-launch receiver (jitter buffer → vp8dec → RGB 320x180 at 5 fps →
    one raw file per frame), and sends PLIs from the same socket.
  * A watcher thread reads each complete frame file once and keeps the colour (a 5x5 mean) at the probe
    points of the layouts below, with the file's mtime (the wall-clock moment the receiver wrote it).

Checks (`--only grid|keyframe|layout` runs one; the set-up always runs):
  grid      within 15 s of VIEWER's ACK a frame shows the 2x2 grid of 3 members in join order: tile 0
            red, tile 1 blue, tile 2 (VIEWER, no video) dark, tile 3 (nobody) black; in that frame
            RED's and BLUE's 4:3 pictures keep their shape in their 16:9 tiles: the colour 20 % in
            from both sides, the tile's dark placeholder in the side bars 5 % in (a 4:3 picture fitted
            into 16:9 leaves 12.5 % each side; a stretched face is worse than bars). The composite is RTP payload type 96
            under the SSRC of the answer's a=ssrc, and its key frames are 1280x720. Its frame rate
            (pictures a second, median RTP timestamp step) is printed, not checked: it depends on the CPU.
  keyframe  3 times, at least 1.2 s apart and each once no key frame came for 1 s: VIEWER sends a PLI
            (RFC 4585 §6.3.1, media SSRC = chorusd's) and a key frame starts arriving within 500 ms.
            (With the PLI not sent, or naming another SSRC, no key frame comes: the encoder's own
            interval is >= 5 s.)
  layout    PATCH /v1/conferences/mcutest {"layout": "speaker"} → 200 with "layout": "speaker", and a
            frame written within 1 s of that 200 shows the speaker layout (RED large: nothing is pinned
            and nobody sends audio, so no one is the active speaker and the first member is large;
            BLUE and VIEWER in a centred filmstrip of 2; black beside the large tile). Then
            {"layout": "grid", "pinned_participant": BLUE's id} → BLUE in tile 0, RED in tile 1 within
            1 s. GET /v1/conferences/mcutest shows "layout": "grid", and the event stream carried
            `layout.changed`. Only frames written after the PATCH's 200 count; the measured switch time
            includes the receiver's own latency (100 ms jitter buffer, 5 fps sampling), so it is an upper
            bound on chorusd's.
Then all three hang up (BYE → 200) and chorusd returns to no transactions, dialogs or media ports.

Geometry (1280x720; the frames are read at a quarter of that, 320x180): grid of n members is 1x1, 2x2,
3x3 or 4x4, cell = (1280/cols, 720/rows) rounded down to even, member i at column i % cols, row
i // cols. Speaker: the large tile is the largest 16:9 rectangle in 1280x600 (1066x600 at x 106, y 0),
the filmstrip's k tiles are 212x120 at y 600, centred as a group (x0 = even_floor((1280 - 212k) / 2)).

The test runs in a private network namespace with only loopback (it re-executes itself under
`unshare -n`) and skips when that is not allowed or GStreamer's tools/elements are missing.
By hand: `python3 tests/integration/test_video_mcu.py --chorusd build/bin/chorusd [--only layout]`.
Frames that matched (or the last one seen, when none did) are kept as .ppm files in the output folder.
"""

import collections
import json
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

TEST = "test_video_mcu"
ROOM = "mcutest"
MEDIA_TIMEOUT_S = 120  # VIEWER never sends RTP; the default inactivity timeout would end its call

# The composite as chorusd sends it, and the frames as the receiver writes them (a quarter of it).
OUT_W, OUT_H = 1280, 720
FRAME_W, FRAME_H = 320, 180
FRAME_BYTES = FRAME_W * FRAME_H * 3  # RGB, 960-byte rows: no padding to 4 bytes is needed
FRAME_FPS = 5
SCALE = OUT_W / FRAME_W

VP8_PT = 96
SENDER_W, SENDER_H, SENDER_FPS = 320, 240, 15
SENDER_MAX_S = 150  # num-buffers: the senders stop by themselves even if the test does not stop them
RED_ARGB, BLUE_ARGB = 0xFFFF0000, 0xFF0000FF  # videotestsrc's foreground-color is big-endian ARGB

CALL_TIMEOUT_S = 10.0
GRID_TIMEOUT_S = 15.0
FIRST_FRAME_KICK_S = 5.0  # no decoded frame this long after VIEWER's ACK: one PLI, said aloud
LAYOUT_SWITCH_S = 1.0
LAYOUT_WAIT_S = 5.0  # how long to look for the new layout at all (to report how late it was)
STEADY_FRAMES = 3  # frames after the switch that must show the new layout too
KEYFRAME_LATENCY_S = 0.5
PLI_ROUNDS = 3
PLI_SPACING_S = 1.2
QUIET_BEFORE_PLI_S = 1.0  # no key frame for this long before a PLI, so the one that follows is its answer
QUIET_WAIT_S = 8.0
FLOW_PACKETS = 30
EVENT_WAIT_S = 5.0
GST_READY_S = 10.0
FRAMES_KEPT = 100  # multifilesink max-files: 20 s of frames on disk; the watcher reads them as they come
RECENT_FRAMES = 30  # frames whose pixels the watcher keeps in memory (to save the one that matched)

GST_ELEMENTS = {  # element: Debian package
    "videotestsrc": "gstreamer1.0-plugins-base", "videoconvert": "gstreamer1.0-plugins-base",
    "videoscale": "gstreamer1.0-plugins-base", "videorate": "gstreamer1.0-plugins-base",
    "vp8enc": "gstreamer1.0-plugins-good", "vp8dec": "gstreamer1.0-plugins-good",
    "rtpvp8pay": "gstreamer1.0-plugins-good", "rtpvp8depay": "gstreamer1.0-plugins-good",
    "rtpjitterbuffer": "gstreamer1.0-plugins-good", "udpsrc": "gstreamer1.0-plugins-good",
    "udpsink": "gstreamer1.0-plugins-good", "multifilesink": "gstreamer1.0-plugins-good",
}


# ---------------------------------------------------------------------------------------------
# Layout geometry, in the composite's 1280x720 coordinates; probes are taken at a quarter of it.

def even_floor(value):
    return int(value) // 2 * 2


def grid_cells(members):
    """[(x, y, w, h)] of every cell of the grid for `members` (cols == rows for the grids chorusd uses)."""
    cols = 1 if members <= 1 else 2 if members <= 4 else 3 if members <= 9 else 4
    cell_w, cell_h = even_floor(OUT_W / cols), even_floor(OUT_H / cols)
    return [((i % cols) * cell_w, (i // cols) * cell_h, cell_w, cell_h) for i in range(cols * cols)]


STRIP_W, STRIP_H = even_floor(OUT_W / 6), even_floor(OUT_H / 6)  # 212 x 120
STRIP_Y = OUT_H - STRIP_H  # 600
LARGE_H = STRIP_Y
LARGE_W = even_floor(LARGE_H * 16 / 9)  # 1066
LARGE_X = even_floor((OUT_W - LARGE_W) / 2)  # 106


def filmstrip_cells(k):
    x0 = even_floor((OUT_W - k * STRIP_W) / 2)
    return [(x0 + j * STRIP_W, STRIP_Y, STRIP_W, STRIP_H) for j in range(k)]


def centre(rect):
    x, y, w, h = rect
    return x + w / 2, y + h / 2


GRID_3 = grid_cells(3)  # RED, BLUE, VIEWER, and one empty cell
STRIP_2 = filmstrip_cells(2)  # speaker layout: the two members who are not large
LARGE = (LARGE_X, 0, LARGE_W, LARGE_H)

# Probe points (1280x720 coordinates). The speaker probes are placed where the grid would show
# something else, so a grid frame can never pass for a speaker frame or the other way round.
PROBES = {
    "grid tile 0": centre(GRID_3[0]),
    "grid tile 1": centre(GRID_3[1]),
    "grid tile 2": centre(GRID_3[2]),
    "grid tile 3": centre(GRID_3[3]),
    # A 4:3 camera fitted into a 16:9 tile leaves side bars of 12.5 % each side: 20 % in from the sides
    # is inside the picture, 5 % in is in a bar (the tile's placeholder shows there).
    "grid tile 0 picture left": (GRID_3[0][0] + GRID_3[0][2] * 0.2, GRID_3[0][1] + GRID_3[0][3] * 0.2),
    "grid tile 0 picture right": (GRID_3[0][0] + GRID_3[0][2] * 0.8, GRID_3[0][1] + GRID_3[0][3] * 0.2),
    "grid tile 0 left bar": (GRID_3[0][0] + GRID_3[0][2] * 0.05, GRID_3[0][1] + GRID_3[0][3] * 0.5),
    "grid tile 1 right bar": (GRID_3[1][0] + GRID_3[1][2] * 0.95, GRID_3[1][1] + GRID_3[1][3] * 0.5),
    "speaker large centre": centre(LARGE),
    # The large tile's upper-right quarter: grid tile 1 (blue) is there in the grid.
    "speaker large upper right": (LARGE_X + LARGE_W * 3 / 4, LARGE_H / 4),
    "filmstrip tile 0": centre(STRIP_2[0]),
    "filmstrip tile 1": centre(STRIP_2[1]),
    # Left of the large tile: background in the speaker layout, grid tile 0 (red) in the grid.
    "speaker left bar": (LARGE_X / 2, LARGE_H / 2),
}
PATCH_RADIUS = 2  # 5x5 frame pixels around each probe; the smallest tile (filmstrip) is 53x30 of them


# ---------------------------------------------------------------------------------------------
# Colours (tolerant: VP8 at these rates, 4:2:0 chroma and two scalings blur the edges, not the centres).

def is_red(rgb):
    r, g, b = rgb
    return r > 180 and g < 70 and b < 70


def is_blue(rgb):
    r, g, b = rgb
    return b > 180 and r < 70 and g < 70


def is_dark(rgb):
    """A member without video: a plain dark tile (black would do too)."""
    return all(c < 90 for c in rgb)


def is_black(rgb):
    """The background: no cell, or outside every tile."""
    return all(c < 40 for c in rgb)


COLOUR_NAMES = {is_red: "red", is_blue: "blue", is_dark: "dark", is_black: "black"}

GRID_EXPECTED = {"grid tile 0": is_red, "grid tile 1": is_blue, "grid tile 2": is_dark, "grid tile 3": is_black}
SPEAKER_EXPECTED = {"speaker large centre": is_red, "speaker large upper right": is_red,
                    "filmstrip tile 0": is_blue, "filmstrip tile 1": is_dark, "speaker left bar": is_black}
GRID_FIT_EXPECTED = {"grid tile 0 picture left": is_red, "grid tile 0 picture right": is_red,
                     "grid tile 0 left bar": is_dark, "grid tile 1 right bar": is_dark}
PINNED_GRID_EXPECTED = {"grid tile 0": is_blue, "grid tile 1": is_red, "grid tile 2": is_dark,
                        "grid tile 3": is_black}


def describe_expected(expected):
    return ", ".join(f"{probe} {COLOUR_NAMES[test]}" for probe, test in expected.items())


def mean_rgb(frame, x, y):
    """The mean colour of the (2r+1)^2 frame pixels around (x, y), in frame coordinates."""
    sums, n = [0, 0, 0], 0
    for py in range(max(0, y - PATCH_RADIUS), min(FRAME_H, y + PATCH_RADIUS + 1)):
        for px in range(max(0, x - PATCH_RADIUS), min(FRAME_W, x + PATCH_RADIUS + 1)):
            i = (py * FRAME_W + px) * 3
            sums[0] += frame[i]
            sums[1] += frame[i + 1]
            sums[2] += frame[i + 2]
            n += 1
    return tuple(round(s / n) for s in sums)


def probe_frame(frame):
    """{probe name: (r, g, b)} of one raw RGB frame."""
    return {name: mean_rgb(frame, int(x / SCALE), int(y / SCALE)) for name, (x, y) in PROBES.items()}


def write_ppm(path, frame):
    """A raw RGB frame as a binary PPM (any image viewer opens it)."""
    with open(path, "wb") as f:
        f.write(f"P6\n{FRAME_W} {FRAME_H}\n255\n".encode() + frame)


# ---------------------------------------------------------------------------------------------
# RTP / RTCP / VP8 on the wire.

def is_rtcp(packet):
    """RFC 5761 §4: on a muxed port, RTCP's packet types (200-207 in use) read as RTP payload types in
    64-95, which RTP does not use there."""
    return len(packet) >= 2 and 64 <= (packet[1] & 0x7F) <= 95


def rtp_payload(packet):
    """(payload type, timestamp, ssrc, payload bytes) of an RTP v2 packet, or None (RFC 3550 §5.1)."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:  # header extension: 4 bytes plus its length in 32-bit words
        if len(packet) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack_from("!H", packet, offset + 2)[0]
    end = len(packet) - (packet[-1] if packet[0] & 0x20 else 0)
    if offset >= end:
        return None
    timestamp, ssrc = struct.unpack_from("!II", packet, 4)
    return packet[1] & 0x7F, timestamp, ssrc, packet[offset:end]


def vp8_keyframe_size(payload):
    """(width, height) when this RTP payload starts a VP8 key frame, else None.

    RFC 7741 §4.2: the payload descriptor's first byte is X R N S R PID; S=1 and PID=0 mark the
    start of a frame's first partition; X adds a byte of I L T K flags, then I's 7- or 15-bit picture
    ID, L's TL0PICIDX and a T/K byte. RFC 6386 §9.1: the frame tag's bit 0 is 0 on a key frame, which
    then carries the start code 9d 01 2a and 14-bit width and height."""
    if not payload:
        return None
    first = payload[0]
    start, partition = first & 0x10, first & 0x07
    i = 1
    if first & 0x80:
        if len(payload) < 2:
            return None
        flags = payload[1]
        i = 2
        if flags & 0x80:  # I: picture ID, 15 bits when its M bit is set
            if len(payload) <= i:
                return None
            i += 2 if payload[i] & 0x80 else 1
        if flags & 0x40:  # L: TL0PICIDX
            i += 1
        if flags & 0x30:  # T or K: TID/Y/KEYIDX
            i += 1
    if not start or partition != 0 or len(payload) < i + 10:
        return None
    header = payload[i:i + 10]
    if header[0] & 0x01 or header[3:6] != b"\x9d\x01\x2a":
        return None
    width, height = struct.unpack_from("<HH", header, 6)
    return width & 0x3FFF, height & 0x3FFF


def pli(sender_ssrc, media_ssrc):
    """RFC 4585 §6.3.1 Picture Loss Indication: V=2 FMT=1, PT=206 (PSFB), length 2, no FCI."""
    return struct.pack("!BBHII", 0x80 | 1, 206, 2, sender_ssrc, media_ssrc)


# ---------------------------------------------------------------------------------------------
# VIEWER's media: the relay, the receiver pipeline and the frame watcher.

def udp_socket(port=0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    return sock


class ViewerRelay(threading.Thread):
    """Reads what chorusd sends to VIEWER's SDP port: notes every RTP packet (and key frame starts),
    passes the RTP on to the gst receiver, counts RTCP; send_pli() uses the same socket, so chorusd
    sees the PLI come from the address it sends to."""

    def __init__(self, sock, receiver_port):
        super().__init__(name="viewer-relay", daemon=True)
        self.sock = sock
        self.outlet = udp_socket()
        self.receiver_addr = ("127.0.0.1", receiver_port)
        self.server_addr = None  # chorusd's video address, from VIEWER's answer
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.error = None
        self.rtp = self.rtcp = self.unparsable = self.from_stranger = 0
        self.strangers = set()  # addresses other than chorusd's answer that sent to VIEWER's port
        self.frames = 0  # distinct RTP timestamps: composed pictures
        self.last_timestamp = None
        self.timestamp_steps = []  # between consecutive pictures, in 90 kHz ticks (3000 at 30 fps)
        self.first_at = self.last_at = None
        self.keyframes = []  # (monotonic arrival, (width, height)) of every packet that starts a key frame
        self.payload_types, self.ssrcs = set(), set()

    def run(self):
        try:
            while not self.stop_event.is_set():
                readable, _, _ = select.select([self.sock], [], [], 0.05)
                if readable:
                    data, addr = self.sock.recvfrom(65535)
                    self._on_datagram(data, addr, time.monotonic())
        except Exception as e:  # reported by the main thread
            self.error = repr(e)

    def _on_datagram(self, data, addr, now):
        if self.server_addr is not None and addr != self.server_addr:
            with self.lock:
                self.from_stranger += 1
                if len(self.strangers) < 8:
                    self.strangers.add(addr)
            return
        if is_rtcp(data):
            # chorusd's SRs/feedback share the port (rtcp-mux). They are not passed on: the receiver
            # pipeline is RTP only and would read an SR as an RTP packet of payload type 72.
            with self.lock:
                self.rtcp += 1
            return
        fields = rtp_payload(data)
        if fields is None:
            with self.lock:
                self.unparsable += 1
            return
        self.outlet.sendto(data, self.receiver_addr)
        pt, timestamp, ssrc, payload = fields
        size = vp8_keyframe_size(payload) if pt == VP8_PT else None
        with self.lock:
            self.rtp += 1
            self.first_at = self.first_at or now
            self.last_at = now
            self.payload_types.add(pt)
            self.ssrcs.add(ssrc)
            if timestamp != self.last_timestamp:
                if self.last_timestamp is not None:
                    self.timestamp_steps.append((timestamp - self.last_timestamp) & 0xFFFFFFFF)
                self.frames += 1
                self.last_timestamp = timestamp
            if size is not None:
                self.keyframes.append((now, size))

    def send_pli(self, sender_ssrc, media_ssrc):
        """Sends one PLI to chorusd; the monotonic moment it left."""
        sent_at = time.monotonic()
        self.sock.sendto(pli(sender_ssrc, media_ssrc), self.server_addr)
        return sent_at

    def stats(self):
        with self.lock:
            span = (self.last_at - self.first_at) if self.first_at and self.last_at else 0.0
            return dict(rtp=self.rtp, rtcp=self.rtcp, unparsable=self.unparsable, from_stranger=self.from_stranger,
                        keyframes=len(self.keyframes), frames=self.frames,
                        fps=round(self.frames / span, 1) if span > 1 else None,
                        median_timestamp_step=sorted(self.timestamp_steps)[len(self.timestamp_steps) // 2]
                        if self.timestamp_steps else None,
                        payload_types=sorted(self.payload_types), ssrcs=sorted(self.ssrcs))

    def keyframes_after(self, moment):
        with self.lock:
            return [k for k in self.keyframes if k[0] > moment]

    def last_keyframe_at(self):
        with self.lock:
            return self.keyframes[-1][0] if self.keyframes else None

    def check_alive(self):
        if self.error:
            raise h.Failure(f"the viewer relay thread failed: {self.error}")

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5.0)
        self.outlet.close()


Frame = collections.namedtuple("Frame", "index mtime probes")


class FrameWatcher(threading.Thread):
    """Reads every frame file the receiver writes, once, as it is completed (the next file exists),
    and keeps its probe colours and mtime; the last RECENT_FRAMES frames keep their pixels too."""

    NAME = re.compile(r"frame-(\d+)\.rgb$")

    def __init__(self, folder):
        super().__init__(name="frame-watcher", daemon=True)
        self.folder = folder
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.frames = []
        self.pixels = collections.OrderedDict()  # index -> bytes, the most recent ones
        self.next_index = 0
        self.short_files = 0
        self.error = None

    def run(self):
        try:
            while not self.stop_event.wait(0.05):
                self._scan()
        except Exception as e:  # reported by the main thread
            self.error = repr(e)

    def _scan(self):
        indices = sorted(int(m.group(1)) for m in map(self.NAME.match, os.listdir(self.folder)) if m)
        if not indices:
            return
        newest = indices[-1]  # may still be being written: read it once a newer one exists
        for index in indices:
            if index < self.next_index or index >= newest:
                continue
            path = os.path.join(self.folder, f"frame-{index:05d}.rgb")
            try:
                mtime = os.stat(path).st_mtime_ns / 1e9
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:  # rotated away by max-files before we got to it
                continue
            if len(data) != FRAME_BYTES:
                self.short_files += 1
                continue
            frame = Frame(index, mtime, probe_frame(data))
            with self.lock:
                self.frames.append(frame)
                self.pixels[index] = data
                while len(self.pixels) > RECENT_FRAMES:
                    self.pixels.popitem(last=False)
        self.next_index = max(self.next_index, newest)

    def snapshot(self):
        if self.error:
            raise h.Failure(f"the frame watcher failed: {self.error}")
        with self.lock:
            return list(self.frames)

    def save(self, index, path):
        """Writes frame `index` (if still in memory) as a PPM; the path, or None."""
        with self.lock:
            data = self.pixels.get(index)
        if data is None:
            return None
        write_ppm(path, data)
        return path

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5.0)


def matches(frame, expected):
    return all(test(frame.probes[probe]) for probe, test in expected.items())


def show_probes(frame, expected):
    return ", ".join(f"{probe}={frame.probes[probe]}" for probe in expected)


# ---------------------------------------------------------------------------------------------
# GStreamer peers.

def require_gstreamer():
    h.require_binary("gst-launch-1.0", "gstreamer1.0-tools")
    inspect = h.require_binary("gst-inspect-1.0", "gstreamer1.0-tools")
    for element, package in GST_ELEMENTS.items():
        probe = subprocess.run([inspect, "--exists", element], capture_output=True, timeout=60)
        if probe.returncode != 0:
            raise h.Skip(f"GStreamer element {element} is missing (Debian package {package})")


def sender_command(colour_argb, ssrc, local_port, server_port):
    """A solid-colour camera, VP8, to chorusd's video port from the port the caller's SDP names."""
    return ["gst-launch-1.0", "videotestsrc", "is-live=true", "pattern=solid-color",
            f"foreground-color={colour_argb:#010x}", f"num-buffers={SENDER_MAX_S * SENDER_FPS}", "!",
            f"video/x-raw,width={SENDER_W},height={SENDER_H},framerate={SENDER_FPS}/1", "!",
            # keyframe-max-dist 30: chorusd's decoder can (re)start within 2 s without asking us (the
            # sender cannot read the PLIs chorusd may send to its port).
            "vp8enc", "deadline=1", "keyframe-max-dist=30", "!",
            "rtpvp8pay", f"pt={VP8_PT}", f"ssrc={ssrc}", "!",
            "udpsink", "host=127.0.0.1", f"port={server_port}", "bind-address=127.0.0.1", f"bind-port={local_port}"]


def receiver_command(port, folder):
    caps = f"application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload={VP8_PT}"
    return ["gst-launch-1.0", "udpsrc", f"port={port}", "address=127.0.0.1", f"caps={caps}", "!",
            "rtpjitterbuffer", "latency=100", "!", "rtpvp8depay", "!", "vp8dec", "!",
            "videoconvert", "!", "videoscale", "!", f"video/x-raw,format=RGB,width={FRAME_W},height={FRAME_H}", "!",
            "videorate", "!", f"video/x-raw,framerate={FRAME_FPS}/1", "!",
            "multifilesink", f"location={os.path.join(folder, 'frame-%05d.rgb')}", f"max-files={FRAMES_KEPT}"]


def log_has(path, text):
    try:
        with open(path, "rb") as f:
            return text.encode() in f.read()
    except FileNotFoundError:
        return False


def log_tail(path, chars=1500):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-chars:]
    except FileNotFoundError:
        return "(no log)"


def start_gst(command, log_path, what):
    """gst-launch in the background; returns once it logs PLAYING (Failure if it exits first)."""
    proc = h.spawn(command, log_path)
    h.poll_until(lambda: log_has(log_path, "Setting pipeline to PLAYING") or proc.poll() is not None,
                 GST_READY_S, f"{what} to play", 0.05)
    if proc.poll() is not None:
        raise h.Failure(f"{what} exited ({proc.returncode}):\n{log_tail(log_path)}")
    return proc


# ---------------------------------------------------------------------------------------------
# SIP and SDP.

def sdp_offer(name, audio_port, video_port, direction, ssrc=None):
    lines = ["v=0", f"o={name} 4711 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
             f"m=audio {audio_port} RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendrecv",
             f"m=video {video_port} RTP/AVP {VP8_PT}", f"a=rtpmap:{VP8_PT} VP8/90000",
             f"a=rtcp-fb:{VP8_PT} nack pli", f"a=rtcp-fb:{VP8_PT} ccm fir", "a=rtcp-mux"]
    if ssrc is not None:  # RFC 5576: the sender names the SSRC it will send under
        lines.append(f"a=ssrc:{ssrc} cname:{name}@chorus-test")
    lines.append(f"a={direction}")
    return ("\r\n".join(lines) + "\r\n").encode()


def parse_sdp(body):
    """{"c": session address, "media": [{kind, port, proto, fmts, c, attrs: [(name, value)]}]}."""
    session = {"c": None, "media": []}
    current = None
    for line in body.decode("utf-8", "replace").splitlines():
        key, _, value = line.strip().partition("=")
        if key == "m":
            parts = value.split()
            current = {"kind": parts[0], "port": int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None,
                       "proto": parts[2] if len(parts) > 2 else "", "fmts": parts[3:], "c": None, "attrs": []}
            session["media"].append(current)
        elif key == "c":
            address = value.split()[-1] if value.split() else None
            if current is None:
                session["c"] = address
            else:
                current["c"] = address
        elif key == "a" and current is not None:
            name, _, attr_value = value.partition(":")
            current["attrs"].append((name, attr_value))
    return session


def attr_values(media, name):
    return [value for attr, value in media["attrs"] if attr == name]


def direction_of(media):
    for attr, _ in media["attrs"]:
        if attr in ("sendrecv", "sendonly", "recvonly", "inactive"):
            return attr
    return "sendrecv"  # RFC 4566 §6: the default


class Caller:
    """One participant: its own SIP socket, an audio socket kept open (silent), and a video port
    (a relay socket for VIEWER; a port the gst sender will bind for RED and BLUE)."""

    ANSWER_DIRECTION = {"sendonly": "recvonly", "recvonly": "sendonly", "sendrecv": "sendrecv"}  # RFC 3264 §6.1

    def __init__(self, server, name, direction, video_port, video_ssrc):
        self.server = server
        self.name = name
        self.direction = direction
        self.video_port = video_port
        self.video_ssrc = video_ssrc
        self.sip = h.UdpPeer()
        self.audio = udp_socket()  # chorusd's audio mix lands here, unread
        self.server_sip = ("127.0.0.1", server.sip_port)
        self.uri = f"sip:{ROOM}@127.0.0.1:{server.sip_port}"
        self.call_id = h.new_token(f"mcu-{name.lower()}-")
        self.ok = None
        self.video = None  # the answer's m=video section
        self.server_video = None  # (address, port) chorusd's video comes from / goes to
        self.server_ssrc = None  # the answer's a=ssrc: the SSRC chorusd sends this caller's video under

    def join(self, checks):
        """INVITE → 200 → ACK; Failure unless the answer takes our video."""
        offer = sdp_offer(self.name.lower(), self.audio.getsockname()[1], self.video_port, self.direction,
                          self.video_ssrc)
        via = f"SIP/2.0/UDP 127.0.0.1:{self.sip.port};branch={h.new_branch()};rport"
        request = h.build_request(
            "INVITE", self.uri, via=via, from_=f'"{self.name}" <sip:{self.name.lower()}@127.0.0.1>;tag={h.new_token()}',
            to=f"<{self.uri}>", call_id=self.call_id, cseq=1,
            contact=f"<sip:{self.name.lower()}@127.0.0.1:{self.sip.port}>", body=offer)
        self.sip.send(request, self.server_sip)
        final, _ = h.wait_final(self.sip, CALL_TIMEOUT_S, lambda m: m.call_id == self.call_id)
        if final is None:
            raise h.Failure(f"{self.name}: no final response to the INVITE to {self.uri} within {CALL_TIMEOUT_S:.0f} s")
        if final.code != 200:
            self.sip.send(h.ack_for_failure(h.parse_sip(request), final), self.server_sip)
            raise h.Failure(f"{self.name}: INVITE to {self.uri} got {final.summary()}, expected 200")
        self.ok = final
        self.sip.send(h.in_dialog_request("ACK", final, self.sip, 1), self.server_sip)
        self._read_answer(final.body, checks)

    def _read_answer(self, body, checks):
        sdp = parse_sdp(body)
        videos = [m for m in sdp["media"] if m["kind"] == "video"]
        if not videos or not videos[0]["port"]:
            raise h.Failure(f"{self.name}: chorusd answered m=video with port 0 or not at all, so the mcu room "
                            f"does not take video (is the video MCU in this chorusd?):\n"
                            f"{body.decode('utf-8', 'replace')}")
        self.video = videos[0]
        address = self.video["c"] or sdp["c"]
        self.server_video = (address, self.video["port"])
        rtpmaps = attr_values(self.video, "rtpmap")
        ssrcs = [v.split()[0] for v in attr_values(self.video, "ssrc") if v.split() and v.split()[0].isdigit()]
        self.server_ssrc = int(ssrcs[0]) if ssrcs else None
        wanted = self.ANSWER_DIRECTION[self.direction]
        print(f"  {self.name}: 200, chorusd's video at {address}:{self.video['port']} "
              f"{self.video['proto']} {' '.join(self.video['fmts'])}, {direction_of(self.video)}, "
              f"ssrc {self.server_ssrc}", flush=True)
        checks.expect(address == "127.0.0.1", f"{self.name}: the answer's video address is 127.0.0.1 ({address})")
        checks.expect(self.video["fmts"] == [str(VP8_PT)] and f"{VP8_PT} VP8/90000" in rtpmaps,
                      f"{self.name}: the answer's video is payload type {VP8_PT} VP8/90000 "
                      f"(fmts {self.video['fmts']}, rtpmap {rtpmaps})")
        checks.expect(direction_of(self.video) == wanted,
                      f"{self.name}: the answer's video direction is {wanted} for our {self.direction} "
                      f"(got {direction_of(self.video)})")
        checks.expect(any(a == "rtcp-mux" for a, _ in self.video["attrs"]),
                      f"{self.name}: the answer accepts a=rtcp-mux (PLIs go to chorusd's RTP port)")
        if self.direction != "sendonly":
            checks.expect(self.server_ssrc is not None, f"{self.name}: the answer names chorusd's SSRC in a=ssrc")

    def hang_up(self):
        """BYE → its final code (None when nothing came)."""
        if self.ok is None:
            return None
        self.sip.send(h.in_dialog_request("BYE", self.ok, self.sip, 2), self.server_sip)
        final, others = h.wait_final(self.sip, CALL_TIMEOUT_S,
                                     lambda m: m.call_id == self.call_id and m.cseq == (2, "BYE"))
        for msg in others:
            if not msg.is_response:
                print(f"  {self.name}: chorusd sent {msg.summary()} during the call (not answered)", flush=True)
        self.ok = None
        return final.code if final else None

    def close(self):
        self.sip.close()
        self.audio.close()


# ---------------------------------------------------------------------------------------------
# REST.

def conference_participants(api):
    reply = api.get(f"/v1/conferences/{ROOM}/participants")
    return reply.json().get("items", []) if reply.status == 200 else []


def patch_layout(api, body, checks, label):
    """PATCH /v1/conferences/ROOM; the wall-clock moment its 200 arrived, or None when it was refused."""
    reply = api.request("PATCH", f"/v1/conferences/{ROOM}", body)
    done_at = time.time()
    layout = None
    if reply.status == 200:
        try:
            layout = reply.json().get("layout")
        except ValueError:
            pass
    ok = checks.expect(reply.status == 200 and layout == body["layout"],
                       f"{label}: PATCH /v1/conferences/{ROOM} {json.dumps(body)} → 200 with \"layout\": "
                       f"\"{body['layout']}\" ({reply.describe()[:300]})")
    return done_at if ok else None


def layout_events(stream):
    """data of every layout.changed event on the stream, as text (its shape beyond the type is not assumed)."""
    return [e.get("data", "") for e in stream.snapshot() if e.get("event") == "layout.changed"]


# ---------------------------------------------------------------------------------------------
# The checks.

class Session:
    """Everything the checks share: chorusd, REST, the three callers and VIEWER's media."""

    def __init__(self, server, api, outdir):
        self.server, self.api, self.outdir = server, api, outdir
        self.callers = []
        self.senders = []
        self.relay = self.watcher = self.receiver = None
        self.receiver_log = os.path.join(outdir, "viewer-receiver.log")
        self.viewer = None
        self.viewer_acked_at = None
        self.viewer_rtcp_ssrc = random.randrange(1, 1 << 32)
        self.media_ssrc = None


def join_all(session, checks):
    """RED, BLUE (each with its sender started right after its ACK), then VIEWER with its receiver ready."""
    server = session.server
    for name, colour in (("RED", RED_ARGB), ("BLUE", BLUE_ARGB)):
        ssrc = random.randrange(1, 1 << 32)
        caller = Caller(server, name, "sendonly", h.free_port(tcp=False), ssrc)
        session.callers.append(caller)
        caller.join(checks)
        log = os.path.join(session.outdir, f"{name.lower()}-sender.log")
        session.senders.append(start_gst(sender_command(colour, ssrc, caller.video_port, caller.server_video[1]),
                                         log, f"{name}'s gst sender"))

    # VIEWER: relay socket, receiver and watcher first, so the composite's first key frame is caught.
    frames_dir = os.path.join(session.outdir, "frames")
    shutil.rmtree(frames_dir, ignore_errors=True)  # a reused --output-dir: old frames would count
    os.makedirs(frames_dir)
    receiver_port = h.free_port(tcp=False)
    session.receiver = start_gst(receiver_command(receiver_port, frames_dir), session.receiver_log,
                                 "VIEWER's gst receiver")
    relay_sock = udp_socket()
    viewer = Caller(server, "VIEWER", "recvonly", relay_sock.getsockname()[1], None)
    session.viewer = viewer
    session.callers.append(viewer)
    session.relay = ViewerRelay(relay_sock, receiver_port)
    session.relay.start()
    session.watcher = FrameWatcher(frames_dir)
    session.watcher.start()
    viewer.join(checks)
    session.viewer_acked_at = time.monotonic()
    session.relay.server_addr = viewer.server_video
    session.media_ssrc = viewer.server_ssrc


def wait_stream(session):
    """The composite flows to VIEWER (FLOW_PACKETS RTP packets); Failure with what was seen otherwise."""
    relay = session.relay

    def flowing():
        relay.check_alive()
        return relay.stats()["rtp"] >= FLOW_PACKETS
    try:
        h.poll_until(flowing, 10.0, f"{FLOW_PACKETS} RTP packets of the composite at VIEWER's port", 0.05)
    except h.Failure as e:
        hint = ""
        if relay.from_stranger:  # RFC 4961: chorusd is expected to send from the port its answer names
            hint = (f"; {relay.from_stranger} datagrams came from {sorted(relay.strangers)}, not from the answer's "
                    f"{relay.server_addr} (not symmetric RTP?)")
        raise h.Failure(f"{e}; relay {relay.stats()}{hint}; status {session.server.status()}") from None
    stats = relay.stats()
    if session.media_ssrc is None and stats["ssrcs"]:
        session.media_ssrc = stats["ssrcs"][0]  # the answer named none (a failed check): PLI what we see


def wait_for_frame(session, expected, since_wall, timeout_s, label):
    """The first frame written at or after since_wall (wall clock) that matches `expected`, or None;
    prints the probes of the match, or of the last frame seen, and keeps it as <label>.ppm."""
    watcher = session.watcher
    found = [None]

    def probe():
        session.relay.check_alive()
        for frame in watcher.snapshot():
            if frame.mtime >= since_wall and matches(frame, expected):
                found[0] = frame
                return True
        return False
    try:
        h.poll_until(probe, timeout_s, label, 0.05)
    except h.Failure:
        pass
    frames = [f for f in watcher.snapshot() if f.mtime >= since_wall]
    shown = found[0] or (frames[-1] if frames else None)
    if shown is not None:
        saved = watcher.save(shown.index, os.path.join(session.outdir, f"{label.replace(' ', '-')}.ppm"))
        print(f"  {label}: frame #{shown.index} {'matches' if found[0] else 'is the last one seen'}: "
              f"{show_probes(shown, expected)}" + (f" (kept as {os.path.basename(saved)})" if saved else ""),
              flush=True)
    else:
        print(f"  {label}: no frame was written; receiver log tail:\n{log_tail(session.receiver_log)}", flush=True)
    return found[0], len(frames)


def check_composite_stream(session, checks):
    """What the relay saw of the composite: payload type, SSRC, key frame size, frame rate."""
    stats = session.relay.stats()
    print(f"  composite at VIEWER: {stats}", flush=True)
    checks.expect(stats["payload_types"] == [VP8_PT],
                  f"the composite is sent as payload type {VP8_PT} only ({stats['payload_types']})")
    checks.expect(session.viewer.server_ssrc is not None and stats["ssrcs"] == [session.viewer.server_ssrc],
                  f"the composite comes under the answer's a=ssrc {session.viewer.server_ssrc} ({stats['ssrcs']})")
    sizes = sorted({size for _, size in session.relay.keyframes_after(0)})
    checks.expect(sizes == [(OUT_W, OUT_H)], f"the composite's key frames are {OUT_W}x{OUT_H} ({sizes})")
    checks.expect(stats["from_stranger"] == 0 and stats["unparsable"] == 0,
                  f"nothing but chorusd's RTP/RTCP reached VIEWER's port ({stats['from_stranger']} from others, "
                  f"{stats['unparsable']} unparsable)")


def wait_first_frame(session):
    """Until the receiver has decoded a frame, so every check starts with pictures on screen. The
    first key frame should come with the stream's start; if nothing has been decoded after
    FIRST_FRAME_KICK_S, one PLI asks for one (a lost first key frame would otherwise wait for the
    encoder's periodic one, >= 5 s). No frame at all is left to the checks to report."""
    watcher = session.watcher
    first_wait_s = max(0.0, session.viewer_acked_at + FIRST_FRAME_KICK_S - time.monotonic())
    try:
        h.poll_until(lambda: watcher.snapshot(), first_wait_s, "a first decoded frame", 0.05)
        return
    except h.Failure:
        pass
    print(f"  no frame decoded {FIRST_FRAME_KICK_S:.0f} s after VIEWER's ACK ({session.relay.stats()}): "
          f"one PLI to get a key frame", flush=True)
    session.relay.send_pli(session.viewer_rtcp_ssrc, session.media_ssrc)
    try:
        h.poll_until(lambda: watcher.snapshot(), FIRST_FRAME_KICK_S, "a first decoded frame after the PLI", 0.05)
    except h.Failure as e:
        print(f"  {e}; receiver log tail:\n{log_tail(session.receiver_log)}", flush=True)


def check_grid(session, checks):
    print(f"--- grid: 3 members in join order, within {GRID_TIMEOUT_S:.0f} s of VIEWER's ACK", flush=True)
    started = session.viewer_acked_at
    remaining = max(0.0, started + GRID_TIMEOUT_S - time.monotonic())
    frame, seen = wait_for_frame(session, GRID_EXPECTED, 0.0, remaining, "grid")
    elapsed = time.monotonic() - started
    checks.expect(frame is not None,
                  f"grid: a frame shows {describe_expected(GRID_EXPECTED)}"
                  + (f" ({elapsed:.1f} s after VIEWER's ACK)" if frame else
                     f" — none of {seen} frames did within {GRID_TIMEOUT_S:.0f} s; relay {session.relay.stats()}"))
    if frame is not None:
        # The senders are 4:3 (320x240) and the tiles 16:9: fitted with their shape, bars at the sides.
        checks.expect(matches(frame, GRID_FIT_EXPECTED),
                      f"grid: RED's and BLUE's pictures keep their 4:3 shape (bars at the sides): "
                      f"{show_probes(frame, GRID_FIT_EXPECTED)}")
    check_composite_stream(session, checks)


def check_keyframes(session, checks):
    print(f"--- keyframe: {PLI_ROUNDS} PLIs, each answered by a key frame within {KEYFRAME_LATENCY_S * 1000:.0f} ms",
          flush=True)
    relay = session.relay
    last_pli = None
    for round_no in range(1, PLI_ROUNDS + 1):
        if last_pli is not None:
            time.sleep(max(0.0, last_pli + PLI_SPACING_S - time.monotonic()))  # chorusd allows 1 per 0.5 s

        def quiet():
            relay.check_alive()
            last = relay.last_keyframe_at()
            return last is None or time.monotonic() - last >= QUIET_BEFORE_PLI_S
        try:
            h.poll_until(quiet, QUIET_WAIT_S, f"{QUIET_BEFORE_PLI_S:.0f} s without a key frame", 0.02)
        except h.Failure as e:
            checks.expect(False, f"keyframe {round_no}: {e} (key frames come unasked more than once a second: "
                                 f"{relay.stats()['keyframes']} so far)")
            return
        sent_at = relay.send_pli(session.viewer_rtcp_ssrc, session.media_ssrc)
        last_pli = sent_at
        try:
            arrived = h.poll_until(lambda: relay.keyframes_after(sent_at), 2.0, "a key frame after the PLI", 0.005)
            latency = arrived[0][0] - sent_at
            checks.expect(latency <= KEYFRAME_LATENCY_S,
                          f"keyframe {round_no}: PLI (media SSRC {session.media_ssrc}) answered by a "
                          f"{arrived[0][1][0]}x{arrived[0][1][1]} key frame after {latency * 1000:.0f} ms "
                          f"(<= {KEYFRAME_LATENCY_S * 1000:.0f} ms)")
        except h.Failure:
            checks.expect(False, f"keyframe {round_no}: no key frame within 2 s of the PLI "
                                 f"(media SSRC {session.media_ssrc}); relay {relay.stats()}")


def switch_to(session, checks, body, expected, label):
    """PATCH the layout; the first frame written after its 200 that shows it must come within
    LAYOUT_SWITCH_S, and the frames after it must keep showing it."""
    done_at = patch_layout(session.api, body, checks, label)
    if done_at is None:
        return
    frame, _ = wait_for_frame(session, expected, done_at, LAYOUT_WAIT_S, label)
    if frame is None:
        checks.expect(False, f"{label}: no frame written within {LAYOUT_WAIT_S:.0f} s of the PATCH's 200 shows "
                             f"{describe_expected(expected)}")
        return
    switch_s = frame.mtime - done_at
    print(f"  {label}: switched {switch_s * 1000:.0f} ms after the PATCH's 200 (frame #{frame.index}; "
          f"includes the receiver's jitter buffer and 5 fps sampling)", flush=True)
    checks.expect(switch_s <= LAYOUT_SWITCH_S,
                  f"{label}: the new layout is on screen {switch_s * 1000:.0f} ms after the 200 "
                  f"(<= {LAYOUT_SWITCH_S * 1000:.0f} ms)")

    def steady_frames():
        later = [f for f in session.watcher.snapshot() if f.index > frame.index]
        return later[:STEADY_FRAMES] if len(later) >= STEADY_FRAMES else None
    try:
        later = h.poll_until(steady_frames, 5.0, f"{STEADY_FRAMES} more frames", 0.05)
        bad = [f for f in later if not matches(f, expected)]
        checks.expect(not bad, f"{label}: the {STEADY_FRAMES} frames after it show it too"
                      + (f" (frame #{bad[0].index}: {show_probes(bad[0], expected)})" if bad else ""))
    except h.Failure as e:
        checks.expect(False, f"{label}: {e}")


def check_layout(session, stream, checks):
    print(f"--- layout: speaker, then grid with BLUE pinned, each within {LAYOUT_SWITCH_S:.0f} s", flush=True)
    api = session.api
    blue = session.callers[1]
    switch_to(session, checks, {"layout": "speaker"}, SPEAKER_EXPECTED, "speaker")
    listed = conference_participants(api)
    ids = [p.get("id") for p in listed if p.get("call_id") == blue.call_id]
    if not checks.expect(len(ids) == 1, f"BLUE is listed once by GET /v1/conferences/{ROOM}/participants "
                                        f"({[(p.get('id'), p.get('call_id')) for p in listed]})"):
        return
    print(f"  BLUE's participant id: {ids[0]}", flush=True)
    switch_to(session, checks, {"layout": "grid", "pinned_participant": ids[0]}, PINNED_GRID_EXPECTED, "pinned grid")
    reply = api.get(f"/v1/conferences/{ROOM}")
    layout = reply.json().get("layout") if reply.status == 200 else None
    checks.expect(layout == "grid", f"GET /v1/conferences/{ROOM} shows \"layout\": \"grid\" ({reply.describe()[:300]})")
    if stream is None or not stream.ok:
        print(f"  note: no event stream ({stream.status_line if stream else 'not opened'}): "
              f"layout.changed not checked", flush=True)
        return
    try:
        events = h.poll_until(lambda: (lambda e: e if len(e) >= 2 else None)(layout_events(stream)),
                              EVENT_WAIT_S, "two layout.changed events", 0.1)
    except h.Failure:
        events = layout_events(stream)
    print(f"  layout.changed events: {events}", flush=True)
    checks.expect(len(events) >= 2 and "speaker" in events[0] and "grid" in events[-1],
                  f"the event stream carried layout.changed for speaker, then grid ({len(events)} events)")


# ---------------------------------------------------------------------------------------------
# The test.

def hang_up_all(session, checks):
    for proc in session.senders + ([session.receiver] if session.receiver else []):
        h.stop_process(proc)
    session.senders, session.receiver = [], None
    for caller in session.callers:
        if caller.ok is not None:
            code = caller.hang_up()
            checks.expect(code == 200, f"{caller.name}: BYE answered 200 (got {code})")


def body(args):
    require_gstreamer()
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir, extra_args=["--media-timeout", str(MEDIA_TIMEOUT_S)]).start()
    h.poll_until(lambda: os.path.exists(os.path.join(server.data_dir, "admin-token")), 10, "the admin token file")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    session = Session(server, api, args.output_dir)
    stream = None
    try:
        reply = api.request("POST", "/v1/rooms", {"id": ROOM, "name": "Video MCU test", "mode": "mcu"})
        mode = reply.json().get("mode") if reply.status == 201 else None
        if reply.status != 201 or mode != "mcu":
            raise h.Failure(f"POST /v1/rooms with mode mcu: expected 201 with \"mode\": \"mcu\", "
                            f"got {reply.describe()}")
        checks.expect(True, f"room {ROOM} made over REST in mode mcu")
        try:
            stream = rc.EventStream(server.http_port, api.token, path="/v1/events")
        except OSError as e:  # the layout.changed sub-check is then skipped with a note
            print(f"  note: GET /v1/events could not be opened: {e}", flush=True)

        print("--- RED (sendonly), BLUE (sendonly), VIEWER (recvonly) join in that order", flush=True)
        join_all(session, checks)
        wait_stream(session)
        wait_first_frame(session)
        if args.only in (None, "grid"):
            check_grid(session, checks)
        if args.only in (None, "keyframe"):
            check_keyframes(session, checks)
        if args.only in (None, "layout"):
            check_layout(session, stream, checks)
        print(f"  relay at the end: {session.relay.stats()}", flush=True)

        print("--- hang up", flush=True)
        hang_up_all(session, checks)
        h.expect_quiescent(server, checks)
    finally:
        for proc in session.senders + ([session.receiver] if session.receiver else []):
            h.stop_process(proc)
        for thread in (session.relay, session.watcher):
            if thread is not None:
                thread.stop()
        if session.relay is not None:
            session.relay.sock.close()
        for caller in session.callers:
            if caller.ok is not None and server.alive():  # a check failed mid-way: best-effort BYE
                caller.hang_up()
            caller.close()
        if stream is not None:
            stream.close()
        api.close()
    h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", choices=("grid", "keyframe", "layout"), help="run one check (the set-up always runs)")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "for a loopback-only namespace")


if __name__ == "__main__":
    sys.exit(main())
