#!/usr/bin/env python3
"""A browser in an `mcu` room receives the composite (issue 11), joining from the page at `/`.

One chorusd; room `mcuweb` made over REST with `"mode": "mcu"`. Ann (red camera 1280x720, so
Chromium sends all three simulcast layers q/h/f; 440 Hz microphone) and then Bo (blue camera
640x360, two layers; 700 Hz) open `/?room=mcuweb&name=…` and press Join, no token. The page's
default 4 video slots are kept on purpose: that is what a person gets from the rooms list's "Join
from this browser" link (`/?room=<id>`), and it makes chorusd answer the slots it does not use.
Bo presses "Mute microphone" while her call is being set up: the grid puts the active speaker
first (mixer/video/video_layout.hpp), and her fresh tone would take the floor from Ann's (steady,
so soon below the detector's noise floor); muted, the grid is in join order.

Checks:
- the answer: audio accepted; the camera section accepted (chorusd receives it, `recvonly`; its
  `a=simulcast` line, if any, is printed); the FIRST slot `sendonly` (the composite); the other 3
  slots rejected (port 0) and their tiles hidden by the page; no slot-map INFO arrives.
- Ann alone: her page decodes the composite in the first slot's <video> (inbound-rtp framesDecoded
  grows), 1280x720, and the grid is 1x1: her red fills it (the centre and the upper-left quarter's
  centre are red).
- Bo joined: in BOTH pages the composite is a 2x2 grid in join order: the centre of tile 0 (upper
  left) is red (Ann), of tile 1 (upper right) blue (Bo), tiles 2 and 3 (nobody) black. Colours are
  the mean of 5x5 pixels of the decoded <video> drawn to a canvas. The slot's tile is not dark
  (its <video> is shown, not the placeholder: the page shows a slot's video while no slot map has
  come).
- while Bo is muted, the audio MCU leaves her Opus packets undecoded: Chromium marks them silent
  with the RFC 6464 level it sends (/metrics chorus_mixer_input_packets_never_decoded_total > 0).
- Bo unmutes; each hears the other's tone, not her own (the audio MCU; WebAudio AnalyserNode on
  the remote track). The composite then (Bo may now be the speaker, so first) is printed.
- one RTP stream per camera into the MCU's decoders: /metrics chorus_video_mcu_packets_in_total is
  at most 1.2 x (the frames of each camera's busiest layer) + 50; with every simulcast layer fed to
  one decoder it is about the sum of all layers' frames (a solid-colour frame is one packet).
  chorus_video_mcu_packets_in_total and _packets_out_total > 0; every chorus_video_mcu_* counter,
  each camera's layers (ssrc, frames, key frames, PLIs received) and what each page decodes (and
  how many pictures a second, not checked: it depends on the CPU) are printed.
- no page or console error; after Leave, chorusd has no transactions, dialogs or media ports.

Screenshots of every page are kept in the output folder (their paths are printed). Skips (77) like
test_browser_join.py (node ≥ 20, /usr/bin/chromium, tests/web and web node_modules, gst-launch-1.0, sox).
By hand: `python3 tests/integration/test_browser_mcu.py --chorusd build/bin/chorusd`.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_agent as b  # noqa: E402
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

kRoom = "mcuweb"
# name → (camera ARGB, camera size, tone Hz)
kPeople = {
    "Ann": (0xFFFF0000, (1280, 720), 440),
    "Bo": (0xFF0000FF, (640, 360), 700),
}
kCanvas = (1280, 720)
kToneTolerance = 0.03
kDecodeWithinS = 30.0
kGridWithinS = 30.0
kOneLayerSlack = 1.2
# Grid probes as fractions of the composite: 1x1 for one member; 2x2 in join order for two to four
# (cell 640x360); a 16:9 camera fills its 16:9 cell, so each cell's centre is its picture's.
kOneProbes = {"centre": (0.5, 0.5), "upper-left quarter": (0.25, 0.25)}
kGridProbes = {"tile 0": (0.25, 0.25), "tile 1": (0.75, 0.25), "tile 2": (0.25, 0.75), "tile 3": (0.75, 0.75)}


def is_red(rgb):
    return rgb is not None and rgb[0] > 180 and rgb[1] < 70 and rgb[2] < 70


def is_blue(rgb):
    return rgb is not None and rgb[2] > 180 and rgb[0] < 70 and rgb[1] < 70


def is_black(rgb):
    return rgb is not None and all(c < 40 for c in rgb)


kNames = {is_red: "red", is_blue: "blue", is_black: "black"}
kGridExpected = {"tile 0": is_red, "tile 1": is_blue, "tile 2": is_black, "tile 3": is_black}


class Session:
    """chorusd, its REST client and the browsers; everything stopped at the end."""

    def __init__(self, args, node, script):
        self.args, self.node, self.script = args, node, script
        self.server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd").start()
        h.poll_until(lambda: h.can_connect(self.server.http_port), 10.0, "the HTTP port")
        self.api = rc.RestClient(self.server.http_port, rc.read_admin_token(self.server.data_dir))
        self.browsers = []

    def url(self, query=""):
        return f"http://127.0.0.1:{self.server.http_port}/{query}"

    def browser(self, name):
        argb, size, hz = kPeople[name]
        camera = b.make_camera(os.path.join(self.args.output_dir, f"{name}.y4m"), argb, *size)
        tone = b.make_tone(os.path.join(self.args.output_dir, f"{name}.wav"), hz)
        browser = b.Browser(self.node, self.script, name, self.args.output_dir, camera=camera, microphone=tone)
        self.browsers.append(browser)
        return browser

    def metrics(self):
        """{name: value} of the unlabelled chorus_video_mcu_* samples in GET /metrics."""
        return self.api.metrics("chorus_video_mcu_")

    def close(self, checks):
        b.close_browsers(self.browsers, checks)
        self.api.close()
        h.expect_quiescent(self.server, checks)
        h.expect_clean_stop(self.server, checks)


def join(session, browser, checks, muted=False):
    opened = browser.request("open", url=session.url(f"?room={kRoom}&name={browser.name}"))
    checks.expect(not opened["join_unavailable"],
                  f"{browser.name}: joining is available ({opened['join_unavailable']!r})")
    state = browser.request("join", wait_ms=30000, muted=muted)
    if not checks.expect(state["in_call"] and not state["join_message"],
                         f"{browser.name}: in room {kRoom} ({state['call_state']!r}{state['join_message']!r})"):
        browser.screenshot("join-failed")
        raise h.Failure(f"{browser.name} could not join room {kRoom}: {state}")
    b.wait_for(browser, "audio packets arriving", lambda x: b.audio_packets(x.request("stats")) > 50, 15.0)


def section_lines(sdp, index):
    """The lines of the index-th m-section of an SDP."""
    blocks = ("\n" + (sdp or "")).replace("\r", "").split("\nm=")[1:]
    return ("m=" + blocks[index]).split("\n") if index < len(blocks) else []


def check_answer(browser, checks):
    """audio, camera recvonly, the first slot sendonly, the others rejected; returns the first slot's mid."""
    stats = browser.request("stats")
    offer = b.sdp_sections(stats.get("local_sdp"))
    answer = b.sdp_sections(stats.get("remote_sdp"))
    print(f"  {browser.name}: the answer's m-lines (kind, port, direction, mid): {answer}", flush=True)
    camera = section_lines(stats.get("remote_sdp"), 1)
    simulcast = [line for line in camera if line.startswith(("a=simulcast", "a=rid"))]
    print(f"  {browser.name}: the camera section's simulcast in the answer: {simulcast or 'none'}", flush=True)
    checks.expect(len(answer) == len(offer) == 6,
                  f"{browser.name}: six m-lines offered and answered ({len(offer)}, {len(answer)})")
    if len(answer) < 6:
        return None
    checks.expect(answer[0][0] == "audio" and answer[0][1] != 0 and answer[0][2] == "sendrecv",
                  f"{browser.name}: audio accepted sendrecv ({answer[0]})")
    checks.expect(answer[1][1] != 0 and answer[1][2] == "recvonly",
                  f"{browser.name}: the camera section accepted, chorusd receives it ({answer[1]})")
    checks.expect(b.slot_directions(stats) == ["sendonly", "rejected", "rejected", "rejected"],
                  f"{browser.name}: the first slot carries the composite (sendonly), the other three are rejected "
                  f"({b.slot_directions(stats)})")
    tiles = browser.request("state")["tiles"]
    shown = [t["slot"] for t in tiles if not t["hidden"]]
    checks.expect(shown == [0], f"{browser.name}: the page shows only the first slot's tile (shown: {shown})")
    return answer[2][3]


