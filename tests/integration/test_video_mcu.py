#!/usr/bin/env python3
"""Video MCU: a room in `mcu` mode decodes every sender's video and sends each receiver one composed
1280x720 picture in the codec it asked for; the picture follows the layout asked for over REST, a
receiver's PLI gets a key frame, and a content (slides) stream fills the presentation layout's large tile.

Set-up (one chorusd, `--media-timeout 120` because the viewers never send RTP):
  * Room `mcutest` is made over REST with `"mode": "mcu"`.
  * Python SIP UAs over UDP (one socket each) join, each after the previous one's 200: RED and BLUE
    offer `m=video ... a=sendonly`, VIEWER `a=recvonly`; every VP8 section is payload type 96
    with `a=rtcp-mux` and `a=rtcp-fb:96 nack pli` / `ccm fir`, and every offer has an `m=audio` PCMU
    sendrecv section on a socket kept open (silent) as a phone would have.
  * Senders are gst-launch pipelines (videotestsrc solid colour, 320x240 at 15 fps, vp8enc, rtpvp8pay)
    whose udpsink binds the port their own SDP section names, so chorusd sees the SDP address
    (symmetric RTP).
  * A viewer's SDP port is a Python relay socket: it notes the arrival of every RTP packet and whether it
    starts a key frame (VP8: RFC 7741 §4.2 descriptor, then RFC 6386 §9.1 frame tag, start code and size;
    H.264: RFC 6184 single NAL / STAP-A / FU-A start carrying an IDR or SPS, the SPS read for size and
    profile), forwards the RTP to a gst-launch receiver (jitter buffer → depayloader → decoder → RGB
    320x180 at 5 fps → one raw file per frame), and sends PLIs from the same socket.
  * A watcher thread per viewer reads each complete frame file once and keeps the colour (a 5x5 mean) at
    the probe points of the layouts below, with the file's mtime (the moment the receiver wrote it).

Checks (`--only grid|keyframe|layout|h264|presentation` runs one; the set-up always runs; each case
leaves the room as it found it: unpinned grid, RED, BLUE, VIEWER):
  grid      within 15 s of VIEWER's ACK a frame shows the 2x2 grid of 3 members in join order: tile 0
            red, tile 1 blue, tile 2 (VIEWER, no video) dark, tile 3 (nobody) black; in that frame
            RED's and BLUE's 4:3 pictures keep their shape in their 16:9 tiles: the colour 20 % in
            from both sides, dark side bars 5 % in (a 4:3 picture fitted into 16:9 leaves 12.5 % each
            side; a stretched face is worse than bars). The composite is RTP payload type 96
            under the SSRC of the answer's a=ssrc, and its key frames are 1280x720. Its frame rate
            (pictures a second, median RTP timestamp step) is printed, not checked: it depends on the CPU.
  keyframe  3 times, at least 1.2 s apart and each once no key frame came for 1 s: VIEWER sends a PLI
            (RFC 4585 §6.3.1, media SSRC = chorusd's) and a key frame starts arriving within 2 s (its delay printed against
            issue 11's 500 ms target; --strict-timing asserts the target), or, on a machine loaded enough to
            starve the encoder, within 6 s once /metrics shows chorusd asked its encoder for one
            (chorus_video_mcu_keyframes_forced_total went up after the PLI).
            (With the PLI not sent, or naming another SSRC, no key frame comes: the encoder's own
            interval is >= 5 s.)
  layout    PATCH /v1/conferences/mcutest {"layout": "speaker"} → 200 with "layout": "speaker", and a
            frame written within 5 s of that 200 (delay printed against the 1 s target) shows the speaker layout (RED large: nothing is pinned
            and nobody sends audio, so no one is the active speaker and the first member is large;
            BLUE and VIEWER in a centred filmstrip of 2; black beside the large tile). Then
            {"layout": "grid", "pinned_participant": BLUE's id} → BLUE in tile 0, RED in tile 1 within
            1 s. GET /v1/conferences/mcutest shows "layout": "grid", and the event stream carried
            `layout.changed`. Only frames written after the PATCH's 200 count; the measured switch time
            includes the receiver's own latency (100 ms jitter buffer, 5 fps sampling), so it is an upper
            bound on chorusd's. Then {"layout": "grid", "pinned_participant": null} puts the room back.
  h264      (issue 11: a VP8 receiver and an H.264 receiver in one room each decode their stream.)
            H264VIEWER joins with `m=video` recvonly offering only H264/90000 as payload type 97
            (profile-level-id=42e01f, packetization-mode=1, `nack pli`, rtcp-mux): the answer is 97
            H264/90000 with packetization-mode=1 and a Constrained Baseline profile-level-id. Within 15 s
            of its ACK both VIEWER (VP8) and H264VIEWER (H.264) decode a frame, written after that ACK,
            showing the grid of 4 (red, blue, VIEWER dark, H264VIEWER dark grey: its placeholder, not the
            black of the empty cell it was, so the frame shows 4 members); REST lists 4 participants.
            H264VIEWER's composite is payload type 97 under its answer's a=ssrc, and its SPS says
            Constrained Baseline 1280x720. After 1 s without one, a PLI from H264VIEWER gets an IDR (or
            the SPS before it) within 2 s (500 ms target printed). H264VIEWER hangs up (BYE → 200). Skipped, with the reason
            printed, when x264enc, avdec_h264 or rtph264depay is missing.
  presentation  CONTENT joins with two sendonly VP8 sections, each with its own port and gst sender: a
            camera (green) and `a=content:slides` (RFC 4796; yellow), echoed in the answer. Once VIEWER
            shows its camera in grid tile 3, PATCH {"layout": "presentation"} → a frame written within 5 s (1 s target printed)
            of the 200 shows the slides in the large tile (yellow) and the filmstrip of 4: CONTENT's
            camera (green: no one speaks, so the content owner's camera comes first), then RED, BLUE,
            VIEWER in join order; black beside the large tile. PATCH {"layout": "grid"} → within 5 s
            the grid of 4 again (red, blue, dark, green: no slides in the grid). CONTENT hangs up.
Then the rest hang up (BYE → 200) and chorusd returns to no transactions, dialogs or media ports.

Geometry (1280x720; the frames are read at a quarter of that, 320x180), as mixer/video/video_layout.hpp
documents it: grid of n members is 1x1, 2x2, 3x3 or 4x4, cell = (1280/cols, 720/rows) rounded down to
even, member i at column i % cols, row i // cols. Speaker: the large tile is the largest 16:9 rectangle
in 1280x600 (1066x600 at x 106, y 0), the filmstrip's k tiles are 212x120 at y 600, centred as a group
(x0 = even_floor((1280 - 212k) / 2)). Presentation: the speaker geometry with the content owner's slides
in the large tile; filmstrip = the speaker if any, else the content owner's camera, then the others in
join order, at most 6.

The test runs in a private network namespace with only loopback (it re-executes itself under
`unshare -n`) and skips when that is not allowed or GStreamer's tools/elements are missing.
By hand: `python3 tests/integration/test_video_mcu.py --chorusd build/bin/chorusd [--only h264]`.
Frames that matched (or the last one seen, when none did) are kept as .ppm files in the output folder.
"""

