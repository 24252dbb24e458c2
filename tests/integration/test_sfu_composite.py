#!/usr/bin/env python3
"""SFU rooms get a composite too (issue 11): in an `sfu` room whose `sip_video` is `composite`, a SIP
endpoint (not WebRTC: its video is RTP/AVP) receives the video MCU's 1280x720 grid instead of the
voice-switched speaker's forwarded camera; the composite is built only while such a receiver (or a
recorder) is present; an sfu room records the composite; `sip_video` left at `speaker` (the default)
keeps the SFU slot.

Set-up: one chorusd (`--media-timeout 120`: the viewers never send RTP). Python SIP UAs over UDP
(video_peers.Caller / Viewer, as test_video_mcu), each with a silent PCMU m=audio; the senders are gst
solid-colour VP8 cameras (320x240, 15 fps, from the port their SDP names), the viewers recvonly VP8
sections whose relay notes every RTP packet and key frame and feeds a gst receiver (320x180 RGB frames).

Checks, in order:
  rooms      POST /v1/rooms {"id":"sfucomp","mode":"sfu","sip_video":"composite"} → 201 and GET shows
             mode sfu, sip_video composite; POST {"id":"sfuspeak","mode":"sfu"} → 201 and GET shows
             sip_video speaker (the default).
  idle       RED and BLUE join sfucomp (sendonly VP8 cameras). While the SFU takes their packets
             (chorus_sfu_packets_in_total grows by 60 or more), /metrics' chorus_video_mcu_packets_in_total
             and chorus_video_mcu_packets_out_total do not move: nobody receives the composite, so none is
             built.
  composite  VIEWER joins sfucomp (recvonly): within 15 s a decoded frame shows the 2x2 grid in join order
             (red, blue, VIEWER dark, empty cell black; nobody talks, so no active speaker reorders it);
             chorus_video_mcu_packets_out_total grows; the stream is payload type 96 under the answer's
             a=ssrc and every key frame is 1280x720 (an SFU slot would carry 320x240 cameras).
  keyframe   after 1 s without a key frame, a PLI from VIEWER (media SSRC = chorusd's) is answered by a
             key frame within 2 s (the delay printed against issue 11's 500 ms; not asserted).
  record     POST /v1/conferences/sfucomp/recordings → 201 "recording" video/webm; 5 s later PATCH
             stopped → 202, polled until "stopped"; gst-discoverer-1.0: VP8 1280x720 + Opus; decoded at
             1 frame a second, a frame from the middle on shows red and blue in tiles 0-1 (order printed),
             tiles 2-3 dark.
  teardown   VIEWER hangs up: within a bounded number of windows (each: the SFU takes 60 more packets),
             one window shows chorus_video_mcu_packets_in/out_total flat again (the composite is not
             built once its last receiver left), while RED and BLUE still send.
  speaker    RED2 (a red camera) and VIEWER2 (recvonly) join sfuspeak: VIEWER2 gets RED2's forwarded
             camera: every key frame on the wire is 320x240 (none 1280x720), payload type 96 under the
             answer's a=ssrc, and a decoded frame is red all over (the grid's four tile centres: a grid of
             2 would have dark and black tiles there). chorus_video_mcu_packets_out_total stays flat
             meanwhile (sip_video speaker builds no composite).
  recorder   POST a recording of sfuspeak, where nobody receives a composite: 201 video/webm; 5 s later
             stopped; the file is VP8 1280x720 + Opus and a frame from the middle on shows RED2 in tile 0
             and tiles 1-3 dark: the composite was started for the recorder alone.
Then every caller hangs up (BYE → 200), chorusd returns to no transactions, dialogs or media ports and
exits 0 on SIGTERM.

Without the feature: sfucomp's VIEWER gets the SFU's slot (BLUE's or RED's 320x240 camera, one colour all
over), so the grid, 1280x720 key frames and packets_out growth fail; a recording of an sfu room is audio
only (video/webm fails, or discoverer finds no VP8); an always-on composite fails `idle` and `teardown`.

No check depends on speed: every wait is polled with a bound, the windows are counted in packets the SFU
received, and the only sleeps are the 5 s each recording is meant to last. Runs in a private network
namespace with only loopback (re-executes itself under `unshare -n`). Skips when GStreamer's tools or
elements are missing. Frames checked (.ppm), recordings and gst logs are kept in the output folder.
By hand: `python3 tests/integration/test_sfu_composite.py --chorusd build/bin/chorusd --output-dir /tmp/out`.
"""

import contextlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import video_peers  # noqa: E402
from test_recording import (  # noqa: E402
    Rig, check_discover, decode_video_frames, media_file, require_gstreamer, stop_recording)
from test_video_mcu import (  # noqa: E402
    BLUE_ARGB, GRID_EXPECTED, RED_ARGB, check_composite_stream, describe_expected, hang_up_all, is_blue, is_dark,
    is_red, join_sender, leave, pli_round, stop_media, wait_first_frame, wait_for_frame, wait_stream)
from video_peers import OUT_H, OUT_W, SENDER_H, SENDER_W, VP8, Session, Viewer, probe_frame, write_ppm  # noqa: E402

TEST = "test_sfu_composite"
COMPOSITE_ROOM = "sfucomp"
SPEAKER_ROOM = "sfuspeak"
MEDIA_TIMEOUT_S = 120

GRID_TIMEOUT_S = 15.0
SLOT_TIMEOUT_S = 15.0
GROWTH_WAIT_S = 10.0
WINDOW_SFU_PACKETS = 60  # a metrics window lasts until the SFU took this many more camera packets
WINDOW_WAIT_S = 15.0
TEARDOWN_WINDOWS = 4
RECORD_S = 5.0
MCU_COUNTERS = ("chorus_video_mcu_packets_in_total", "chorus_video_mcu_packets_out_total")
SFU_IN = "chorus_sfu_packets_in_total"

# A camera forwarded whole: red at every grid tile's centre (a composite of 2 has dark and black tiles there).
SLOT_EXPECTED = {f"grid tile {i}": is_red for i in range(4)}


@contextlib.contextmanager
def dialling(room):
    """Callers made inside this block call `room`: video_peers.Caller takes its request URI from
    video_peers.ROOM (test_video_mcu's room) when it is made."""
    saved = video_peers.ROOM
    video_peers.ROOM = room
    try:
        yield
    finally:
        video_peers.ROOM = saved


# ---------------------------------------------------------------------------------------------
# REST: rooms, /metrics, recordings.

def make_rooms(api, checks):
    wanted = ((COMPOSITE_ROOM, {"name": "SFU with a composite for SIP", "mode": "sfu", "sip_video": "composite"},
               "composite"),
              (SPEAKER_ROOM, {"name": "SFU with the speaker for SIP", "mode": "sfu"}, "speaker"))
    for room, fields, sip_video in wanted:
        reply = api.post("/v1/rooms", {"id": room, **fields})
        if reply.status != 201:
            raise h.Failure(f"POST /v1/rooms {json.dumps({'id': room, **fields})}: expected 201, got {reply.describe()}")
        got = api.get(f"/v1/rooms/{room}")
        body = got.json() if got.status == 200 else {}
        checks.expect(body.get("mode") == "sfu" and body.get("sip_video") == sip_video,
                      f"room {room}: POST → 201, GET /v1/rooms/{room} shows mode {body.get('mode')!r} and sip_video "
                      f"{body.get('sip_video')!r} (want sfu, {sip_video})")


def expect_frame(viewer, checks, expected, timeout_s, label, what):
    """Once the viewer's stream and first frame are there: a check that a frame within timeout_s of its ACK
    matches `expected` (the time it took, or how many frames did not, is printed)."""
    wait_stream(viewer)
    wait_first_frame(viewer)
    remaining = max(0.0, viewer.acked_at + timeout_s - time.monotonic())
    frame, seen = wait_for_frame(viewer, expected, 0.0, remaining, label)
    checks.expect(frame is not None,
                  what + (f" ({time.monotonic() - viewer.acked_at:.1f} s after {viewer.name}'s ACK)" if frame else
                          f" — none of {seen} frames did within {timeout_s:.0f} s; relay {viewer.relay.stats()}"))
    return frame


