"""The video MCU test's peers and wire formats (used by test_video_mcu.py): the participants it joins
to its `mcu` room, how it reads what chorusd sends them, and where the layouts are probed.

    Caller, VideoSection    a SIP UA over UDP offering a silent PCMU m=audio and m=video sections
                            (sendonly with an a=ssrc, or recvonly); INVITE → 200 → ACK with the answer
                            checked section by section; BYE
    Viewer, Session         a recvonly Caller and its media: ViewerRelay (its SDP port: notes each RTP
                            packet and key frame, forwards the RTP, sends PLIs) → gst receiver (RGB
                            frame files) → FrameWatcher (each frame's probe colours and mtime);
                            Session holds what the checks share
    sender_command, receiver_command, start_gst   the gst solid-colour VP8 senders and the receivers
    VP8, H264               the codec table: payload type, fmtp, feedback, depayloader, decoder, key-frame test
    vp8_keyframe, h264_keyframe, h264_sps_info   key frames on the wire (RFC 7741 + RFC 6386; RFC 6184 + SPS)
    PROBES, probe_frame     the layouts' probe points (composite coordinates) and a frame's colours there
"""

import collections
import os
import random
import re
import select
import shutil
import socket
import struct
import threading
import time

import chorus_harness as h

ROOM = "mcutest"

# The composite as chorusd sends it, and the frames as the receivers write them (a quarter of it).
OUT_W, OUT_H = 1280, 720
FRAME_W, FRAME_H = 320, 180
FRAME_BYTES = FRAME_W * FRAME_H * 3  # RGB, 960-byte rows: no padding to 4 bytes is needed
FRAME_FPS = 5
SCALE = OUT_W / FRAME_W

SENDER_W, SENDER_H, SENDER_FPS = 320, 240, 15
SENDER_MAX_S = 150  # num-buffers: the senders stop by themselves even if the test does not stop them

CALL_TIMEOUT_S = 10.0
GST_READY_S = 10.0
FRAMES_KEPT = 100  # multifilesink max-files: 20 s of frames on disk; the watcher reads them as they come
RECENT_FRAMES = 30  # frames whose pixels the watcher keeps in memory (to save the one that matched)


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


GRID_2X2 = grid_cells(4)  # 3 or 4 members: RED, BLUE, VIEWER, and an empty cell or a fourth member
STRIP_2 = filmstrip_cells(2)  # speaker layout: the two members who are not large
STRIP_4 = filmstrip_cells(4)  # presentation: CONTENT's camera, RED, BLUE, VIEWER
LARGE = (LARGE_X, 0, LARGE_W, LARGE_H)

# Probe points (1280x720 coordinates). The speaker probes are placed where the grid would show
# something else, so a grid frame can never pass for a speaker frame or the other way round.
PROBES = {
    **{f"grid tile {i}": centre(cell) for i, cell in enumerate(GRID_2X2)},
    # A 4:3 camera fitted into a 16:9 tile leaves side bars of 12.5 % each side: 20 % in from the sides
    # is inside the picture, 5 % in is in a bar.
    "grid tile 0 picture left": (GRID_2X2[0][0] + GRID_2X2[0][2] * 0.2, GRID_2X2[0][1] + GRID_2X2[0][3] * 0.2),
    "grid tile 0 picture right": (GRID_2X2[0][0] + GRID_2X2[0][2] * 0.8, GRID_2X2[0][1] + GRID_2X2[0][3] * 0.2),
    "grid tile 0 left bar": (GRID_2X2[0][0] + GRID_2X2[0][2] * 0.05, GRID_2X2[0][1] + GRID_2X2[0][3] * 0.5),
    "grid tile 1 right bar": (GRID_2X2[1][0] + GRID_2X2[1][2] * 0.95, GRID_2X2[1][1] + GRID_2X2[1][3] * 0.5),
    "large centre": centre(LARGE),
    # The large tile's upper-right quarter: grid tile 1 (blue) is there in the grid.
    "large upper right": (LARGE_X + LARGE_W * 3 / 4, LARGE_H / 4),
    **{f"filmstrip tile {j}": centre(cell) for j, cell in enumerate(STRIP_2)},
    **{f"filmstrip of 4 tile {j}": centre(cell) for j, cell in enumerate(STRIP_4)},
    # Left of the large tile: background in the speaker layout, grid tile 0 in the grid.
    "left of large": (LARGE_X / 2, LARGE_H / 2),
}
PATCH_RADIUS = 2  # 5x5 frame pixels around each probe; the smallest tile (filmstrip) is 53x30 of them


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
# RTP / RTCP / VP8 / H.264 on the wire.

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


