#!/usr/bin/env python3
"""Recording a conference (issue 11): a 10 s recording of a three-party `mcu` room plays back with
gst-discoverer-1.0 (duration within 1 s, both tracks present), its audio holds each party's tone and its
video the tiles' colours; a recording whose chorusd is killed with SIGKILL half-way is still playable.

Set-up (one chorusd, `--media-timeout 120`): room `mcutest` is made over REST with `"mode": "mcu"`, and
`recempty` (mcu too, nobody ever joins it). RED, BLUE and GREEN (Python SIP UAs over UDP, video_peers.Caller)
join in that order, each offering a PCMU `m=audio` and a sendonly VP8 `m=video`. After its ACK each
starts two gst-launch senders from the ports its SDP names (chorusd latches on the source, symmetric
RTP): a solid-colour VP8 camera (red, blue, green) and a sine tone as PCMU (440, 1000, 1700 Hz at
volume 0.3: far apart, none a harmonic of another; the audio MCU mixes up to 3 talkers, so all fit).
The caller's placeholder audio socket is closed first so the tone sender can bind its port.

Cases (`--only NAME` runs one; each has its own chorusd): `record` is the chain from start to ended below
(one chorusd, then a second on its data dir), then `quota`, `full_disk` and `cap`.

Checks, in order:
  start     GET /v1/events open first. POST /v1/conferences/mcutest/recordings → 201 with id rec_<16 hex>,
            conference_id, state "recording", media_type "video/webm", media_url, and a Location header
            naming /v1/recordings/<id>; POST again → 409; POST for `recempty` → 404; GET /v1/recordings
            lists it with quota_bytes and used_bytes.
  stop      after 10 s (wall clock), PATCH /v1/recordings/<id> {"state":"stopped"} → 202 "stopping"; GET
            polled until "stopped" (≤ 20 s): reason "requested", bytes > 0, stopped_at set; the event
            stream carried recording.started and recording.stopped (reason requested) for it; the sidecar
            <data_dir>/recordings/<id>.json says stopped.
  media     GET .../media → 200 video/webm, as many bytes as GET says and the same as the file on disk;
            Range bytes=0-99 → 206, 100 bytes, Content-Range bytes 0-99/<size>, equal to the first 100;
            bytes=<size>- → 416.
  discover  gst-discoverer-1.0 on the download: duration 10 s ± 1 s, a VP8 1280x720 video stream and an
            Opus audio stream (48 kHz, mono). Its output is printed.
  audio     the audio decoded to S16LE 48 kHz mono (matroskademux ! opusdec); from 3.5 s (past the spoken
            prompt) to 0.5 s before the end each tone's level (Goertzel, Hann-windowed 0.25 s segments,
            powers averaged) is ≥ 10 dB above a 2500 Hz control; and 0.1-1.5 s (the prompt "This
            meeting is being recorded", mixed in from the start, about 1.7 s) carries ≥ 10 dB more energy
            at frequencies away from the tones than a stretch of the same length later on (with the
            prompt there it is about 25 dB more). Levels printed.
  video     the video decoded at 1 frame a second, 320x180 RGB; the frame in the middle shows the 2x2 grid
            of 3 members: red, blue and green in tiles 0-2 (each once: the grid puts the active speaker
            first and everyone is talking, so the order is printed, not asserted) and tile 3 black.
            Every frame's tile colours are printed; the middle one is kept as a .ppm.
  delete    DELETE → 204; GET → 404; its media and sidecar files are gone.
  crash     a second recording; DELETE while it runs → 409; GET polled until bytes > 100000; chorusd gets
            SIGKILL. The file left behind: gst-discoverer-1.0 finds VP8 and Opus, and it decodes to ≥ 30
            video frames and ≥ 1 s of audio. A new chorusd on the same data dir: GET → "stopped" with reason
            "interrupted", bytes = the file's size, and /media serves it.
  ended     on that chorusd, RED joins again (camera only), POST → 201, RED hangs up: the recording
            becomes "stopped" with reason "conference_ended" (≤ 20 s; the conference ends when the last
            participant of an mcu room leaves). Quiescent; exits 0 on SIGTERM.
  quota     a fresh chorusd with `--recordings-quota-mb 1`; one caller sends a noise camera (videotestsrc
            snow: the composite runs at its full bitrate). POST → 201; GET polled until "stopped" with reason
            "quota" (≤ 60 s); its file is ≥ 1 MiB and ≤ 2 MiB, and plays (gst-discoverer: VP8 + Opus);
            GET /v1/recordings says used_bytes ≥ quota_bytes; POST → 507 problem+json. Quiescent; exit 0.
  full disk a chorusd whose recordings folder is a 1 MiB tmpfs (mounted in a mount namespace of its own by
            a wrapper; the case is skipped with a note where mounting is not permitted), one noise camera
            and the default quota: POST → 201; GET polled until "failed" with reason "error" and an error
            naming the write (≤ 60 s); recording.failed on the event stream; the conference goes on: the
            caller is still listed and the composite still reaches the recorder-less room (its
            participant count is unchanged, chorusd still answers). Quiescent; exit 0.
  cap       a fresh chorusd with `--recordings-max-concurrent 1`; rooms `mcutest` and `recsecond` (mcu), a silent
            audio-only caller in each (no gst sender). POST for mcutest → 201; POST for recsecond, 3 times → 503
            problem+json with a Retry-After of a positive number of seconds each; GET /v1/recordings?
            conference_id=recsecond lists nothing (a refusal leaves no sidecar); /metrics counts 1 started and 3
            refused. PATCH mcutest's stopped → 202, "stopped" (the slot is free once it is finalized); then POST for
            recsecond → 201, PATCH it stopped → "stopped". Quiescent; exit 0.

No check depends on speed: every wait is polled with a bound (the one sleep is the 10 s the recording
is meant to last, and the assertions are about the file's content). Runs in a private network namespace
with only loopback (re-executes itself under `unshare -n`). Skips when GStreamer's tools or elements are
missing. Downloads, decoded frames (.ppm) and gst logs are kept in the output folder.
By hand: `python3 tests/integration/test_recording.py --chorusd build/bin/chorusd --output-dir /tmp/rec-out`.
"""