def metrics(api):
    """{name: value} of the unlabelled samples of GET /metrics (public, Prometheus text format)."""
    return api.metrics()


def mcu_counters(values):
    return {name.replace("chorus_video_mcu_", "").replace("_total", ""): values.get(name) for name in MCU_COUNTERS}


def metrics_window(api, label):
    """Two /metrics samples: now, and once the SFU has taken WINDOW_SFU_PACKETS more packets (bounded).
    (first, second); the second is None when the SFU's counter did not grow enough (printed)."""
    first = metrics(api)
    start = first.get(SFU_IN, 0.0)
    try:
        second = h.poll_until(lambda: (lambda m: m if m.get(SFU_IN, 0.0) >= start + WINDOW_SFU_PACKETS else None)(
            metrics(api)), WINDOW_WAIT_S, f"{WINDOW_SFU_PACKETS} more packets at the SFU", 0.2)
    except h.Failure as e:
        print(f"  {label}: {e} ({SFU_IN} {start:.0f} → {metrics(api).get(SFU_IN)})", flush=True)
        return first, None
    print(f"  {label}: {SFU_IN} {start:.0f} → {second.get(SFU_IN):.0f}; video MCU {mcu_counters(first)} → "
          f"{mcu_counters(second)}", flush=True)
    return first, second


def flat(first, second):
    return second is not None and all(first.get(name) == second.get(name) for name in MCU_COUNTERS)


def check_idle(api, checks, label, why):
    """One window: the SFU takes packets while the video MCU's counters stay where they were."""
    first, second = metrics_window(api, label)
    checks.expect(all(name in first for name in MCU_COUNTERS),
                  f"{label}: /metrics has {', '.join(MCU_COUNTERS)} ({mcu_counters(first)})")
    checks.expect(second is not None, f"{label}: the cameras reach the SFU ({SFU_IN} grew by "
                                      f"{WINDOW_SFU_PACKETS} within {WINDOW_WAIT_S:.0f} s)")
    if second is not None:
        checks.expect(flat(first, second), f"{label}: chorus_video_mcu_packets_in/out_total stay flat ({why}): "
                                           f"{mcu_counters(first)} → {mcu_counters(second)}")


def record(rig, checks, room, label):
    """POST a recording of `room`, RECORD_S later stop it (whatever it records); the path of its file once
    stopped, or None."""
    reply = rig.api.post(f"/v1/conferences/{room}/recordings")
    body = reply.json() if reply.status == 201 else {}
    checks.expect(reply.status == 201 and body.get("state") == "recording"
                  and body.get("media_type") == "video/webm",
                  f"{label}: POST /v1/conferences/{room}/recordings → 201 \"recording\" video/webm "
                  f"({reply.describe()[:400]})")
    if reply.status != 201 or not body.get("id"):
        return None
    started = time.monotonic()
    time.sleep(max(0.0, started + RECORD_S - time.monotonic()))  # the recording is meant to last this long
    final = stop_recording(rig, checks, body["id"])
    path = media_file(rig.server, body["id"])
    return path if final is not None and os.path.exists(path) else None


def tile_colour(rgb):
    return "red" if is_red(rgb) else "blue" if is_blue(rgb) else "dark" if is_dark(rgb) else f"other {rgb}"