# What a packet that starts a key frame says about it; None where the packet does not say.
KeyFrame = collections.namedtuple("KeyFrame", "width height profile")


def describe_key(key):
    size = f"{key.width}x{key.height}" if key.width else "size unknown (no SPS)"
    return size + (f" {key.profile}" if key.profile else "")


def vp8_keyframe(payload):
    """A KeyFrame when this RTP payload starts a VP8 key frame, else None.

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
    return KeyFrame(width & 0x3FFF, height & 0x3FFF, None)


H264_IDR, H264_SPS, H264_STAP_A, H264_FU_A = 5, 7, 24, 28


def h264_nal_units(payload):
    """The NAL units an RTP payload carries whole or starts (RFC 6184 §5.6 single NAL unit, §5.7.1
    STAP-A: a 16-bit size before each unit, §5.8 FU-A: the start fragment, its NAL header rebuilt
    from the FU indicator's F/NRI and the FU header's type); [] for anything else."""
    kind = payload[0] & 0x1F
    if 1 <= kind <= 23:
        return [payload]
    if kind == H264_STAP_A:
        units, i = [], 1
        while i + 2 <= len(payload):
            size = struct.unpack_from("!H", payload, i)[0]
            units.append(payload[i + 2:i + 2 + size])
            i += 2 + size
        return [unit for unit in units if unit]
    if kind == H264_FU_A and len(payload) >= 2 and payload[1] & 0x80:  # S bit: the first fragment
        return [bytes([payload[0] & 0xE0 | payload[1] & 0x1F]) + payload[2:]]
    return []


def h264_keyframe(payload):
    """A KeyFrame when this RTP payload carries (the start of) an IDR picture or an SPS, else None;
    its size and profile come from the SPS when the packet has one."""
    units = h264_nal_units(payload) if payload else []
    types = [unit[0] & 0x1F for unit in units]
    if H264_IDR not in types and H264_SPS not in types:
        return None
    sps = [unit for unit in units if unit[0] & 0x1F == H264_SPS]
    return h264_sps_info(sps[0]) if sps else KeyFrame(None, None, None)


class BitReader:
    """Big-endian bits and Exp-Golomb codes (H.264 §9.1); IndexError past the end."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def bits(self, n):
        value = 0
        for _ in range(n):
            value = value << 1 | (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
            self.pos += 1
        return value

    def ue(self):
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self):
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


HIGH_PROFILE_IDCS = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}  # with chroma_format_idc


def h264_profile_name(profile_idc, constraint_flags):
    if profile_idc == 66:  # Baseline; constraint_set1_flag makes it Constrained Baseline (H.264 A.2.1.1)
        return "constrained-baseline" if constraint_flags & 0x40 else "baseline"
    return {77: "main", 88: "extended", 100: "high"}.get(profile_idc, f"profile_idc {profile_idc}")


def h264_sps_info(nal):
    """KeyFrame(width, height, profile) of a sequence parameter set NAL unit (H.264 §7.3.2.1.1), its
    emulation prevention bytes (00 00 03) removed first (§7.4.1); width/height None when unreadable."""
    rbsp = re.sub(rb"\x00\x00\x03", b"\x00\x00", bytes(nal[1:]))
    if len(rbsp) < 4:
        return KeyFrame(None, None, None)
    try:
        width, height = h264_sps_size(BitReader(rbsp[3:]), rbsp[0])
    except (IndexError, ValueError):
        width = height = None
    return KeyFrame(width, height, h264_profile_name(rbsp[0], rbsp[1]))