import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402
from video_peers import (  # noqa: E402
    H264, OUT_H, OUT_W, ROOM, VP8, Caller, Session, VideoSection, Viewer, describe_key, log_tail, sender_command,
    start_gst)

TEST = "test_video_mcu"
MEDIA_TIMEOUT_S = 120  # the viewers never send RTP; the default inactivity timeout would end their calls

# videotestsrc's foreground-color is big-endian ARGB
RED_ARGB, BLUE_ARGB, GREEN_ARGB, YELLOW_ARGB = 0xFFFF0000, 0xFF0000FF, 0xFF00FF00, 0xFFFFFF00

GRID_TIMEOUT_S = 15.0
FIRST_FRAME_KICK_S = 5.0  # no decoded frame this long after a viewer's ACK: one PLI, said aloud
LAYOUT_SWITCH_S = 1.0
LAYOUT_WAIT_S = 5.0  # how long to look for the new layout at all (to report how late it was)
STEADY_FRAMES = 3  # frames after the switch that must show the new layout too
KEYFRAME_LATENCY_S = 0.5
KEYFRAME_ANSWER_S = 2.0  # a key frame this soon after a PLI is its answer (the periodic one is 10 s apart)
# On a loaded machine (make test's integration phase shares two cores with builds and other tests) the
# encoder was seen at 5 fps and a PLI's key frame 2 s late: the answer may then come up to this late,
# provided chorusd counted the request to its encoder (FORCED_KEYFRAMES went up after the PLI).
KEYFRAME_ANSWER_LOADED_S = 6.0
FORCED_KEYFRAMES = "chorus_video_mcu_keyframes_forced_total"
# Issue 11's figures (a layout on screen within 1 s, a key frame within 500 ms of a PLI) are printed
# against their targets; the checks assert the behaviour (the new layout shows, the PLI is answered)
# with bounds that hold on a loaded machine: a test never passes or fails on speed (tests/integration/
# README.md). --strict-timing asserts the targets too (by hand, on a quiet machine).
STRICT_TIMING = False
PLI_ROUNDS = 3
PLI_SPACING_S = 1.2
QUIET_BEFORE_PLI_S = 1.0  # no key frame for this long before a PLI, so the one that follows is its answer
QUIET_WAIT_S = 8.0
FLOW_PACKETS = 30
EVENT_WAIT_S = 5.0