import array
import hashlib
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402
from test_video_mcu import (  # noqa: E402
    BLUE_ARGB, GREEN_ARGB, RED_ARGB, is_black, is_blue, is_green, is_red, make_room, missing_elements)
from video_peers import (  # noqa: E402
    FRAME_BYTES, FRAME_H, FRAME_W, ROOM, VP8, Caller, VideoSection, log_tail, pattern_sender_command, probe_frame,
    sender_command, start_gst, tone_sender_command, write_ppm)

TEST = "test_recording"
CASES = ("record", "quota", "full_disk", "cap")
EMPTY_ROOM = "recempty"
MEDIA_TIMEOUT_S = 120

# (name, camera colour, tone Hz, colour test); joined in this order
PARTIES = (("RED", RED_ARGB, 440.0, is_red), ("BLUE", BLUE_ARGB, 1000.0, is_blue),
           ("GREEN", GREEN_ARGB, 1700.0, is_green))
CONTROL_HZ = 2500.0
TONE_MARGIN_DB = 10.0
# The prompt is measured where the tones are not: off their frequencies, harmonics and sums.
PROMPT_PROBE_HZ = (250.0, 350.0, 620.0, 780.0, 1150.0, 1500.0, 1900.0, 2350.0)
# The prompt is mixed in from the recording's first frame; the build's espeak-ng clip is about 1.7 s.
PROMPT_WINDOW_S = (0.1, 1.5)
PROMPT_MARGIN_DB = 10.0
TONES_FROM_S = 3.5  # past the prompt
TONES_END_MARGIN_S = 0.5

RECORD_S = 10.0
DURATION_TOLERANCE_S = 1.0
STOP_WAIT_S = 20.0
CRASH_BYTES = 100_000
CRASH_WAIT_S = 40.0
CRASH_MIN_FRAMES = 30
ENDED_WAIT_S = 20.0
QUOTA_MB = 1
QUOTA_WAIT_S = 60.0
CAP_ROOM = "recsecond"  # the cap case's second room
CAP_REFUSALS = 3  # POSTs for the second room while the first records: each is refused
BYTES_WAIT_S = 10.0
EVENT_WAIT_S = 5.0
GST_TIMEOUT_S = 120
AUDIO_RATE = 48000
SMALL_W, SMALL_H = 64, 36  # frames decoded only to be counted
ID_SHAPE = re.compile(r"rec_[0-9a-f]{16}")

GST_ELEMENTS = {  # element: Debian package
    "videotestsrc": "gstreamer1.0-plugins-base", "videoconvert": "gstreamer1.0-plugins-base",
    "videoscale": "gstreamer1.0-plugins-base", "videorate": "gstreamer1.0-plugins-base",
    "audiotestsrc": "gstreamer1.0-plugins-base", "audioconvert": "gstreamer1.0-plugins-base",
    "audioresample": "gstreamer1.0-plugins-base", "opusdec": "gstreamer1.0-plugins-base",
    "vp8enc": "gstreamer1.0-plugins-good", "vp8dec": "gstreamer1.0-plugins-good",
    "rtpvp8pay": "gstreamer1.0-plugins-good", "mulawenc": "gstreamer1.0-plugins-good",
    "rtppcmupay": "gstreamer1.0-plugins-good", "udpsink": "gstreamer1.0-plugins-good",
    "matroskademux": "gstreamer1.0-plugins-good", "multifilesink": "gstreamer1.0-plugins-good",
}


def require_gstreamer():
    h.require_binary("gst-launch-1.0", "gstreamer1.0-tools")
    h.require_binary("gst-discoverer-1.0", "gstreamer1.0-plugins-base-apps")
    for element, package in missing_elements(GST_ELEMENTS):
        raise h.Skip(f"GStreamer element {element} is missing (Debian package {package})")


# ---------------------------------------------------------------------------------------------
# The callers: a camera and a tone each.