def h264_sps_size(r, profile_idc):
    """The cropped picture size from the SPS fields after profile_idc, constraint flags and level_idc."""
    r.ue()  # seq_parameter_set_id
    chroma_format_idc = 1
    if profile_idc in HIGH_PROFILE_IDCS:
        chroma_format_idc = r.ue()
        if chroma_format_idc == 3:
            r.bits(1)  # separate_colour_plane_flag
        r.ue(), r.ue(), r.bits(1)  # bit depths, qpprime_y_zero_transform_bypass_flag
        if r.bits(1):
            raise ValueError("scaling matrices are not read here")
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        r.bits(1), r.se(), r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue(), r.bits(1)  # max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = r.ue() + 1, r.ue() + 1
    frame_mbs_only = r.bits(1)
    if not frame_mbs_only:
        r.bits(1)  # mb_adaptive_frame_field_flag
    r.bits(1)  # direct_8x8_inference_flag
    left, right, top, bottom = [r.ue() for _ in range(4)] if r.bits(1) else [0, 0, 0, 0]
    crop_x = 2 if chroma_format_idc in (1, 2) else 1  # §7.4.2.1.1 CropUnitX / CropUnitY
    crop_y = (2 if chroma_format_idc == 1 else 1) * (2 - frame_mbs_only)
    return (width_mbs * 16 - crop_x * (left + right),
            height_units * 16 * (2 - frame_mbs_only) - crop_y * (top + bottom))


def pli(sender_ssrc, media_ssrc):
    """RFC 4585 §6.3.1 Picture Loss Indication: V=2 FMT=1, PT=206 (PSFB), length 2, no FCI."""
    return struct.pack("!BBHII", 0x80 | 1, 206, 2, sender_ssrc, media_ssrc)


# The codecs a caller offers, and what its receiver and relay do with each.
Codec = collections.namedtuple("Codec", "name pt fmtp feedback depay decoder keyframe profile")
VP8 = Codec("VP8", 96, None, ("nack pli", "ccm fir"), "rtpvp8depay", "vp8dec", vp8_keyframe, None)
H264 = Codec("H264", 97, "profile-level-id=42e01f;packetization-mode=1", ("nack pli",), "rtph264depay",
             "avdec_h264", h264_keyframe, "constrained-baseline")


# ---------------------------------------------------------------------------------------------
# A viewer's media: the relay, the receiver pipeline and the frame watcher.

def udp_socket(port=0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    return sock


class ViewerRelay(threading.Thread):
    """Reads what chorusd sends to a viewer's SDP port: notes every RTP packet (and key frame starts),
    passes the RTP on to the gst receiver, counts RTCP; send_pli() uses the same socket, so chorusd
    sees the PLI come from the address it sends to."""

    def __init__(self, sock, receiver_port, codec, name):
        super().__init__(name=f"{name.lower()}-relay", daemon=True)
        self.sock = sock
        self.codec = codec
        self.outlet = udp_socket()
        self.receiver_addr = ("127.0.0.1", receiver_port)
        self.server_addr = None  # chorusd's video address, from the viewer's answer
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.error = None
        self.rtp = self.rtcp = self.unparsable = self.from_stranger = 0
        self.strangers = set()  # addresses other than chorusd's answer that sent to the viewer's port
        self.frames = 0  # distinct RTP timestamps: composed pictures
        self.last_timestamp = self.last_key_timestamp = None
        self.timestamp_steps = []  # between consecutive pictures, in 90 kHz ticks (3000 at 30 fps)
        self.first_at = self.last_at = None
        self.keyframes = []  # (monotonic arrival, KeyFrame) of the first packet of every key frame
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
        key = self.codec.keyframe(payload) if pt == self.codec.pt else None
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
            if key is not None and timestamp != self.last_key_timestamp:  # H.264: SPS, PPS, IDR share it
                self.keyframes.append((now, key))
                self.last_key_timestamp = timestamp

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
            raise h.Failure(f"the {self.name} thread failed: {self.error}")

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5.0)
        self.outlet.close()
        self.sock.close()


Frame = collections.namedtuple("Frame", "index mtime probes")


class FrameWatcher(threading.Thread):
    """Reads every frame file a receiver writes, once, as it is completed (the next file exists),
    and keeps its probe colours and mtime; the last RECENT_FRAMES frames keep their pixels too."""

    NAME = re.compile(r"frame-(\d+)\.rgb$")

    def __init__(self, folder, name):
        super().__init__(name=f"{name.lower()}-frames", daemon=True)
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
            raise h.Failure(f"the {self.name} thread failed: {self.error}")
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


# ---------------------------------------------------------------------------------------------
# GStreamer peers.