GST_ELEMENTS = {  # element: Debian package
    "videotestsrc": "gstreamer1.0-plugins-base", "videoconvert": "gstreamer1.0-plugins-base",
    "videoscale": "gstreamer1.0-plugins-base", "videorate": "gstreamer1.0-plugins-base",
    "vp8enc": "gstreamer1.0-plugins-good", "vp8dec": "gstreamer1.0-plugins-good",
    "rtpvp8pay": "gstreamer1.0-plugins-good", "rtpvp8depay": "gstreamer1.0-plugins-good",
    "rtpjitterbuffer": "gstreamer1.0-plugins-good", "udpsrc": "gstreamer1.0-plugins-good",
    "udpsink": "gstreamer1.0-plugins-good", "multifilesink": "gstreamer1.0-plugins-good",
}
# The h264 case only: chorusd's encoder (same GStreamer install), the receiver's depayloader and decoder.
H264_ELEMENTS = {"x264enc": "gstreamer1.0-plugins-ugly", "avdec_h264": "gstreamer1.0-libav",
                 "rtph264depay": "gstreamer1.0-plugins-good"}


# ---------------------------------------------------------------------------------------------
# Colours (tolerant: VP8/H.264 at these rates, 4:2:0 chroma and two scalings blur the edges, not the centres).

def is_red(rgb):
    r, g, b = rgb
    return r > 180 and g < 70 and b < 70


def is_blue(rgb):
    r, g, b = rgb
    return b > 180 and r < 70 and g < 70


def is_green(rgb):
    r, g, b = rgb
    return g > 180 and r < 70 and b < 70


def is_yellow(rgb):
    r, g, b = rgb
    return r > 180 and g > 180 and b < 70


def is_dark(rgb):
    """A member without video: a plain dark tile (black would do too)."""
    return all(c < 90 for c in rgb)


def is_black(rgb):
    """The background: no cell, or outside every tile."""
    return all(c < 40 for c in rgb)


def is_placeholder(rgb):
    """A member without video told apart from an empty cell: dark grey (chorusd draws 0x303030), not black."""
    return all(25 <= c < 90 for c in rgb)


COLOUR_NAMES = {is_red: "red", is_blue: "blue", is_green: "green", is_yellow: "yellow", is_dark: "dark",
                is_black: "black", is_placeholder: "dark grey (a member, not black)"}

GRID_EXPECTED = {"grid tile 0": is_red, "grid tile 1": is_blue, "grid tile 2": is_dark, "grid tile 3": is_black}
SPEAKER_EXPECTED = {"large centre": is_red, "large upper right": is_red,
                    "filmstrip tile 0": is_blue, "filmstrip tile 1": is_dark, "left of large": is_black}
GRID_FIT_EXPECTED = {"grid tile 0 picture left": is_red, "grid tile 0 picture right": is_red,
                     "grid tile 0 left bar": is_dark, "grid tile 1 right bar": is_dark}
PINNED_GRID_EXPECTED = {"grid tile 0": is_blue, "grid tile 1": is_red, "grid tile 2": is_dark,
                        "grid tile 3": is_black}
UNPINNED_GRID_EXPECTED = {"grid tile 0": is_red, "grid tile 1": is_blue}
# Tile 3 is H264VIEWER's placeholder, not the black of the empty cell it was: the frame shows 4 members.
H264_GRID_EXPECTED = {"grid tile 0": is_red, "grid tile 1": is_blue, "grid tile 2": is_dark,
                      "grid tile 3": is_placeholder}
CONTENT_GRID_EXPECTED = {"grid tile 0": is_red, "grid tile 1": is_blue, "grid tile 2": is_dark,
                         "grid tile 3": is_green}
PRESENTATION_EXPECTED = {"large centre": is_yellow, "large upper right": is_yellow,
                         "filmstrip of 4 tile 0": is_green, "filmstrip of 4 tile 1": is_red,
                         "filmstrip of 4 tile 2": is_blue, "filmstrip of 4 tile 3": is_dark,
                         "left of large": is_black}


def describe_expected(expected):
    return ", ".join(f"{probe} {COLOUR_NAMES[test]}" for probe, test in expected.items())