class Rig:
    """One chorusd and what the test started against it: REST, the event stream, callers, gst senders."""

    def __init__(self, server, outdir):
        self.server, self.outdir = server, outdir
        h.poll_until(lambda: os.path.exists(os.path.join(server.data_dir, "admin-token")), 10, "the admin token file")
        self.api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
        self.stream = None
        self.callers = []
        self.procs = []

    def open_events(self):
        try:
            self.stream = rc.EventStream(self.server.http_port, self.api.token, path="/v1/events")
        except OSError as e:
            print(f"  note: GET /v1/events could not be opened: {e}", flush=True)
        if self.stream is not None and not self.stream.ok:
            print(f"  note: GET /v1/events answered {self.stream.status_line}", flush=True)

    def join(self, checks, name, camera_command, tone_hz=None):
        """INVITE → 200 → ACK, then the camera (camera_command(ssrc, local port, chorusd's port)) and, with
        tone_hz, a PCMU tone from the SDP's audio port to chorusd's answered one."""
        section = VideoSection(h.free_port(tcp=False), "sendonly", VP8, random.randrange(1, 1 << 32))
        caller = Caller(self.server, name, [section])
        self.callers.append(caller)
        caller.join(checks)
        camera_log = os.path.join(self.outdir, f"{self.server_tag()}-{name.lower()}-camera.log")
        self.procs.append(start_gst(camera_command(section.ssrc, section.port, caller.answers[0].port), camera_log,
                                    f"{name}'s camera"))
        if tone_hz is None:
            return caller
        audio_port = caller.audio.getsockname()[1]
        server_audio = h.sdp_audio_port(caller.ok.body)
        checks.expect(bool(server_audio), f"{name}: the answer has an m=audio port ({server_audio})")
        if not server_audio:
            raise h.Failure(f"{name}: no audio port in the answer:\n{caller.ok.body.decode('utf-8', 'replace')}")
        caller.audio.close()  # its port goes to the tone sender: chorusd latches on the SDP's address
        tone_log = os.path.join(self.outdir, f"{self.server_tag()}-{name.lower()}-tone.log")
        self.procs.append(start_gst(tone_sender_command(tone_hz, random.randrange(1, 1 << 32), audio_port,
                                                        server_audio), tone_log, f"{name}'s {tone_hz:g} Hz tone"))
        print(f"  {name}: camera and {tone_hz:g} Hz tone from 127.0.0.1:{audio_port} to chorusd's audio port "
              f"{server_audio}", flush=True)
        return caller

    def join_silent(self, checks, name, room):
        """An audio-only caller in `room` that sends nothing (its audio socket is kept open, unread): the cheapest
        participant a recording can be started for."""
        caller = Caller(self.server, name, [])
        caller.uri = f"sip:{room}@127.0.0.1:{self.server.sip_port}"
        self.callers.append(caller)
        caller.join(checks)
        print(f"  {name}: in {room}, audio only, silent", flush=True)
        return caller

    def server_tag(self):
        return os.path.basename(self.server.log_path)[:-len(".log")]

    def stop_media(self):
        for proc in self.procs:
            h.stop_process(proc)
        self.procs = []

    def hang_up(self, caller, checks):
        code = caller.hang_up()
        checks.expect(code == 200, f"{caller.name}: BYE answered 200 (got {code})")

    def close(self, hang_up=True):
        """Stops the senders; best-effort BYE while chorusd runs; closes sockets, the stream and REST."""
        self.stop_media()
        for caller in self.callers:
            if hang_up and caller.ok is not None and self.server.alive():
                caller.hang_up()
            caller.close()
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        self.api.close()

    # REST -----------------------------------------------------------------------------------

    def recording(self, rec_id):
        reply = self.api.get(f"/v1/recordings/{rec_id}")
        return reply.json() if reply.status == 200 else None

    def wait_state(self, rec_id, state, timeout_s, what):
        """GET polled until the recording's state is `state`; its JSON (None after timeout_s, printed)."""
        last = [None]

        def probe():
            last[0] = self.recording(rec_id)
            return last[0] if last[0] and last[0].get("state") == state else None
        started = time.monotonic()
        try:
            found = h.poll_until(probe, timeout_s, what, 0.2)
            print(f"  {rec_id}: {state} after {time.monotonic() - started:.1f} s: {json.dumps(found)}", flush=True)
            return found
        except h.Failure as e:
            print(f"  {e}; last GET: {json.dumps(last[0])}", flush=True)
            return None

    def wait_bytes(self, rec_id):
        """GET polled until the recording has written something (a note, not a check, when it has not)."""
        try:
            h.poll_until(lambda: (self.recording(rec_id) or {}).get("bytes"), BYTES_WAIT_S, f"{rec_id} to write", 0.2)
        except h.Failure as e:
            print(f"  note: {e}", flush=True)

    def events(self, kind, rec_id):
        """data of the stream's `kind` events about rec_id."""
        out = []
        for event in self.stream.snapshot() if self.stream is not None else []:
            if event.get("event") != kind:
                continue
            try:
                data = json.loads(event["data"])["data"]
            except (ValueError, KeyError, TypeError):
                continue
            if data.get("recording_id") == rec_id:
                out.append(data)
        return out

    def wait_events(self, kind, rec_id):
        """events(kind, rec_id) once there is one, or as they are after EVENT_WAIT_S (maybe none)."""
        try:
            h.poll_until(lambda: self.events(kind, rec_id), EVENT_WAIT_S, kind, 0.1)
        except h.Failure:
            pass
        return self.events(kind, rec_id)


def start_recording(rig, checks, label, media_type="video/webm", room=ROOM):
    """POST a recording of `room`; checks the 201 and its body; its JSON, or None when refused."""
    reply = rig.api.post(f"/v1/conferences/{room}/recordings")
    body = reply.json() if reply.status == 201 else {}
    rec_id = body.get("id", "")
    ok = checks.expect(reply.status == 201 and body.get("state") == "recording",
                       f"{label}: POST /v1/conferences/{room}/recordings → 201 \"recording\" "
                       f"({reply.describe()[:400]})")
    if not ok:
        return None
    checks.expect(bool(ID_SHAPE.fullmatch(rec_id)) and body.get("conference_id") == room
                  and body.get("media_type") == media_type and body.get("media_url") == f"/v1/recordings/{rec_id}/media"
                  and reply.header("location").endswith(f"/v1/recordings/{rec_id}"),
                  f"{label}: id {rec_id!r} is rec_<16 hex>, conference_id {body.get('conference_id')!r}, media_type "
                  f"{body.get('media_type')!r} (want {media_type}), media_url {body.get('media_url')!r}, Location "
                  f"{reply.header('location')!r}")
    return body


def media_file(server, rec_id, ext="webm"):
    return os.path.join(server.data_dir, "recordings", f"{rec_id}.{ext}")


# ---------------------------------------------------------------------------------------------
# The file: gst-discoverer and decoding.

def run_gst(command, log_path):
    """Runs a gst tool to the end (bounded); (exit code, output)."""
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=GST_TIMEOUT_S)
        output = done.stdout.decode("utf-8", "replace")
        code = done.returncode
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode("utf-8", "replace") + f"\n(timed out after {GST_TIMEOUT_S} s)"
        code = None
    with open(log_path, "w") as f:
        f.write(" ".join(command) + "\n" + output)
    return code, output


def discover(path, log_path):
    """gst-discoverer-1.0's findings: {ok, duration_s, streams: [(kind, codec)], width, height, rate,
    channels}; its output is printed."""
    code, output = run_gst(["gst-discoverer-1.0", path], log_path)
    print("  gst-discoverer-1.0 " + os.path.basename(path) + f" (exit {code}):\n"
          + "\n".join("    " + line for line in output.splitlines() if line.strip()), flush=True)
    found = {"ok": code == 0 and "Done discovering" in output and "error was encountered" not in output
             and "Missing plugins" not in output,
             "duration_s": None, "streams": re.findall(r"^\s*(audio|video) #\d+: (\S+)", output, re.M)}
    m = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", output)
    if m:
        found["duration_s"] = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    for key, pattern in (("width", r"Width: (\d+)"), ("height", r"Height: (\d+)"), ("rate", r"Sample rate: (\d+)"),
                         ("channels", r"Channels: (\d+)")):
        m = re.search(pattern, output)
        found[key] = int(m.group(1)) if m else None
    return found


def has_stream(found, kind, codec):
    return (kind, codec) in found["streams"]