def slot_stats(browser, mid):
    return next((s for s in b.inbound(browser.request("stats"), "video") if s.get("mid") == mid), {})


def describe(browser, mid):
    """What the page decodes in the slot, and what its camera sends per layer (for the failure output)."""
    stats = browser.request("stats")
    got = next((s for s in b.inbound(stats, "video") if s.get("mid") == mid), {})
    layers = [f"{o['rid']} ssrc {o['ssrc']}: {o['frame_width']} px {o['frames_encoded']} frames "
              f"{o['key_frames']} key {o['packets']} packets, PLI {o['plis']} FIR {o['firs']}"
              for o in stats.get("outbound", []) if o["kind"] == "video"]
    return (f"{browser.name} decodes slot mid {mid}: {got.get('packets')} packets, {got.get('frames_decoded')} frames "
            f"{got.get('frame_width')}x{got.get('frame_height')}; camera layers [{'; '.join(layers)}]")


def composite_fps(browser, mid, window_s=3.0):
    """Pictures a second the page decodes in the slot (printed, not checked: it depends on the CPU)."""
    first = slot_stats(browser, mid).get("frames_decoded") or 0
    time.sleep(window_s)
    return ((slot_stats(browser, mid).get("frames_decoded") or 0) - first) / window_s


def check_decodes(browser, mid, checks):
    def decoding(x):
        first = slot_stats(x, mid).get("frames_decoded") or 0
        time.sleep(0.5)
        return (slot_stats(x, mid).get("frames_decoded") or 0) > first > 0
    try:
        b.wait_for(browser, "the composite decoded", decoding, kDecodeWithinS)
        ok = True
    except h.Failure:
        ok = False
    got = slot_stats(browser, mid)
    checks.expect(ok and (got.get("frame_width"), got.get("frame_height")) == kCanvas,
                  f"{browser.name} decodes the composite in the first slot: {got.get('frames_decoded')} frames, "
                  f"{got.get('frame_width')}x{got.get('frame_height')} (want {kCanvas[0]}x{kCanvas[1]})")
    return ok