def matches(frame, expected):
    return all(test(frame.probes[probe]) for probe, test in expected.items())


def show_probes(frame, expected):
    return ", ".join(f"{probe}={frame.probes[probe]}" for probe in expected)


# ---------------------------------------------------------------------------------------------
# GStreamer: the tools and elements the test needs.

def missing_elements(elements):
    """[(element, Debian package)] of `elements` that gst-inspect does not know."""
    inspect = h.require_binary("gst-inspect-1.0", "gstreamer1.0-tools")
    return [(element, package) for element, package in elements.items()
            if subprocess.run([inspect, "--exists", element], capture_output=True, timeout=60).returncode != 0]


def require_gstreamer():
    h.require_binary("gst-launch-1.0", "gstreamer1.0-tools")
    for element, package in missing_elements(GST_ELEMENTS):
        raise h.Skip(f"GStreamer element {element} is missing (Debian package {package})")


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
# The participants.

def join_sender(session, checks, name, feeds):
    """A caller with one sendonly VP8 section per (colour, content) of `feeds`; after its ACK each
    section's gst sender starts from the port that section names, to the port its answer names.
    (caller, [sender processes])."""
    sections = [VideoSection(h.free_port(tcp=False), "sendonly", VP8, random.randrange(1, 1 << 32), content)
                for _, content in feeds]
    caller = Caller(session.server, name, sections)
    session.callers.append(caller)
    caller.join(checks)
    procs = []
    for section, answered, (colour, content) in zip(sections, caller.answers, feeds):
        what = f"{name}'s {content or 'camera'} gst sender"
        log = os.path.join(session.outdir, f"{name.lower()}-{content or 'camera'}-sender.log")
        procs.append(start_gst(sender_command(colour, section.ssrc, section.port, answered.port), log, what))
    session.senders += procs
    return caller, procs


def leave(session, caller, procs, checks):
    """Stops the caller's media processes, then BYE → 200 (when it is in a call)."""
    for proc in procs:
        h.stop_process(proc)
        if proc in session.senders:
            session.senders.remove(proc)
    if caller is None or caller.ok is None:
        return
    code = caller.hang_up()
    checks.expect(code == 200, f"{caller.name}: BYE answered 200 (got {code})")


def join_all(session, checks):
    """RED, BLUE (each with its sender started right after its ACK), then VIEWER with its receiver ready."""
    join_sender(session, checks, "RED", [(RED_ARGB, None)])
    join_sender(session, checks, "BLUE", [(BLUE_ARGB, None)])
    session.viewer = Viewer(session, "VIEWER", VP8)
    session.viewer.join(session, checks)


# ---------------------------------------------------------------------------------------------
# What a viewer receives.

def wait_stream(viewer):
    """The composite flows to the viewer (FLOW_PACKETS RTP packets); Failure with what was seen otherwise."""
    relay = viewer.relay

    def flowing():
        relay.check_alive()
        return relay.stats()["rtp"] >= FLOW_PACKETS
    try:
        h.poll_until(flowing, 10.0, f"{FLOW_PACKETS} RTP packets of the composite at {viewer.name}'s port", 0.05)
    except h.Failure as e:
        hint = ""
        if relay.from_stranger:  # RFC 4961: chorusd is expected to send from the port its answer names
            hint = (f"; {relay.from_stranger} datagrams came from {sorted(relay.strangers)}, not from the answer's "
                    f"{relay.server_addr} (not symmetric RTP?)")
        raise h.Failure(f"{e}; relay {relay.stats()}{hint}; status {viewer.server.status()}") from None
    stats = relay.stats()
    if viewer.media_ssrc is None and stats["ssrcs"]:
        viewer.media_ssrc = stats["ssrcs"][0]  # the answer named none (a failed check): PLI what we see


def wait_for_frame(viewer, expected, since_wall, timeout_s, label):
    """The first frame written at or after since_wall (wall clock) that matches `expected`, or None;
    prints the probes of the match, or of the last frame seen, and keeps it as <label>.ppm.
    (frame or None, how many frames were written since since_wall)."""
    watcher = viewer.watcher
    found = [None]

    def probe():
        viewer.relay.check_alive()
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
        saved = watcher.save(shown.index, os.path.join(viewer.outdir, f"{label.replace(' ', '-')}.ppm"))
        print(f"  {label}: frame #{shown.index} {'matches' if found[0] else 'is the last one seen'}: "
              f"{show_probes(shown, expected)}" + (f" (kept as {os.path.basename(saved)})" if saved else ""),
              flush=True)
    else:
        print(f"  {label}: no frame was written; receiver log tail:\n{log_tail(viewer.receiver_log)}", flush=True)
    return found[0], len(frames)