def sender_command(colour_argb, ssrc, local_port, server_port):
    """A solid-colour camera, VP8, to chorusd's video port from the port the caller's SDP names."""
    return ["gst-launch-1.0", "videotestsrc", "is-live=true", "pattern=solid-color",
            f"foreground-color={colour_argb:#010x}", f"num-buffers={SENDER_MAX_S * SENDER_FPS}", "!",
            f"video/x-raw,width={SENDER_W},height={SENDER_H},framerate={SENDER_FPS}/1", "!",
            # keyframe-max-dist 30: chorusd's decoder can (re)start within 2 s without asking us (the
            # sender cannot read the PLIs chorusd may send to its port).
            "vp8enc", "deadline=1", "keyframe-max-dist=30", "!",
            "rtpvp8pay", f"pt={VP8.pt}", f"ssrc={ssrc}", "!",
            "udpsink", "host=127.0.0.1", f"port={server_port}", "bind-address=127.0.0.1", f"bind-port={local_port}"]


def receiver_command(codec, port, folder):
    caps = f"application/x-rtp,media=video,encoding-name={codec.name},clock-rate=90000,payload={codec.pt}"
    return ["gst-launch-1.0", "udpsrc", f"port={port}", "address=127.0.0.1", f"caps={caps}", "!",
            "rtpjitterbuffer", "latency=100", "!", codec.depay, "!", codec.decoder, "!",
            "videoconvert", "!", "videoscale", "!", f"video/x-raw,format=RGB,width={FRAME_W},height={FRAME_H}", "!",
            "videorate", "!", f"video/x-raw,framerate={FRAME_FPS}/1", "!",
            "multifilesink", f"location={os.path.join(folder, 'frame-%05d.rgb')}", f"max-files={FRAMES_KEPT}"]


def log_tail(path, chars=1500):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-chars:]
    except FileNotFoundError:
        return "(no log)"


def start_gst(command, log_path, what):
    """gst-launch in the background; returns once it logs PLAYING (Failure if it exits first)."""
    proc = h.spawn(command, log_path)
    h.poll_until(lambda: h.file_has(log_path, "Setting pipeline to PLAYING") or proc.poll() is not None,
                 GST_READY_S, f"{what} to play", 0.05)
    if proc.poll() is not None:
        raise h.Failure(f"{what} exited ({proc.returncode}):\n{log_tail(log_path)}")
    return proc


# ---------------------------------------------------------------------------------------------
# SIP and SDP.

# One m=video section of an offer: its port, direction and codec, the SSRC we send under (RFC 5576
# a=ssrc; senders only) and an RFC 4796 a=content value.
VideoSection = collections.namedtuple("VideoSection", "port direction codec ssrc content", defaults=(VP8, None, None))
# What the answer says of one offered video section.
Answered = collections.namedtuple("Answered", "media address port ssrc")


def video_section_lines(name, section):
    codec, pt = section.codec, section.codec.pt
    lines = [f"m=video {section.port} RTP/AVP {pt}", f"a=rtpmap:{pt} {codec.name}/90000"]
    if codec.fmtp:
        lines.append(f"a=fmtp:{pt} {codec.fmtp}")
    lines += [f"a=rtcp-fb:{pt} {feedback}" for feedback in codec.feedback]
    lines.append("a=rtcp-mux")
    if section.content:
        lines.append(f"a=content:{section.content}")
    if section.ssrc is not None:
        lines.append(f"a=ssrc:{section.ssrc} cname:{name}@chorus-test")
    lines.append(f"a={section.direction}")
    return lines


def sdp_offer(name, audio_port, sections):
    lines = ["v=0", f"o={name} 4711 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
             f"m=audio {audio_port} RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendrecv"]
    for section in sections:
        lines += video_section_lines(name, section)
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


def fmtp_params(media, pt):
    """{lower-case name: value} of the a=fmtp for payload type pt (RFC 6184 §8.1's key=value;...)."""
    for value in attr_values(media, "fmtp"):
        fmt, _, params = value.partition(" ")
        if fmt == str(pt):
            pairs = (p.strip().partition("=") for p in params.split(";") if p.strip())
            return {key.lower(): val for key, _, val in pairs}
    return {}


def is_constrained_baseline(profile_level_id):
    """RFC 6184 §8.1: profile_idc 0x42 (Baseline) with constraint_set1_flag (0x40 of profile-iop)."""
    try:
        return int(profile_level_id[0:2], 16) == 0x42 and int(profile_level_id[2:4], 16) & 0x40 != 0
    except (TypeError, ValueError):
        return False