def probe(browser, mid, probes):
    """({probe name: rgb}, tile dark, (video width, height)) of the first slot's decoded <video>."""
    names = list(probes)
    for slot in browser.request("pixels", points=[probes[n] for n in names]):
        if slot["mid"] == mid or (slot["slot"] == 0 and not mid):
            colours = dict(zip(names, slot["points"] or [None] * len(names)))
            return colours, slot["dark"], (slot["width"], slot["height"])
    return {n: None for n in names}, True, (0, 0)


def check_picture(browser, mid, probes, expected, label, shot, checks):
    """Within kGridWithinS the composite shows `expected` at every probe; screenshot `shot` either way."""
    last = {}

    def matches(x):
        colours, _, _ = probe(x, mid, probes)
        last.update(colours)
        return all(expected[n](colours[n]) for n in probes)
    try:
        b.wait_for(browser, label, matches, kGridWithinS, 0.3)
        ok = True
    except h.Failure:
        ok = False
    browser.screenshot(shot)
    shown = ", ".join(f"{n} {last.get(n)} (want {kNames[expected[n]]})" for n in probes)
    checks.expect(ok, f"{browser.name}: {label}: {shown}")
    return ok


def layer_frames(browser):
    """{rid: frames encoded} of the page's camera (outbound-rtp per simulcast layer)."""
    return {o["rid"]: o["frames_encoded"] or 0 for o in browser.request("stats")["outbound"] if o["kind"] == "video"}


def check_one_stream_per_camera(session, browsers, checks):
    """A decoder takes one RTP stream (RFC 3550: one SSRC, one sequence-number space), so the MCU
    may feed at most one simulcast layer per camera to its decoder. A solid-colour picture's frames
    fit in one RTP packet each (key frames in a few), so one layer fed is about that layer's frames
    (at most the busiest layer's); all layers fed is about their sum. Frames, not the pages' packet
    counts: those include the padding Chromium sends to probe bandwidth, which the MCU never sees."""
    sent = {x.name: layer_frames(x) for x in browsers}
    fed = session.metrics().get("chorus_video_mcu_packets_in_total", 0)
    one_layer = sum(max(layers.values(), default=0) for layers in sent.values())
    all_layers = sum(sum(layers.values()) for layers in sent.values())
    bound = one_layer * kOneLayerSlack + 50
    checks.expect(fed <= bound,
                  f"the MCU decodes one RTP stream per camera: chorus_video_mcu_packets_in_total {fed:.0f} "
                  f"<= {bound:.0f} (the busiest layer's frames of each camera, {one_layer}, + "
                  f"{kOneLayerSlack - 1:.0%} + 50); frames of all layers sent: {all_layers} {sent}")


def hears(browser, hz):
    """Within a few tries (the mix settles after a join), the loudest tone is `hz`."""
    peak = 0
    for _ in range(4):
        tone = browser.request("tone", ms=2000)
        peak = tone.get("peak_hz", 0)
        print(f"  {browser.name} hears {peak:.0f} Hz (share {tone.get('peak_share', 0):.2f})", flush=True)
        if abs(peak - hz) <= hz * kToneTolerance:
            break
    return peak


def slot_infos(browser):
    return [m for m in browser.request("sip")["received"]
            if m.startswith("INFO ") and "chorus-video-slots" in m.split("\r\n\r\n")[0]]


def mcu_log_lines(server):
    """chorusd's warnings and errors about the video MCU (printed)."""
    return [line for line in server.log_lines()
            if "comp=video-mcu" in line and ("level=warn" in line or "level=error" in line)]