def check_composite_stream(viewer, checks):
    """What the relay saw of the composite: payload type, SSRC, key frame size (and H.264 profile)."""
    name, codec = viewer.name, viewer.codec
    stats = viewer.relay.stats()
    print(f"  composite at {name}: {stats}", flush=True)
    checks.expect(stats["payload_types"] == [codec.pt],
                  f"{name}: the composite is sent as payload type {codec.pt} ({codec.name}) only "
                  f"({stats['payload_types']})")
    checks.expect(viewer.caller.server_ssrc is not None and stats["ssrcs"] == [viewer.caller.server_ssrc],
                  f"{name}: the composite comes under the answer's a=ssrc {viewer.caller.server_ssrc} "
                  f"({stats['ssrcs']})")
    keys = [key for _, key in viewer.relay.keyframes_after(0)]
    sizes = sorted({(key.width, key.height) for key in keys}, key=str)
    checks.expect(sizes == [(OUT_W, OUT_H)], f"{name}: the composite's key frames are {OUT_W}x{OUT_H} ({sizes})")
    if codec.profile:
        profiles = sorted({str(key.profile) for key in keys})
        checks.expect(profiles == [codec.profile], f"{name}: the key frames' SPS says {codec.profile} ({profiles})")
    checks.expect(stats["from_stranger"] == 0 and stats["unparsable"] == 0,
                  f"{name}: nothing but chorusd's RTP/RTCP reached its port ({stats['from_stranger']} from others, "
                  f"{stats['unparsable']} unparsable)")


def wait_first_frame(viewer):
    """Until the receiver has decoded a frame, so every check starts with pictures on screen. The
    first key frame should come with the stream's start; if nothing has been decoded after
    FIRST_FRAME_KICK_S, one PLI asks for one (a lost first key frame would otherwise wait for the
    encoder's periodic one, >= 5 s). No frame at all is left to the checks to report."""
    watcher = viewer.watcher
    first_wait_s = max(0.0, viewer.acked_at + FIRST_FRAME_KICK_S - time.monotonic())
    try:
        h.poll_until(lambda: watcher.snapshot(), first_wait_s, "a first decoded frame", 0.05)
        return
    except h.Failure:
        pass
    print(f"  {viewer.name}: no frame decoded {FIRST_FRAME_KICK_S:.0f} s after its ACK ({viewer.relay.stats()}): "
          f"one PLI to get a key frame", flush=True)
    viewer.relay.send_pli(viewer.rtcp_ssrc, viewer.media_ssrc)
    try:
        h.poll_until(lambda: watcher.snapshot(), FIRST_FRAME_KICK_S, "a first decoded frame after the PLI", 0.05)
    except h.Failure as e:
        print(f"  {viewer.name}: {e}; receiver log tail:\n{log_tail(viewer.receiver_log)}", flush=True)


def report_target(checks, what, seconds, target_s):
    """Prints a measured delay against issue 11's target; asserts it only with --strict-timing."""
    met = seconds <= target_s
    line = f"{what}: {seconds * 1000:.0f} ms, target <= {target_s * 1000:.0f} ms: {'met' if met else 'MISSED'}"
    if STRICT_TIMING:
        checks.expect(met, line)
    else:
        print(f"  {line}" + ("" if met else " (timing is reported, not asserted; --strict-timing asserts it)"),
              flush=True)


def forced_keyframes(api):
    """chorusd's count of key frames its video MCU encoders were asked for (None without /metrics)."""
    return api.metrics(FORCED_KEYFRAMES).get(FORCED_KEYFRAMES)