def decode_audio(path, outdir, tag):
    """The file's audio as 48 kHz mono S16 samples (array), with the decoder's exit code."""
    pcm = os.path.join(outdir, f"{tag}-audio.s16")
    code, output = run_gst(["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "matroskademux", "!",
                            "opusdec", "!", "audioconvert", "!", "audioresample", "!",
                            f"audio/x-raw,format=S16LE,rate={AUDIO_RATE},channels=1", "!", "filesink",
                            f"location={pcm}"], os.path.join(outdir, f"{tag}-audio-decode.log"))
    samples = array.array("h")
    if os.path.exists(pcm):
        with open(pcm, "rb") as f:
            data = f.read()
        samples.frombytes(data[:len(data) // 2 * 2])
        if sys.byteorder != "little":
            samples.byteswap()
    if code != 0:
        print(f"  audio decoder exit {code}: {output[-800:]}", flush=True)
    return samples, code


def decode_video_frames(path, outdir, tag, fps=None, width=FRAME_W, height=FRAME_H):
    """Decodes the video to RGB width x height (at fps frames a second when given: one frame file each;
    else every frame into one file). [bytes of each frame], exit code."""
    folder = os.path.join(outdir, f"{tag}-frames")
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    rate = ["!", "videorate", "!", f"video/x-raw,framerate={fps}/1"] if fps else []
    sink = ["multifilesink", f"location={os.path.join(folder, 'frame-%04d.rgb')}"] if fps else \
        ["filesink", f"location={os.path.join(folder, 'all.rgb')}"]
    code, output = run_gst(["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "matroskademux", "!", "vp8dec",
                            "!", "videoconvert", "!", "videoscale", "!",
                            f"video/x-raw,format=RGB,width={width},height={height}"] + rate + ["!"] + sink,
                           os.path.join(outdir, f"{tag}-video-decode.log"))
    size = width * height * 3
    frames = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        frames += [data[i:i + size] for i in range(0, len(data) - size + 1, size)]
    if code != 0:
        print(f"  video decoder exit {code}: {output[-800:]}", flush=True)
    return frames, code


# ---------------------------------------------------------------------------------------------
# Audio measures (pure Python).

def hann(n):
    return [0.5 - 0.5 * math.cos(2.0 * math.pi * i / (n - 1)) for i in range(n)]


def goertzel_power(windowed, rate, freq):
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in windowed:
        s1, s2 = x + coeff * s1 - s2, s1
    return max(0.0, s1 * s1 + s2 * s2 - coeff * s1 * s2)


def levels_db(samples, rate, freqs, start_s, end_s, segment_s):
    """{freq: level in dBFS} over [start_s, end_s): each sine's amplitude from Goertzel powers of
    Hann-windowed segment_s segments, averaged (short segments keep a slightly drifting tone in its bin)."""
    n = int(segment_s * rate)
    window = hann(n)
    gain = sum(window)
    first, last = round(start_s * rate), min(len(samples), round(end_s * rate))
    segments = [[samples[i + k] / 32768.0 * window[k] for k in range(n)] for i in range(first, last - n + 1, n)]
    out = {}
    for freq in freqs:
        if not segments:
            out[freq] = -200.0
            continue
        power = sum(goertzel_power(s, rate, freq) for s in segments) / len(segments)
        amplitude = 2.0 * math.sqrt(power) / gain
        out[freq] = 20.0 * math.log10(amplitude) if amplitude > 0 else -200.0
    return out


def energy_db(levels):
    """The summed power of several levels, in dB."""
    return 10.0 * math.log10(sum(10.0 ** (db / 10.0) for db in levels.values()) or 1e-20)


# ---------------------------------------------------------------------------------------------
# The checks.

def check_refusals(rig, checks):
    again = rig.api.post(f"/v1/conferences/{ROOM}/recordings")
    checks.expect(again.status == 409, f"POST again while recording → 409 ({again.describe()[:300]})")
    empty = rig.api.post(f"/v1/conferences/{EMPTY_ROOM}/recordings")
    checks.expect(empty.status == 404, f"POST for {EMPTY_ROOM} (nobody in it) → 404 ({empty.describe()[:300]})")


def check_listed(rig, checks, rec_id):
    reply = rig.api.get("/v1/recordings")
    body = reply.json() if reply.status == 200 else {}
    ids = [item.get("id") for item in body.get("items", [])]
    checks.expect(reply.status == 200 and rec_id in ids and isinstance(body.get("quota_bytes"), int)
                  and isinstance(body.get("used_bytes"), int) and "next_page_token" in body,
                  f"GET /v1/recordings lists {rec_id} with quota_bytes {body.get('quota_bytes')} and used_bytes "
                  f"{body.get('used_bytes')} ({ids})")


def stop_recording(rig, checks, rec_id):
    """PATCH stopped → 202, then GET until "stopped"; the final JSON or None."""
    reply = rig.api.request("PATCH", f"/v1/recordings/{rec_id}", {"state": "stopped"})
    state = reply.json().get("state") if reply.status == 202 else None
    checks.expect(reply.status == 202 and state == "stopping",
                  f"PATCH /v1/recordings/{rec_id} {{\"state\":\"stopped\"}} → 202 \"stopping\" "
                  f"({reply.describe()[:300]})")
    final = rig.wait_state(rec_id, "stopped", STOP_WAIT_S, f"{rec_id} to be \"stopped\"")
    checks.expect(final is not None and final.get("reason") == "requested" and (final.get("bytes") or 0) > 0
                  and final.get("stopped_at") is not None,
                  f"GET /v1/recordings/{rec_id}: \"stopped\" within {STOP_WAIT_S:.0f} s, reason \"requested\", "
                  f"bytes > 0, stopped_at set ({json.dumps(final)})")
    return final


def check_events(rig, checks, rec_id):
    if rig.stream is None or not rig.stream.ok:
        checks.expect(False, "the event stream GET /v1/events could not be read")
        return
    stopped = rig.wait_events("recording.stopped", rec_id)
    started = rig.events("recording.started", rec_id)
    print(f"  events: recording.started {started}; recording.stopped {stopped}", flush=True)
    checks.expect(len(started) == 1 and started[0].get("conference_id") == ROOM,
                  f"the event stream carried recording.started for {rec_id} once ({len(started)})")
    checks.expect(len(stopped) == 1 and stopped[0].get("reason") == "requested" and stopped[0].get("state") == "stopped"
                  and (stopped[0].get("bytes") or 0) > 0,
                  f"the event stream carried recording.stopped for {rec_id} once, reason requested, bytes > 0 "
                  f"({stopped})")


def check_sidecar(server, checks, rec_id, state, reason):
    path = media_file(server, rec_id, "json")
    try:
        with open(path) as f:
            sidecar = json.load(f)
    except (OSError, ValueError) as e:
        sidecar = {"error": repr(e)}
    checks.expect(sidecar.get("state") == state and sidecar.get("reason") == reason,
                  f"the sidecar {os.path.basename(path)} says {state}/{reason} ({json.dumps(sidecar)})")


def check_download(rig, checks, rec, outdir):
    """The media over REST, whole and by ranges; the path of the downloaded copy, or None."""
    rec_id, size = rec["id"], rec.get("bytes")
    url = f"/v1/recordings/{rec_id}/media"
    whole = rig.api.get(url)
    with open(media_file(rig.server, rec_id), "rb") as f:
        on_disk = f.read()
    checks.expect(whole.status == 200 and whole.content_type == "video/webm" and len(whole.body) == size,
                  f"GET {url} → 200 {whole.content_type} with {len(whole.body)} bytes (GET says {size})")
    checks.expect(hashlib.sha256(whole.body).digest() == hashlib.sha256(on_disk).digest(),
                  f"the download is the file on disk ({len(on_disk)} bytes, sha256 "
                  f"{hashlib.sha256(on_disk).hexdigest()[:16]}…)")
    part = rig.api.get(url, headers={"Range": "bytes=0-99"})
    checks.expect(part.status == 206 and len(part.body) == 100 and part.header("content-range") == f"bytes 0-99/{size}"
                  and part.body == whole.body[:100],
                  f"Range bytes=0-99 → 206 with {len(part.body)} bytes, Content-Range "
                  f"{part.header('content-range')!r}, the file's first 100 bytes: {part.body == whole.body[:100]} "
                  f"({part.status})")
    beyond = rig.api.get(url, headers={"Range": f"bytes={size}-"})
    checks.expect(beyond.status == 416, f"Range bytes={size}- → 416 ({beyond.status}, Content-Range "
                                        f"{beyond.header('content-range')!r})")
    if whole.status != 200 or not whole.body:
        return None
    path = os.path.join(outdir, f"{rec_id}.webm")
    with open(path, "wb") as f:
        f.write(whole.body)
    return path


def check_discover(checks, path, outdir, label, duration_s=None):
    found = discover(path, os.path.join(outdir, f"{label}-discoverer.log"))
    checks.expect(found["ok"], f"{label}: gst-discoverer-1.0 reads the file without an error")
    checks.expect(has_stream(found, "video", "VP8") and has_stream(found, "audio", "Opus"),
                  f"{label}: a VP8 video stream and an Opus audio stream ({found['streams']})")
    if duration_s is not None:
        seen = found["duration_s"]
        checks.expect(seen is not None and abs(seen - duration_s) <= DURATION_TOLERANCE_S,
                      f"{label}: duration {seen} s, {duration_s:.0f} ± {DURATION_TOLERANCE_S:.0f} s")
        checks.expect((found["width"], found["height"], found["rate"], found["channels"]) == (1280, 720, 48000, 1),
                      f"{label}: video {found['width']}x{found['height']}, audio {found['rate']} Hz "
                      f"{found['channels']} channel(s) (want 1280x720, 48000 Hz mono)")
    return found


def check_audio(checks, path, outdir):
    samples, _ = decode_audio(path, outdir, "recording")
    seconds = len(samples) / AUDIO_RATE
    print(f"  audio: {seconds:.2f} s decoded", flush=True)
    end = seconds - TONES_END_MARGIN_S
    if not checks.expect(end - TONES_FROM_S >= 3.0,
                         f"audio: at least {TONES_FROM_S + 3.5:.1f} s decoded ({seconds:.2f} s)"):
        return
    tones = [freq for _, _, freq, _ in PARTIES]
    levels = levels_db(samples, AUDIO_RATE, tones + [CONTROL_HZ], TONES_FROM_S, end, 0.25)
    control = levels[CONTROL_HZ]
    print(f"  audio levels {TONES_FROM_S:.1f}-{end:.1f} s: "
          + ", ".join(f"{freq:g} Hz {db:.1f} dBFS" for freq, db in levels.items()), flush=True)
    for name, _, freq, _ in PARTIES:
        checks.expect(levels[freq] - control >= TONE_MARGIN_DB,
                      f"audio: {name}'s {freq:g} Hz tone {levels[freq]:.1f} dBFS is ≥ {TONE_MARGIN_DB:.0f} dB "
                      f"above the {CONTROL_HZ:g} Hz control ({control:.1f} dBFS)")
    lo, hi = PROMPT_WINDOW_S
    later = (TONES_FROM_S + 1.0, TONES_FROM_S + 1.0 + hi - lo)
    prompt = energy_db(levels_db(samples, AUDIO_RATE, PROMPT_PROBE_HZ, lo, hi, 0.05))
    rest = energy_db(levels_db(samples, AUDIO_RATE, PROMPT_PROBE_HZ, later[0], later[1], 0.05))
    checks.expect(prompt - rest >= PROMPT_MARGIN_DB,
                  f"audio: the spoken prompt at the start: {lo:g}-{hi:g} s carries {prompt:.1f} dB at frequencies away "
                  f"from the tones, {later[0]:g}-{later[1]:g} s {rest:.1f} dB (≥ {PROMPT_MARGIN_DB:.0f} dB more)")


def grid_colours(probes):
    names = {is_red: "red", is_blue: "blue", is_green: "green", is_black: "black"}
    out = []
    for i in range(4):
        rgb = probes[f"grid tile {i}"]
        out.append(next((name for test, name in names.items() if test(rgb)), f"other {rgb}"))
    return out


def check_video(checks, path, outdir):
    frames, _ = decode_video_frames(path, outdir, "recording", fps=1)
    print(f"  video: {len(frames)} frames at 1 a second", flush=True)
    for i, frame in enumerate(frames):
        probes = probe_frame(frame)
        print(f"    {i} s: " + ", ".join(f"tile {t} {probes[f'grid tile {t}']}" for t in range(4))
              + f" → {grid_colours(probes)}", flush=True)
    if not checks.expect(len(frames) >= 5, f"video: the file decodes to a frame a second ({len(frames)} frames)"):
        return
    middle = len(frames) // 2
    write_ppm(os.path.join(outdir, f"recording-frame-{middle}s.ppm"), frames[middle])
    colours = grid_colours(probe_frame(frames[middle]))
    wanted = sorted(colour for colour in ("red", "blue", "green"))
    checks.expect(sorted(colours[:3]) == wanted and colours[3] == "black",
                  f"video: the frame at {middle} s shows the 2x2 grid of 3: red, blue and green in tiles 0-2 (in the "
                  f"order {colours[:3]}: the speaker comes first), tile 3 black ({colours[3]}); kept as "
                  f"recording-frame-{middle}s.ppm")


def check_delete(rig, checks, rec_id):
    reply = rig.api.delete(f"/v1/recordings/{rec_id}")
    checks.expect(reply.status == 204, f"DELETE /v1/recordings/{rec_id} → 204 ({reply.describe()[:200]})")
    after = rig.api.get(f"/v1/recordings/{rec_id}")
    checks.expect(after.status == 404, f"GET after DELETE → 404 ({after.status})")
    left = [p for p in (media_file(rig.server, rec_id), media_file(rig.server, rec_id, "json")) if os.path.exists(p)]
    checks.expect(not left, f"its media and sidecar files are gone ({left})")


def crash_recording(rig, checks):
    """A second recording, SIGKILL half-way; (recording id, its file) or (None, None)."""
    print("--- crash: a second recording, chorusd killed with SIGKILL while it runs", flush=True)
    rec = start_recording(rig, checks, "crash")
    if rec is None:
        return None, None
    rec_id = rec["id"]
    running = rig.api.delete(f"/v1/recordings/{rec_id}")
    checks.expect(running.status == 409, f"DELETE while it records → 409 ({running.describe()[:200]})")
    started = time.monotonic()
    seen = [None]

    def grown():
        seen[0] = rig.recording(rec_id)
        return seen[0] if seen[0] and (seen[0].get("bytes") or 0) > CRASH_BYTES else None
    try:
        h.poll_until(grown, CRASH_WAIT_S, f"{rec_id} to pass {CRASH_BYTES} bytes", 0.2)
        checks.expect(True, f"crash: {rec_id} has {seen[0]['bytes']} bytes after {time.monotonic() - started:.1f} s")
    except h.Failure as e:
        checks.expect(False, f"crash: {e} (last GET {json.dumps(seen[0])})")
    path = media_file(rig.server, rec_id)
    if rig.stream is not None:
        rig.stream.close()
        rig.stream = None
    os.kill(rig.server.proc.pid, signal.SIGKILL)
    rig.server.proc.wait(timeout=10)
    size = os.path.getsize(path) if os.path.exists(path) else None
    print(f"  chorusd (pid {rig.server.proc.pid}) killed with SIGKILL (exit {rig.server.proc.returncode}); "
          f"{os.path.basename(path)}: {size} bytes", flush=True)
    return rec_id, path


def check_crash_file(checks, path, outdir):
    if not checks.expect(path is not None and os.path.exists(path), f"crash: the file {path} is there"):
        return
    check_discover(checks, path, outdir, "crash")
    frames, _ = decode_video_frames(path, outdir, "crash", width=SMALL_W, height=SMALL_H)
    checks.expect(len(frames) >= CRASH_MIN_FRAMES, f"crash: the video decodes to {len(frames)} frames "
                                                   f"(≥ {CRASH_MIN_FRAMES})")
    samples, _ = decode_audio(path, outdir, "crash")
    checks.expect(len(samples) >= AUDIO_RATE,
                  f"crash: the audio decodes to {len(samples) / AUDIO_RATE:.2f} s (≥ 1 s)")


def check_restart(args, checks, data_dir, rec_id, path):
    """A new chorusd on the killed one's data dir: the interrupted recording is closed; then a recording
    ends with the conference."""
    print("--- restart: a new chorusd on the same data dir", flush=True)
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-restarted", data_dir=data_dir,
                       extra_args=["--media-timeout", str(MEDIA_TIMEOUT_S)]).start()
    rig = Rig(server, args.output_dir)
    try:
        if rec_id is not None:
            rec = rig.recording(rec_id)
            size = os.path.getsize(path) if os.path.exists(path) else None
            checks.expect(rec is not None and rec.get("state") == "stopped" and rec.get("reason") == "interrupted"
                          and rec.get("bytes") == size,
                          f"restart: GET /v1/recordings/{rec_id} → \"stopped\", reason \"interrupted\", bytes = the "
                          f"file's {size} ({json.dumps(rec)})")
            media = rig.api.get(f"/v1/recordings/{rec_id}/media")
            checks.expect(media.status == 200 and len(media.body) == size,
                          f"restart: its /media → 200 with {len(media.body)} bytes ({media.status})")
        print("--- ended: the recording stops when the last participant leaves", flush=True)
        rig.open_events()
        red = rig.join(checks, "RED", lambda ssrc, lp, sp: sender_command(RED_ARGB, ssrc, lp, sp))
        rec = start_recording(rig, checks, "ended")
        if rec is not None:
            try:  # something written before the conference ends (not a check: the end is what is tested)
                h.poll_until(lambda: (rig.recording(rec["id"]) or {}).get("bytes"), 10.0, "bytes written", 0.2)
            except h.Failure as e:
                print(f"  note: {e}", flush=True)
            rig.stop_media()
            rig.hang_up(red, checks)
            final = rig.wait_state(rec["id"], "stopped", ENDED_WAIT_S, f"{rec['id']} to stop with the conference")
            checks.expect(final is not None and final.get("reason") == "conference_ended",
                          f"ended: \"stopped\" with reason \"conference_ended\" within {ENDED_WAIT_S:.0f} s of the "
                          f"BYE ({json.dumps(final)})")
            stopped = rig.wait_events("recording.stopped", rec["id"])
            checks.expect(any(e.get("reason") == "conference_ended" for e in stopped),
                          f"ended: recording.stopped carried reason conference_ended ({stopped})")
        rig.close()
        h.expect_quiescent(server, checks, "restarted chorusd")
    finally:
        rig.close()
    h.expect_clean_stop(server, checks)


def with_noise_camera(args, checks, name, label, case, binary=None, extra_args=()):
    """A fresh chorusd (`binary`, default args.chorusd) with the mcu room and one caller sending a noise camera
    (videotestsrc snow: the composite runs at its full bitrate); case(rig, server); then everyone hangs up, the
    server is quiescent and stops cleanly."""
    server = h.Chorusd(binary or args.chorusd, args.output_dir, name=name,
                       extra_args=["--media-timeout", str(MEDIA_TIMEOUT_S), *extra_args]).start()
    rig = Rig(server, args.output_dir)
    try:
        make_room(rig.api, checks)
        rig.open_events()
        rig.join(checks, "NOISE", lambda ssrc, lp, sp: pattern_sender_command("snow", ssrc, lp, sp))
        case(rig, server)
        rig.stop_media()
        for caller in rig.callers:
            rig.hang_up(caller, checks)
        h.expect_quiescent(server, checks, label)
    finally:
        rig.close()
    h.expect_clean_stop(server, checks)


def check_quota(args, checks):
    print(f"--- quota: a chorusd with --recordings-quota-mb {QUOTA_MB}, one noise camera", flush=True)

    def case(rig, server):
        rec = start_recording(rig, checks, "quota")
        if rec is not None:
            final = rig.wait_state(rec["id"], "stopped", QUOTA_WAIT_S, f"{rec['id']} to stop at the quota")
            size = (final or {}).get("bytes") or 0
            checks.expect(final is not None and final.get("reason") == "quota",
                          f"quota: \"stopped\" with reason \"quota\" within {QUOTA_WAIT_S:.0f} s ({json.dumps(final)})")
            checks.expect(QUOTA_MB << 20 <= size <= 2 * (QUOTA_MB << 20),
                          f"quota: the file used the quota: {size} bytes, between {QUOTA_MB} and {2 * QUOTA_MB} MiB")
            if final is not None:
                check_discover(checks, media_file(server, rec["id"]), args.output_dir, "quota")
            listing = rig.api.get("/v1/recordings")
            body = listing.json() if listing.status == 200 else {}
            checks.expect(body.get("quota_bytes") == QUOTA_MB << 20 and (body.get("used_bytes") or 0) >= QUOTA_MB << 20,
                          f"quota: GET /v1/recordings says quota_bytes {body.get('quota_bytes')}, used_bytes "
                          f"{body.get('used_bytes')}")
            refused = rig.api.post(f"/v1/conferences/{ROOM}/recordings")
            checks.expect(refused.is_problem(507),
                          f"quota: POST again → 507 problem+json ({refused.describe()[:300]})")
            counted = rig.api.metrics("chorus_recordings_")
            checks.expect(counted.get("chorus_recordings_stopped_total", 0) >= 1
                          and counted.get("chorus_recordings_refused_total", 0) >= 1,
                          f"quota: /metrics counts the stop and the refusal ({counted})")
            dropped = rig.api.metrics("chorus_recording_media_dropped")
            checks.expect(dropped.get("chorus_recording_media_dropped_total") == 0,
                          f"quota: the recorders dropped nothing on a healthy disk ({dropped})")

    with_noise_camera(args, checks, "chorusd-quota", "quota chorusd", case,
                      extra_args=["--recordings-quota-mb", str(QUOTA_MB)])


FULL_DISK_WRAPPER = """#!/bin/sh
# chorusd with <data dir>/recordings on a 1 MiB tmpfs, in a mount namespace of its own (test_recording's
# full-disk case). unshare and sh exec in place, so the PID the harness holds is chorusd's.
data=""; prev=""
for arg in "$@"; do [ "$prev" = "--data-dir" ] && data="$arg"; prev="$arg"; done
mkdir -p "$data/recordings"
exec unshare -m --propagation private -- sh -c \
  'mount -t tmpfs -o size=1m,mode=0700 chorus-full "$0/recordings" && exec "$@"' "$data" "{chorusd}" "$@"
"""
FULL_DISK_WAIT_S = 60.0


def full_disk_wrapper(args):
    """The wrapper script's path, or None (with a note) where a tmpfs cannot be mounted in a new mount namespace."""
    probe_dir = os.path.join(args.output_dir, "mount-probe")
    os.makedirs(probe_dir, exist_ok=True)
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "--", "sh", "-c",
                            f"mount -t tmpfs -o size=64k probe {probe_dir}"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        print(f"  note: full disk case skipped: a tmpfs cannot be mounted here "
              f"({probe.stderr.decode(errors='replace').strip()})", flush=True)
        return None
    path = os.path.join(args.output_dir, "chorusd-full-disk.sh")
    with open(path, "w") as f:
        f.write(FULL_DISK_WRAPPER.replace("{chorusd}", os.path.abspath(args.chorusd)))
    os.chmod(path, 0o755)
    return path


def check_full_disk(args, checks):
    print("--- full disk: recordings on a 1 MiB tmpfs, one noise camera", flush=True)
    wrapper = full_disk_wrapper(args)
    if wrapper is None:
        return

    def case(rig, server):
        rec = start_recording(rig, checks, "full disk")
        if rec is not None:
            final = rig.wait_state(rec["id"], "failed", FULL_DISK_WAIT_S, f"{rec['id']} to fail on the full disk")
            checks.expect(final is not None and final.get("reason") == "error" and final.get("error"),
                          f"full disk: \"failed\" with reason \"error\" and the write error within "
                          f"{FULL_DISK_WAIT_S:.0f} s ({json.dumps(final)})")
            failed = rig.wait_events("recording.failed", rec["id"])
            checks.expect(bool(failed), f"full disk: recording.failed on the event stream ({failed})")
            counted = rig.api.metrics("chorus_recordings_")
            checks.expect(counted.get("chorus_recordings_failed_total", 0) >= 1,
                          f"full disk: /metrics counts the failure ({counted})")
            listed = rig.api.get(f"/v1/conferences/{ROOM}/participants")
            people = listed.json().get("items", []) if listed.status == 200 else []
            checks.expect(len(people) == 1,
                          f"full disk: the conference goes on, NOISE is still in it ({listed.status}, {len(people)})")

    with_noise_camera(args, checks, "chorusd-full-disk", "full-disk chorusd", case, binary=wrapper)


def check_cap(args, checks):
    print("--- cap: a chorusd with --recordings-max-concurrent 1, a silent caller in each of two rooms", flush=True)
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-cap",
                       extra_args=["--media-timeout", str(MEDIA_TIMEOUT_S), "--recordings-max-concurrent", "1"]).start()
    rig = Rig(server, args.output_dir)
    try:
        make_room(rig.api, checks)
        reply = rig.api.post("/v1/rooms", {"id": CAP_ROOM, "name": "The second room", "mode": "mcu"})
        checks.expect(reply.status == 201, f"cap: room {CAP_ROOM} made over REST ({reply.status})")
        rig.join_silent(checks, "FIRST", ROOM)
        rig.join_silent(checks, "SECOND", CAP_ROOM)
        first = start_recording(rig, checks, f"cap: {ROOM}")
        if first is None:
            raise h.Failure(f"cap: no recording of {ROOM} started, so the cap is not reached")
        for attempt in range(1, CAP_REFUSALS + 1):
            refused = rig.api.post(f"/v1/conferences/{CAP_ROOM}/recordings")
            retry = refused.header("retry-after")
            checks.expect(refused.is_problem(503) and retry.isdigit() and int(retry) > 0,
                          f"cap: POST for {CAP_ROOM} while {ROOM} records ({attempt}/{CAP_REFUSALS}) → 503 "
                          f"problem+json with Retry-After {retry!r} ({refused.describe()[:300]})")
        listed = rig.api.get(f"/v1/recordings?conference_id={CAP_ROOM}")
        items = listed.json().get("items") if listed.status == 200 else None
        checks.expect(items == [], f"cap: the refusals left no recording of {CAP_ROOM} ({listed.describe()[:300]})")
        counted = rig.api.metrics("chorus_recordings_")
        checks.expect(counted.get("chorus_recordings_started_total") == 1
                      and counted.get("chorus_recordings_refused_total") == CAP_REFUSALS,
                      f"cap: /metrics counts 1 started and {CAP_REFUSALS} refused ({counted})")
        rig.wait_bytes(first["id"])
        stop_recording(rig, checks, first["id"])
        second = start_recording(rig, checks, f"cap: {CAP_ROOM} once {ROOM}'s recording is stopped", room=CAP_ROOM)
        if second is not None:
            rig.wait_bytes(second["id"])
            stop_recording(rig, checks, second["id"])
        for caller in rig.callers:
            rig.hang_up(caller, checks)
        h.expect_quiescent(server, checks, "cap chorusd")
    finally:
        rig.close()
    h.expect_clean_stop(server, checks)