def case(session, checks):
    reply = session.api.request("POST", "/v1/rooms", {"id": kRoom, "name": "Browser MCU test", "mode": "mcu"})
    if not checks.expect(reply.status == 201 and reply.json().get("mode") == "mcu",
                         f"POST /v1/rooms mode mcu: {reply.status} {reply.body[:120]!r}"):
        return
    ann = session.browser("Ann")
    join(session, ann, checks)
    ann_mid = check_answer(ann, checks)
    if ann_mid is None:
        return
    decoded = check_decodes(ann, ann_mid, checks)
    print(f"  {describe(ann, ann_mid)}", flush=True)
    print(f"  /metrics: {session.metrics()}", flush=True)
    if decoded:
        check_picture(ann, ann_mid, kOneProbes, {n: is_red for n in kOneProbes}, "alone, her red fills the 1x1 grid",
                      "alone", checks)

    # Bo joins with her microphone muted: the grid puts the active speaker first, and her fresh
    # tone would take the floor from Ann's (steady, by now below the detector's noise floor).
    bo = session.browser("Bo")
    join(session, bo, checks, muted=True)
    checks.expect(bo.request("state")["mic_muted"], "Bo joined with her microphone muted")
    bo_mid = check_answer(bo, checks)
    if bo_mid is None:
        return
    for browser, mid in ((ann, ann_mid), (bo, bo_mid)):
        if browser is bo and not check_decodes(bo, bo_mid, checks):
            continue
        check_picture(browser, mid, kGridProbes, kGridExpected, "the 2x2 grid in join order", "grid", checks)
        _, dark, size = probe(browser, mid, {})
        checks.expect(not dark, f"{browser.name}: the composite's tile is shown, not the dark placeholder "
                                f"(dark {dark}, video {size[0]}x{size[1]})")
        print(f"  {describe(browser, mid)}", flush=True)
        print(f"  {browser.name} decodes {composite_fps(browser, mid):.1f} composite pictures a second", flush=True)

    # Muted, Bo's Chromium sends Opus frames of silence marked -127 dBov (RFC 6464 ssrc-audio-level,
    # which chorusd's answer accepted): the audio MCU never mixes them, so it never decodes them.
    never_decoded = session.api.metrics("chorus_mixer_").get("chorus_mixer_input_packets_never_decoded_total", 0)
    checks.expect(never_decoded > 0, f"the audio MCU left Bo's silent packets undecoded ({never_decoded:.0f})")

    bo.request("click", button="toggle-mic")
    checks.expect(not bo.request("state")["mic_muted"], "Bo unmuted")
    for listener, talker in ((ann, bo), (bo, ann)):
        hz = kPeople[talker.name][2]
        peak = hears(listener, hz)
        checks.expect(abs(peak - hz) <= hz * kToneTolerance,
                      f"{listener.name} hears {talker.name}'s {hz} Hz, not her own ({peak:.0f} Hz)")
    # Not checked: with Bo's tone heard she may now be the active speaker, and then first.
    colours, _, _ = probe(ann, ann_mid, kGridProbes)
    print(f"  with Bo heard, Ann's composite: tile 0 {colours['tile 0']}, tile 1 {colours['tile 1']}", flush=True)
    ann.screenshot("bo-talking")

    check_one_stream_per_camera(session, (ann, bo), checks)
    metrics = session.metrics()
    print(f"  /metrics: {metrics}", flush=True)
    checks.expect(metrics.get("chorus_video_mcu_packets_in_total", 0) > 0,
                  f"the MCU fed its decoders ({metrics.get('chorus_video_mcu_packets_in_total')} packets in)")
    checks.expect(metrics.get("chorus_video_mcu_packets_out_total", 0) > 0,
                  f"the MCU sent the composite ({metrics.get('chorus_video_mcu_packets_out_total')} packets out)")
    for browser, mid in ((ann, ann_mid), (bo, bo_mid)):
        print(f"  {describe(browser, mid)}", flush=True)
        infos = slot_infos(browser)
        checks.expect(not infos, f"{browser.name}: no slot-map INFO in an mcu room ({len(infos)})")
    warnings = mcu_log_lines(session.server)
    print(f"  chorusd's video-mcu warnings and errors: {len(warnings)}", flush=True)
    for line in warnings[:10]:
        print(f"    {line[:300]}", flush=True)


def body(args):
    node, script = b.require_browser_tools(args.source_dir)
    os.makedirs(args.output_dir, exist_ok=True)
    checks = h.Checks()
    session = Session(args, node, script)
    try:
        case(session, checks)
    except h.Failure as e:
        checks.expect(False, str(e))
    finally:
        session.close(checks)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run("test_browser_mcu", body, parser=h.arg_parser(__doc__.splitlines()[0])))