def pli_round(viewer, checks, label, api):
    """Once no key frame has come for QUIET_BEFORE_PLI_S, a PLI from the viewer must be answered by a
    key frame within KEYFRAME_ANSWER_S (KEYFRAME_LATENCY_S printed as the target), or within
    KEYFRAME_ANSWER_LOADED_S when chorusd's metrics show it asked its encoder for one. The monotonic
    moment the PLI left, or None when it was not sent."""
    relay = viewer.relay

    def quiet():
        relay.check_alive()
        last = relay.last_keyframe_at()
        return last is None or time.monotonic() - last >= QUIET_BEFORE_PLI_S
    try:
        h.poll_until(quiet, QUIET_WAIT_S, f"{QUIET_BEFORE_PLI_S:.0f} s without a key frame", 0.02)
    except h.Failure as e:
        checks.expect(False, f"{label}: {e} (key frames come unasked more than once a second: "
                             f"{relay.stats()['keyframes']} so far)")
        return None
    forced_before = forced_keyframes(api)
    sent_at = relay.send_pli(viewer.rtcp_ssrc, viewer.media_ssrc)
    try:
        try:
            arrived = h.poll_until(lambda: relay.keyframes_after(sent_at), KEYFRAME_ANSWER_S,
                                   "a key frame after the PLI", 0.005)
        except h.Failure:
            forced_after = forced_keyframes(api)
            if forced_before is None or forced_after is None or forced_after <= forced_before:
                raise
            print(f"  {label}: no key frame within {KEYFRAME_ANSWER_S:.0f} s, but chorusd asked its encoder for "
                  f"one ({FORCED_KEYFRAMES} {forced_before:.0f} → {forced_after:.0f}): waiting up to "
                  f"{KEYFRAME_ANSWER_LOADED_S:.0f} s (relay {relay.stats()})", flush=True)
            arrived = h.poll_until(lambda: relay.keyframes_after(sent_at),
                                   KEYFRAME_ANSWER_LOADED_S - (time.monotonic() - sent_at),
                                   "a key frame after the PLI", 0.005)
        latency = arrived[0][0] - sent_at
        checks.expect(True, f"{label}: PLI (media SSRC {viewer.media_ssrc}) answered by a "
                            f"{describe_key(arrived[0][1])} {viewer.codec.name} key frame after {latency * 1000:.0f} ms")
        report_target(checks, f"{label}: key frame after the PLI", latency, KEYFRAME_LATENCY_S)
    except h.Failure:
        checks.expect(False, f"{label}: no key frame within {KEYFRAME_ANSWER_S:.0f} s of the PLI (nor within "
                             f"{KEYFRAME_ANSWER_LOADED_S:.0f} s with the encoder's request counted) "
                             f"(media SSRC {viewer.media_ssrc}); relay {relay.stats()}")
    return sent_at


def switch_to(session, checks, body, expected, label):
    """PATCH the layout; the first frame VIEWER writes after its 200 that shows it must come within
    LAYOUT_SWITCH_S, and the frames after it must keep showing it."""
    done_at = patch_layout(session.api, body, checks, label)
    if done_at is None:
        return
    frame, _ = wait_for_frame(session.viewer, expected, done_at, LAYOUT_WAIT_S, label)
    if frame is None:
        checks.expect(False, f"{label}: no frame written within {LAYOUT_WAIT_S:.0f} s of the PATCH's 200 shows "
                             f"{describe_expected(expected)}")
        return
    switch_s = frame.mtime - done_at
    print(f"  {label}: switched {switch_s * 1000:.0f} ms after the PATCH's 200 (frame #{frame.index}; "
          f"includes the receiver's jitter buffer and 5 fps sampling)", flush=True)
    report_target(checks, f"{label}: the new layout on screen after the PATCH's 200", switch_s, LAYOUT_SWITCH_S)

    def steady_frames():
        later = [f for f in session.viewer.watcher.snapshot() if f.index > frame.index]
        return later[:STEADY_FRAMES] if len(later) >= STEADY_FRAMES else None
    try:
        later = h.poll_until(steady_frames, 5.0, f"{STEADY_FRAMES} more frames", 0.05)
        bad = [f for f in later if not matches(f, expected)]
        checks.expect(not bad, f"{label}: the {STEADY_FRAMES} frames after it show it too"
                      + (f" (frame #{bad[0].index}: {show_probes(bad[0], expected)})" if bad else ""))
    except h.Failure as e:
        checks.expect(False, f"{label}: {e}")


# ---------------------------------------------------------------------------------------------
# The checks.

def check_grid(session, checks):
    print(f"--- grid: 3 members in join order, within {GRID_TIMEOUT_S:.0f} s of VIEWER's ACK", flush=True)
    viewer = session.viewer
    remaining = max(0.0, viewer.acked_at + GRID_TIMEOUT_S - time.monotonic())
    frame, seen = wait_for_frame(viewer, GRID_EXPECTED, 0.0, remaining, "grid")
    elapsed = time.monotonic() - viewer.acked_at
    checks.expect(frame is not None,
                  f"grid: a frame shows {describe_expected(GRID_EXPECTED)}"
                  + (f" ({elapsed:.1f} s after VIEWER's ACK)" if frame else
                     f" — none of {seen} frames did within {GRID_TIMEOUT_S:.0f} s; relay {viewer.relay.stats()}"))
    if frame is not None:
        # The senders are 4:3 (320x240) and the tiles 16:9: fitted with their shape, bars at the sides.
        checks.expect(matches(frame, GRID_FIT_EXPECTED),
                      f"grid: RED's and BLUE's pictures keep their 4:3 shape (bars at the sides): "
                      f"{show_probes(frame, GRID_FIT_EXPECTED)}")
    check_composite_stream(viewer, checks)