def record_three_parties(args, checks):
    """Steps up to the SIGKILL; (data dir, crash recording id, its file)."""
    server = h.Chorusd(args.chorusd, args.output_dir, extra_args=["--media-timeout", str(MEDIA_TIMEOUT_S)]).start()
    rig = Rig(server, args.output_dir)
    try:
        make_room(rig.api, checks)
        reply = rig.api.post("/v1/rooms", {"id": EMPTY_ROOM, "name": "Nobody here", "mode": "mcu"})
        checks.expect(reply.status == 201, f"room {EMPTY_ROOM} made over REST ({reply.status})")
        rig.open_events()
        print("--- RED, BLUE, GREEN join, each with a camera and a tone", flush=True)
        for name, colour, freq, _ in PARTIES:
            rig.join(checks, name, lambda ssrc, lp, sp, c=colour: sender_command(c, ssrc, lp, sp), tone_hz=freq)

        print(f"--- start: record for {RECORD_S:.0f} s", flush=True)
        rec = start_recording(rig, checks, "start")
        if rec is None:
            raise h.Failure("no recording started; log lines with \"recording\":\n"
                            + "\n".join(line for line in server.log_lines() if "recording" in line)[-3000:])
        started = time.monotonic()
        rec_id = rec["id"]
        check_refusals(rig, checks)
        check_listed(rig, checks, rec_id)
        time.sleep(max(0.0, started + RECORD_S - time.monotonic()))  # the recording is meant to last this long

        print("--- stop", flush=True)
        final = stop_recording(rig, checks, rec_id)
        check_events(rig, checks, rec_id)
        check_sidecar(server, checks, rec_id, "stopped", "requested")
        if final is not None:
            print("--- media", flush=True)
            path = check_download(rig, checks, final, args.output_dir)
            if path is not None:
                print("--- discover", flush=True)
                check_discover(checks, path, args.output_dir, "recording", RECORD_S)
                print("--- audio", flush=True)
                check_audio(checks, path, args.output_dir)
                print("--- video", flush=True)
                check_video(checks, path, args.output_dir)
        print("--- delete", flush=True)
        check_delete(rig, checks, rec_id)

        crash_id, crash_path = crash_recording(rig, checks)
    finally:
        rig.close(hang_up=True)
        if server.alive():
            h.stop_process(server.proc)
    return server.data_dir, crash_id, crash_path


def body(args):
    names = [args.only] if args.only else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise h.Failure(f"unknown case {unknown}; known: {', '.join(CASES)}")
    require_gstreamer()
    checks = h.Checks()
    if "record" in names:
        data_dir, crash_id, crash_path = record_three_parties(args, checks)
        check_crash_file(checks, crash_path, args.output_dir)
        check_restart(args, checks, data_dir, crash_id, crash_path)
    if "quota" in names:
        check_quota(args, checks)
    if "full_disk" in names:
        check_full_disk(args, checks)
    if "cap" in names:
        check_cap(args, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help=f"run one case: {', '.join(CASES)}")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "for a loopback-only namespace")


if __name__ == "__main__":
    sys.exit(main())