def check_recorded_grid(checks, path, outdir, label, shows, what):
    """gst-discoverer: VP8 1280x720 + Opus; decoded at 1 frame a second, a frame from the middle on has
    the tile colours `shows` accepts ([colour of grid tile 0..3] → bool). Every frame's tiles printed;
    the one checked kept as .ppm."""
    found = check_discover(checks, path, outdir, label)
    checks.expect((found["width"], found["height"]) == (OUT_W, OUT_H),
                  f"{label}: the video is {found['width']}x{found['height']} (want the composite's {OUT_W}x{OUT_H}, "
                  f"not a {SENDER_W}x{SENDER_H} camera); duration {found['duration_s']} s, audio {found['rate']} Hz "
                  f"{found['channels']} channel(s)")
    if ("video", "VP8") not in found["streams"]:
        return  # nothing to decode (the checks above said so)
    frames, _ = decode_video_frames(path, outdir, label, fps=1)
    colours = []
    for i, frame in enumerate(frames):
        probes = probe_frame(frame)
        colours.append([tile_colour(probes[f"grid tile {t}"]) for t in range(4)])
        print(f"    {label} {i} s: " + ", ".join(f"tile {t} {probes[f'grid tile {t}']}" for t in range(4))
              + f" → {colours[-1]}", flush=True)
    if not checks.expect(len(frames) >= 2, f"{label}: the video decodes ({len(frames)} frames at 1 a second)"):
        return
    middle = len(frames) // 2
    hit = next((i for i in range(middle, len(frames)) if shows(colours[i])), None)
    shown = middle if hit is None else hit
    ppm = f"{label}-frame-{shown}s.ppm"
    write_ppm(os.path.join(outdir, ppm), frames[shown])
    checks.expect(hit is not None, f"{label}: a frame from the middle ({middle} s) on shows {what}: "
                                   + (f"the one at {hit} s, {colours[hit]}" if hit is not None else
                                      f"none did, the middle one is {colours[middle]}") + f" (kept as {ppm})")


# ---------------------------------------------------------------------------------------------
# The cases.

def check_composite(session, checks):
    print("--- composite: VIEWER (recvonly, RTP/AVP) joins sfucomp and gets the grid", flush=True)
    before = metrics(session.api)
    with dialling(COMPOSITE_ROOM):
        session.viewer = Viewer(session, "VIEWER", VP8)
        session.viewer.join(session, checks)
    viewer = session.viewer
    expect_frame(viewer, checks, GRID_EXPECTED, GRID_TIMEOUT_S, "sfu composite grid",
                 f"composite: a frame shows {describe_expected(GRID_EXPECTED)}")
    name = "chorus_video_mcu_packets_out_total"
    try:
        after = h.poll_until(lambda: (lambda m: m if m.get(name, 0.0) > before.get(name, 0.0) else None)(
            metrics(session.api)), GROWTH_WAIT_S, f"{name} to grow", 0.2)
    except h.Failure:
        after = metrics(session.api)
    checks.expect(after.get(name, 0.0) > before.get(name, 0.0),
                  f"composite: {name} grows with VIEWER in the room ({before.get(name)} → {after.get(name)}; "
                  f"packets_in {before.get(MCU_COUNTERS[0])} → {after.get(MCU_COUNTERS[0])})")


def check_teardown(session, checks):
    print("--- teardown: VIEWER leaves; the composite is no longer built (RED and BLUE still send)", flush=True)
    session.viewer.stop_media()
    leave(session, session.viewer.caller, [], checks)
    windows = []
    for n in range(1, TEARDOWN_WINDOWS + 1):
        first, second = metrics_window(session.api, f"teardown window {n}")
        windows.append((mcu_counters(first), mcu_counters(second) if second else None))
        if second is None or flat(first, second):
            break
    last_first, last_second = windows[-1]
    checks.expect(last_second is not None and last_first == last_second,
                  f"teardown: within {TEARDOWN_WINDOWS} windows of {WINDOW_SFU_PACKETS} SFU packets after VIEWER's "
                  f"BYE, chorus_video_mcu_packets_in/out_total stay flat in one ({len(windows)} window(s): {windows})")