def check_keyframes(session, checks):
    print(f"--- keyframe: {PLI_ROUNDS} PLIs, each answered by a key frame within {KEYFRAME_LATENCY_S * 1000:.0f} ms",
          flush=True)
    last_pli = None
    for round_no in range(1, PLI_ROUNDS + 1):
        if last_pli is not None:
            time.sleep(max(0.0, last_pli + PLI_SPACING_S - time.monotonic()))  # chorusd allows 1 per 0.5 s
        last_pli = pli_round(session.viewer, checks, f"keyframe {round_no}", session.api)
        if last_pli is None:
            return


def participant_id(session, caller, checks):
    """The caller's id in GET /v1/conferences/ROOM/participants (a check that it is listed once), or None."""
    listed = conference_participants(session.api)
    ids = [p.get("id") for p in listed if p.get("call_id") == caller.call_id]
    ok = checks.expect(len(ids) == 1, f"{caller.name} is listed once by GET /v1/conferences/{ROOM}/participants "
                                      f"({[(p.get('id'), p.get('call_id')) for p in listed]})")
    return ids[0] if ok else None


def check_layout_events(stream, checks):
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


def check_layout(session, checks):
    print(f"--- layout: speaker, then grid with BLUE pinned, each within {LAYOUT_SWITCH_S:.0f} s", flush=True)
    api = session.api
    switch_to(session, checks, {"layout": "speaker"}, SPEAKER_EXPECTED, "speaker")
    blue_id = participant_id(session, session.callers[1], checks)
    if blue_id is None:
        return
    print(f"  BLUE's participant id: {blue_id}", flush=True)
    switch_to(session, checks, {"layout": "grid", "pinned_participant": blue_id}, PINNED_GRID_EXPECTED, "pinned grid")
    reply = api.get(f"/v1/conferences/{ROOM}")
    layout = reply.json().get("layout") if reply.status == 200 else None
    checks.expect(layout == "grid", f"GET /v1/conferences/{ROOM} shows \"layout\": \"grid\" ({reply.describe()[:300]})")
    check_layout_events(session.stream, checks)
    # Back as the room was (the later cases expect RED in tile 0).
    switch_to(session, checks, {"layout": "grid", "pinned_participant": None}, UNPINNED_GRID_EXPECTED, "unpinned grid")


def check_h264_grid(session, h264_viewer, checks):
    """Both viewers, each in its own codec, decode the grid of 4 after H264VIEWER's ACK."""
    for viewer in (session.viewer, h264_viewer):
        remaining = max(0.0, h264_viewer.acked_at + GRID_TIMEOUT_S - time.monotonic())
        label = f"{viewer.name} grid of 4"
        frame, seen = wait_for_frame(viewer, H264_GRID_EXPECTED, h264_viewer.acked_wall, remaining, label)
        checks.expect(frame is not None,
                      f"{label}: a frame ({viewer.codec.name}) written after H264VIEWER's ACK shows "
                      f"{describe_expected(H264_GRID_EXPECTED)}"
                      + (f" ({frame.mtime - h264_viewer.acked_wall:.1f} s after that ACK)" if frame else
                         f" — none of {seen} frames did within {GRID_TIMEOUT_S:.0f} s; relay {viewer.relay.stats()}"))


def check_h264(session, checks):
    print("--- h264: H264VIEWER (H.264 only) joins; it and VIEWER (VP8) each decode the grid of 4", flush=True)
    missing = missing_elements(H264_ELEMENTS)
    if missing:
        print(f"  SKIP h264: GStreamer element(s) missing: "
              f"{', '.join(f'{e} (Debian package {p})' for e, p in missing)}", flush=True)
        return
    viewer = Viewer(session, "H264VIEWER", H264)
    try:
        viewer.join(session, checks)
        wait_stream(viewer)
    except h.Failure as e:  # the case fails; the next one still runs
        checks.expect(False, f"h264: {e}")
    else:
        wait_first_frame(viewer)
        check_h264_grid(session, viewer, checks)
        check_composite_stream(viewer, checks)
        listed = conference_participants(session.api)
        checks.expect(len(listed) == 4 and viewer.caller.call_id in [p.get("call_id") for p in listed],
                      f"REST lists 4 participants, H264VIEWER among them ({[p.get('call_id') for p in listed]})")
        pli_round(viewer, checks, "h264 keyframe", session.api)
    viewer.stop_media()
    leave(session, viewer.caller, [], checks)