class Caller:
    """One participant: its own SIP socket, an audio socket kept open (silent), and its video sections
    (a relay socket's port for a viewer; ports its gst senders will bind for a sender)."""

    ANSWER_DIRECTION = {"sendonly": "recvonly", "recvonly": "sendonly", "sendrecv": "sendrecv"}  # RFC 3264 §6.1

    def __init__(self, server, name, sections):
        self.server = server
        self.name = name
        self.sections = sections
        self.sip = h.UdpPeer()
        self.audio = udp_socket()  # chorusd's audio mix lands here, unread
        self.server_sip = ("127.0.0.1", server.sip_port)
        self.uri = f"sip:{ROOM}@127.0.0.1:{server.sip_port}"
        self.call_id = h.new_token(f"mcu-{name.lower()}-")
        self.ok = None
        self.answers = []  # one Answered per offered video section, in order

    @property
    def server_video(self):
        """(address, port) chorusd's video comes from / goes to, for the first video section."""
        return self.answers[0].address, self.answers[0].port

    @property
    def server_ssrc(self):
        """The first section's answer a=ssrc: the SSRC chorusd sends this caller's video under."""
        return self.answers[0].ssrc

    def join(self, checks):
        """INVITE → 200 → ACK; Failure unless the answer takes every video section."""
        offer = sdp_offer(self.name.lower(), self.audio.getsockname()[1], self.sections)
        self.ok = final = h.invite_answered(self.sip, self.server_sip, self.uri, self.call_id, self.name.lower(), offer,
                                            CALL_TIMEOUT_S, display=self.name, label=f"{self.name}: ")
        self._read_answer(final.body, checks)

    def _read_answer(self, body, checks):
        sdp = parse_sdp(body)
        videos = [m for m in sdp["media"] if m["kind"] == "video"][:len(self.sections)]
        if len(videos) < len(self.sections) or not all(m["port"] for m in videos):
            raise h.Failure(f"{self.name}: chorusd answered {len(self.sections)} m=video section(s) with port 0 or "
                            f"not at all, so the mcu room does not take this video (is the video MCU in this "
                            f"chorusd?):\n{body.decode('utf-8', 'replace')}")
        for section, media in zip(self.sections, videos):
            ssrcs = [v.split()[0] for v in attr_values(media, "ssrc") if v.split() and v.split()[0].isdigit()]
            self.answers.append(Answered(media, media["c"] or sdp["c"], media["port"],
                                         int(ssrcs[0]) if ssrcs else None))
            label = self.name if len(self.sections) == 1 else f"{self.name} {section.content or 'camera'}"
            self._check_section(section, self.answers[-1], label, checks)

    def _check_section(self, section, answered, label, checks):
        media, codec = answered.media, section.codec
        rtpmaps = attr_values(media, "rtpmap")
        wanted = self.ANSWER_DIRECTION[section.direction]
        print(f"  {label}: 200, chorusd's video at {answered.address}:{answered.port} "
              f"{media['proto']} {' '.join(media['fmts'])} {rtpmaps} {attr_values(media, 'fmtp')}, "
              f"{direction_of(media)}, ssrc {answered.ssrc}", flush=True)
        checks.expect(answered.address == "127.0.0.1",
                      f"{label}: the answer's video address is 127.0.0.1 ({answered.address})")
        checks.expect(media["fmts"] == [str(codec.pt)] and f"{codec.pt} {codec.name}/90000" in rtpmaps,
                      f"{label}: the answer's video is payload type {codec.pt} {codec.name}/90000 "
                      f"(fmts {media['fmts']}, rtpmap {rtpmaps})")
        if codec is H264:
            params = fmtp_params(media, codec.pt)
            checks.expect(params.get("packetization-mode") == "1"
                          and is_constrained_baseline(params.get("profile-level-id")),
                          f"{label}: the answer's fmtp has packetization-mode=1 and a Constrained Baseline "
                          f"profile-level-id (RFC 6184 §8.1: {params})")
        checks.expect(direction_of(media) == wanted,
                      f"{label}: the answer's video direction is {wanted} for our {section.direction} "
                      f"(got {direction_of(media)})")
        checks.expect(any(a == "rtcp-mux" for a, _ in media["attrs"]),
                      f"{label}: the answer accepts a=rtcp-mux (PLIs go to chorusd's RTP port)")
        if section.content:
            checks.expect(attr_values(media, "content") == [section.content],
                          f"{label}: the answer echoes a=content:{section.content} (RFC 4796; got "
                          f"{attr_values(media, 'content')})")
        if section.direction != "sendonly":
            checks.expect(answered.ssrc is not None, f"{label}: the answer names chorusd's SSRC in a=ssrc")

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
# The participants.