def check_speaker(session, checks):
    print("--- speaker: RED2 and VIEWER2 in sfuspeak (sip_video speaker): the forwarded camera", flush=True)
    before = metrics(session.api)
    with dialling(SPEAKER_ROOM):
        join_sender(session, checks, "RED2", [(RED_ARGB, None)])
        viewer = Viewer(session, "VIEWER2", VP8)
        viewer.join(session, checks)
    expect_frame(viewer, checks, SLOT_EXPECTED, SLOT_TIMEOUT_S, "sfu speaker slot",
                 f"speaker: a frame is RED2's camera all over ({describe_expected(SLOT_EXPECTED)})")
    stats = viewer.relay.stats()
    keys = [key for _, key in viewer.relay.keyframes_after(0)]
    sizes = sorted({(key.width, key.height) for key in keys}, key=str)
    print(f"  forwarded to VIEWER2: {stats}", flush=True)
    checks.expect(sizes == [(SENDER_W, SENDER_H)],
                  f"speaker: VIEWER2's key frames are the camera's {SENDER_W}x{SENDER_H}, not a {OUT_W}x{OUT_H} "
                  f"composite ({len(keys)} key frames, sizes {sizes})")
    checks.expect(stats["payload_types"] == [VP8.pt] and viewer.caller.server_ssrc is not None
                  and stats["ssrcs"] == [viewer.caller.server_ssrc],
                  f"speaker: payload type {VP8.pt} under the answer's a=ssrc {viewer.caller.server_ssrc} "
                  f"({stats['payload_types']}, {stats['ssrcs']})")
    after = metrics(session.api)
    checks.expect(all(after.get(name) == before.get(name) for name in MCU_COUNTERS),
                  f"speaker: the video MCU built nothing meanwhile (no composite receiver anywhere): "
                  f"{mcu_counters(before)} → {mcu_counters(after)}")


def run_cases(rig, session, checks):
    api, outdir = rig.api, rig.outdir
    make_rooms(api, checks)

    print("--- idle: RED and BLUE (sendonly cameras) in sfucomp, nobody receives a composite", flush=True)
    with dialling(COMPOSITE_ROOM):
        join_sender(session, checks, "RED", [(RED_ARGB, None)])
        join_sender(session, checks, "BLUE", [(BLUE_ARGB, None)])
    check_idle(api, checks, "idle", "no SIP receiver of the composite yet")

    check_composite(session, checks)
    print("--- keyframe: a PLI from VIEWER", flush=True)
    pli_round(session.viewer, checks, "keyframe", session.api)
    check_composite_stream(session.viewer, checks)

    print(f"--- record: {RECORD_S:.0f} s of sfucomp", flush=True)
    path = record(rig, checks, COMPOSITE_ROOM, "sfucomp-recording")
    if path is not None:
        check_recorded_grid(checks, path, outdir, "sfucomp-recording",
                            lambda c: sorted(c[:2]) == ["blue", "red"] and c[2:] == ["dark", "dark"],
                            "one red and one blue tile in tiles 0-1 (join order unless someone spoke), tiles 2-3 dark")

    check_teardown(session, checks)
    check_speaker(session, checks)

    print(f"--- recorder: {RECORD_S:.0f} s of sfuspeak, where nobody receives a composite", flush=True)
    path = record(rig, checks, SPEAKER_ROOM, "sfuspeak-recording")
    if path is not None:
        check_recorded_grid(checks, path, outdir, "sfuspeak-recording",
                            lambda c: c == ["red", "dark", "dark", "dark"],
                            "RED2 in tile 0, tiles 1-3 dark (VIEWER2, empty cells)")

    print("--- hang up", flush=True)
    hang_up_all(session, checks)
    h.expect_quiescent(rig.server, checks)


def body(args):
    require_gstreamer()
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir, extra_args=["--media-timeout", str(MEDIA_TIMEOUT_S)]).start()
    rig = Rig(server, args.output_dir)
    session = Session(server, rig.api, args.output_dir)
    try:
        run_cases(rig, session, checks)
    finally:
        stop_media(session)
        for caller in session.callers:
            if caller.ok is not None and server.alive():  # a check failed mid-way: best-effort BYE
                caller.hang_up()
            caller.close()
        rig.close(hang_up=False)
    h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "for a loopback-only namespace")


if __name__ == "__main__":
    sys.exit(main())