def check_presentation(session, checks):
    print(f"--- presentation: CONTENT (camera green, slides yellow) joins; presentation, then grid, each within "
          f"{LAYOUT_SWITCH_S:.0f} s", flush=True)
    try:
        content, procs = join_sender(session, checks, "CONTENT", [(GREEN_ARGB, None), (YELLOW_ARGB, "slides")])
    except h.Failure as e:  # the case fails; the hang-up still runs
        checks.expect(False, f"presentation: {e}")
        return
    # Its camera on screen first, so the switch below measures the layout change, not decoders starting.
    started = time.time()
    frame, seen = wait_for_frame(session.viewer, CONTENT_GRID_EXPECTED, started, GRID_TIMEOUT_S, "grid with CONTENT")
    checks.expect(frame is not None,
                  f"grid with CONTENT: a frame shows {describe_expected(CONTENT_GRID_EXPECTED)}"
                  + (f" ({frame.mtime - started:.1f} s after its senders started)" if frame else
                     f" — none of {seen} frames did within {GRID_TIMEOUT_S:.0f} s"))
    switch_to(session, checks, {"layout": "presentation"}, PRESENTATION_EXPECTED, "presentation")
    switch_to(session, checks, {"layout": "grid"}, CONTENT_GRID_EXPECTED, "grid after presentation")
    leave(session, content, procs, checks)


CASES = (("grid", check_grid), ("keyframe", check_keyframes), ("layout", check_layout), ("h264", check_h264),
         ("presentation", check_presentation))


# ---------------------------------------------------------------------------------------------
# The test.

def stop_media(session):
    for proc in session.senders:
        h.stop_process(proc)
    session.senders = []
    for viewer in session.viewers:
        viewer.stop_media()


def hang_up_all(session, checks):
    stop_media(session)
    for caller in session.callers:
        if caller.ok is not None:
            code = caller.hang_up()
            checks.expect(code == 200, f"{caller.name}: BYE answered 200 (got {code})")


def make_room(api, checks):
    reply = api.request("POST", "/v1/rooms", {"id": ROOM, "name": "Video MCU test", "mode": "mcu"})
    mode = reply.json().get("mode") if reply.status == 201 else None
    if reply.status != 201 or mode != "mcu":
        raise h.Failure(f"POST /v1/rooms with mode mcu: expected 201 with \"mode\": \"mcu\", got {reply.describe()}")
    checks.expect(True, f"room {ROOM} made over REST in mode mcu")


def run_cases(session, only, checks):
    print("--- RED (sendonly), BLUE (sendonly), VIEWER (recvonly) join in that order", flush=True)
    join_all(session, checks)
    wait_stream(session.viewer)
    wait_first_frame(session.viewer)
    for name, case in CASES:
        if only in (None, name):
            started = time.monotonic()
            case(session, checks)
            print(f"  ({name}: {time.monotonic() - started:.1f} s)", flush=True)
    print(f"  VIEWER's relay at the end: {session.viewer.relay.stats()}", flush=True)
    print("--- hang up", flush=True)
    hang_up_all(session, checks)
    h.expect_quiescent(session.server, checks)


def body(args):
    global STRICT_TIMING
    STRICT_TIMING = args.strict_timing
    require_gstreamer()
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir, extra_args=["--media-timeout", str(MEDIA_TIMEOUT_S)]).start()
    h.poll_until(lambda: os.path.exists(os.path.join(server.data_dir, "admin-token")), 10, "the admin token file")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    session = Session(server, api, args.output_dir)
    try:
        make_room(api, checks)
        try:
            session.stream = rc.EventStream(server.http_port, api.token, path="/v1/events")
        except OSError as e:  # the layout.changed sub-check is then skipped with a note
            print(f"  note: GET /v1/events could not be opened: {e}", flush=True)
        run_cases(session, args.only, checks)
    finally:
        stop_media(session)
        for caller in session.callers:
            if caller.ok is not None and server.alive():  # a check failed mid-way: best-effort BYE
                caller.hang_up()
            caller.close()
        if session.stream is not None:
            session.stream.close()
        api.close()
    h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", choices=[name for name, _ in CASES], help="run one check (the set-up always runs)")
    parser.add_argument("--strict-timing", action="store_true",
                        help="also fail when a key frame or a layout switch misses issue 11's target")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "for a loopback-only namespace")


if __name__ == "__main__":
    sys.exit(main())