class Session:
    """Everything the checks share: chorusd, REST, the event stream, the callers, senders and viewers."""

    def __init__(self, server, api, outdir):
        self.server, self.api, self.outdir = server, api, outdir
        self.stream = None
        self.callers = []
        self.senders = []
        self.viewers = []
        self.viewer = None  # VIEWER (VP8), joined in the set-up; the layout checks look at its frames


class Viewer:
    """A recvonly caller and its media: relay socket → gst receiver → frame files → watcher."""

    def __init__(self, session, name, codec):
        self.server, self.outdir = session.server, session.outdir
        self.name, self.codec = name, codec
        self.frames_dir = os.path.join(session.outdir, f"{name.lower()}-frames")
        self.receiver_log = os.path.join(session.outdir, f"{name.lower()}-receiver.log")
        self.caller = self.relay = self.watcher = self.receiver = None
        self.acked_at = self.acked_wall = None  # monotonic and wall-clock moments of its ACK
        self.rtcp_ssrc = random.randrange(1, 1 << 32)
        self.media_ssrc = None  # chorusd's SSRC, what its PLIs name
        session.viewers.append(self)

    def join(self, session, checks):
        """Receiver, relay and watcher first, so the composite's first key frame is caught; then the call."""
        shutil.rmtree(self.frames_dir, ignore_errors=True)  # a reused --output-dir: old frames would count
        os.makedirs(self.frames_dir)
        receiver_port = h.free_port(tcp=False)
        self.receiver = start_gst(receiver_command(self.codec, receiver_port, self.frames_dir), self.receiver_log,
                                  f"{self.name}'s gst receiver")
        relay_sock = udp_socket()
        section = VideoSection(relay_sock.getsockname()[1], "recvonly", self.codec)
        self.caller = Caller(self.server, self.name, [section])
        session.callers.append(self.caller)
        self.relay = ViewerRelay(relay_sock, receiver_port, self.codec, self.name)
        self.relay.start()
        self.watcher = FrameWatcher(self.frames_dir, self.name)
        self.watcher.start()
        self.caller.join(checks)
        self.acked_at, self.acked_wall = time.monotonic(), time.time()
        self.relay.server_addr = self.caller.server_video
        self.media_ssrc = self.caller.server_ssrc

    def stop_media(self):
        """Stops the receiver and the threads (again is harmless)."""
        if self.receiver is not None:
            h.stop_process(self.receiver)
        for thread in (self.relay, self.watcher):
            if thread is not None and thread.is_alive():
                thread.stop()


# ---------------------------------------------------------------------------------------------
# Appended for test_recording.py: a caller's tone on its m=audio, and cameras that are not one colour.

TONE_PACKET_S = 0.02  # 160 PCMU samples a packet, as the offer's default ptime


def tone_sender_command(freq_hz, ssrc, local_port, server_port, volume=0.3):
    """A sine tone as PCMU RTP (payload type 0, 20 ms packets) to chorusd's answered audio port, from
    the port the caller's SDP names for audio: chorusd latches on that source (symmetric RTP), so the
    Caller's placeholder audio socket (Caller.audio) must be closed before this starts. Stops by itself
    after SENDER_MAX_S."""
    return ["gst-launch-1.0", "audiotestsrc", "wave=sine", f"freq={freq_hz:g}", f"volume={volume:g}", "is-live=true",
            "samplesperbuffer=160", f"num-buffers={int(SENDER_MAX_S / TONE_PACKET_S)}", "!",
            "audio/x-raw,format=S16LE,rate=8000,channels=1", "!", "audioconvert", "!", "mulawenc", "!",
            "rtppcmupay", "pt=0", f"ssrc={ssrc}", "min-ptime=20000000", "max-ptime=20000000", "!",
            "udpsink", "host=127.0.0.1", f"port={server_port}", "bind-address=127.0.0.1", f"bind-port={local_port}"]


def pattern_sender_command(pattern, ssrc, local_port, server_port):
    """sender_command with a videotestsrc pattern (e.g. "snow": noise no encoder can squeeze, so the
    composite runs at its full bitrate) in place of the solid colour."""
    command = sender_command(0, ssrc, local_port, server_port)
    return [f"pattern={pattern}" if arg == "pattern=solid-color" else arg
            for arg in command if not arg.startswith("foreground-color=")]
