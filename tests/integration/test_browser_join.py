#!/usr/bin/env python3
"""Joining rooms from the page at `/` in real browsers (JsSIP over SIP over WebSocket, no token).

Each participant is its own headless Chromium (tests/web/participant.mjs) with a fake camera of a
solid colour (.y4m made with gst-launch) and a fake microphone of a pure tone (.wav made with sox),
started with --allow-loopback-in-peer-connection so ICE pairs with chorusd on 127.0.0.1.

- `echo`: Ann (red, 440 Hz) opens /?room=9196&name=Ann and presses Join: the call is up, audio
  packets arrive, and the loudest frequency of what she hears (a WebAudio AnalyserNode on the
  remote track) is her own 440 Hz; the offer had one audio sendrecv, one video sendonly with rids
  q/h/f (RFC 8853 simulcast) and 4 recvonly slots; the INVITE on the page's WebSocket goes to
  sip:9196@127.0.0.1 with `Recv-Info: chorus-video-slots` and no credentials; Leave ends the call and
  chorusd goes back to no dialogs.
- `room`: Ann (red, 1280x720, 440 Hz) and Bo (blue, 700 Hz) join room 1000 the same way; REST lists
  both; each hears the other's tone, not her own. chorusd answers the video slots, and each decodes
  the other's video (inbound-rtp framesDecoded grows), the centre pixel of the occupied slot's
  <video> is the other's colour and the tile is labelled with her name (the INFO slot map); Cy
  (green, 1100 Hz) joins and leaves, and in Ann's
  and Bo's pages Cy's slot is dark within 2 s; simulcast: Bo's max_receive_kbps is capped over REST (PATCH
  /v1/conferences/1000/participants/{id}) below the cheapest layer Ann sends, and Bo receives Ann's
  low layer (frameWidth ≤ 320); the cap lifted, Bo receives the widest layer Ann is sending (at least
  640) within 5 s.
- `sip`: Ann and Bo in room 1000 with a baresip agent dialling in with video (fakevideo's three
  vertical bars, red/green/blue, VP8 352x288, one video m-line): both browsers decode its picture
  (a slot whose centre pixel is its green bar); its one slot shows whoever talks, never itself — a
  frame it decoded (baresip's snapshot module, a PNG read back with gst-launch) has Ann's red or
  Bo's blue at the centre; and what it hears (sndfile's recording) carries both browsers' tones
  at least 20 dB over its own (N-1 audio).

Screenshots of every page are kept in the output folder (their paths are printed). Skips (77)
without node ≥ 20, /usr/bin/chromium, tests/web/node_modules, web/node_modules (JsSIP),
gst-launch-1.0 or sox; the `sip` case also without baresip's vp8/fakevideo/snapshot modules.
`--only echo|room|sip`.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baresip_agent as ba  # noqa: E402
import browser_agent as b  # noqa: E402
import chorus_harness as h  # noqa: E402
import media_checks as mc  # noqa: E402
import rest_client as rc  # noqa: E402

kEchoRoom = "9196"
kRoom = "1000"
# name → (camera ARGB, expected RGB, tone Hz). Ann's camera is 1280x720 so Chromium sends all three
# simulcast layers (320, 640, 1280 wide); it keeps fewer for smaller pictures.
kAnnSize = (1280, 720)
kPeople = {
    "Ann": (0xFFFF0000, (255, 0, 0), 440),
    "Bo": (0xFF0000FF, (0, 0, 255), 700),
    "Cy": (0xFF00FF00, (0, 255, 0), 1100),
}
kToneTolerance = 0.03
kDarkWithinS = 2.0
kLayerSwitchS = 5.0


class Session:
    """chorusd, its REST client and the browsers of one case; everything stopped at the end."""

    def __init__(self, args, node, script, case):
        self.args, self.node, self.script = args, node, script
        self.server = h.Chorusd(args.chorusd, args.output_dir, name=f"chorusd-{case}").start()
        h.poll_until(lambda: h.can_connect(self.server.http_port), 10.0, "the HTTP port")
        self.api = rc.RestClient(self.server.http_port, rc.read_admin_token(self.server.data_dir))
        self.browsers = []
        self.agents = []

    def url(self, query=""):
        return f"http://127.0.0.1:{self.server.http_port}/{query}"

    def browser(self, name):
        argb, _, hz = kPeople[name]
        size = kAnnSize if name == "Ann" else (640, 360)
        camera = b.make_camera(os.path.join(self.args.output_dir, f"{name}.y4m"), argb, *size)
        tone = b.make_tone(os.path.join(self.args.output_dir, f"{name}.wav"), hz)
        browser = b.Browser(self.node, self.script, name, self.args.output_dir, camera=camera, microphone=tone)
        self.browsers.append(browser)
        return browser

    def participants(self, room):
        reply = self.api.get(f"/v1/conferences/{room}/participants")
        return reply.json().get("items", []) if reply.status == 200 else []

    def close(self, checks):
        for agent in self.agents:
            agent.stop()
        b.close_browsers(self.browsers, checks)
        self.api.close()
        h.expect_quiescent(self.server, checks)
        h.expect_clean_stop(self.server, checks)


def join(session, browser, room, checks):
    """Open /?room=…&name=… and press Join (no token): the call must come up."""
    opened = browser.request("open", url=session.url(f"?room={room}&name={browser.name}"))
    checks.expect(opened["join_room"] == room and opened["join_name"] == browser.name,
                  f"{browser.name}: the form is filled from the URL ({opened['join_room']!r}, {opened['join_name']!r})")
    checks.expect(not opened["join_unavailable"], f"{browser.name}: joining is available ({opened['join_unavailable']!r})")
    state = browser.request("join", wait_ms=30000)
    if not checks.expect(state["in_call"] and not state["join_message"],
                         f"{browser.name}: in room {room} ({state['call_state']!r}{state['join_message']!r})"):
        browser.screenshot("join-failed")
        raise h.Failure(f"{browser.name} could not join room {room}: {state}")
    b.wait_for(browser, "audio packets arriving", lambda x: b.audio_packets(x.request("stats")) > 50, 15.0)
    return state


def loudest(browser):
    tone = browser.request("tone", ms=2000)
    print(f"  {browser.name} hears {tone.get('peak_hz', 0):.0f} Hz (share {tone.get('peak_share', 0):.2f})", flush=True)
    return tone.get("peak_hz", 0)


def hears(browser, hz):
    """Within a few tries (the mix settles after a join), the loudest tone is `hz`."""
    for _ in range(4):
        peak = loudest(browser)
        if abs(peak - hz) <= hz * kToneTolerance:
            return peak
    return peak


def check_offer(stats, checks, name):
    sdp = stats.get("local_sdp") or ""
    offered = [(kind, direction) for kind, _, direction, _ in b.sdp_sections(sdp)]
    checks.expect(offered == [("audio", "sendrecv"), ("video", "sendonly")] + [("video", "recvonly")] * 4,
                  f"{name}: offer is audio sendrecv, video sendonly, 4 video recvonly ({offered})")
    answered = [(kind, port, direction) for kind, port, direction, _ in b.sdp_sections(stats.get("remote_sdp"))]
    print(f"  {name}: the answer's m-lines (kind, port, direction): {answered}", flush=True)
    checks.expect("a=simulcast:send q;h;f" in sdp and all(f"a=rid:{r} send" in sdp for r in "qhf"),
                  f"{name}: the camera is offered as three simulcast layers q/h/f (RFC 8853)")
    checks.expect("a=group:BUNDLE" in sdp, f"{name}: one BUNDLE group (max-bundle)")


def case_echo(session, checks):
    ann = session.browser("Ann")
    join(session, ann, kEchoRoom, checks)
    stats = ann.request("stats")
    check_offer(stats, checks, "Ann")
    invites = [m for m in ann.request("sip")["sent"] if m.startswith("INVITE ")]
    checks.expect(bool(invites) and invites[0].startswith(f"INVITE sip:{kEchoRoom}@127.0.0.1 SIP/2.0"),
                  f"the INVITE goes to sip:{kEchoRoom}@127.0.0.1 over the WebSocket ({invites[0][:60] if invites else None!r})")
    checks.expect(bool(invites) and "\r\nRecv-Info: chorus-video-slots\r\n" in invites[0],
                  "the INVITE says Recv-Info: chorus-video-slots (RFC 6086)")
    checks.expect(bool(invites) and "\r\nAuthorization" not in invites[0], "no token or credentials in the INVITE")
    peak = hears(ann, kPeople["Ann"][2])
    checks.expect(abs(peak - 440) <= 440 * kToneTolerance, f"Ann hears her own 440 Hz back from the echo room ({peak:.0f} Hz)")
    ann.screenshot("echo")
    state = ann.request("click", button="leave")
    state = b.wait_for(ann, "the form back after Leave", lambda x: (lambda s: s if not s["in_call"] else None)(x.request("state")), 10.0)
    checks.expect(state["join_message"] == "You left the room.", f"Leave: {state['join_message']!r}")


def video_answered(stats):
    return any(d in ("sendonly", "sendrecv") for d in b.slot_directions(stats))


def occupied_tiles(browser):
    return [t for t in browser.request("state")["tiles"] if not t["dark"]]


def check_sees(viewer, other, checks):
    """The viewer's occupied slot shows `other`: frames decoded grow and the centre pixel is its colour."""
    expected = kPeople[other.name][1]

    def decoding(x):
        first = sum(s.get("frames_decoded") or 0 for s in b.inbound(x.request("stats"), "video"))
        time.sleep(0.5)
        return sum(s.get("frames_decoded") or 0 for s in b.inbound(x.request("stats"), "video")) > first > 0

    checks.expect(b.wait_for(viewer, "video frames decoded", decoding, 30.0), f"{viewer.name} decodes video")
    found = b.wait_for(viewer, f"{other.name}'s colour in a slot", lambda x: [
        p for p in x.request("pixels") if not p["dark"] and b.close_hue(p["rgb"], expected)], 30.0)
    checks.expect(bool(found), f"{viewer.name} sees {other.name}'s colour {expected} in slot {found[0]['slot']}: {found[0]['rgb']}")
    labels = [t["label"] for t in occupied_tiles(viewer)]
    checks.expect(other.name in labels, f"{viewer.name}'s tile is labelled {other.name} ({labels})")


def check_leave_goes_dark(session, viewers, leaver, checks):
    pid_of = {t["label"]: t["participant_id"] for t in occupied_tiles(viewers[0])}
    leaver_id = pid_of.get(leaver.name)
    leaver.request("click", button="leave")
    started = time.monotonic()
    for viewer in viewers:
        b.wait_for(viewer, f"{leaver.name}'s slot dark", lambda x: not any(
            t["participant_id"] == leaver_id or t["label"] == leaver.name for t in occupied_tiles(x)), 10.0, 0.1)
        took = time.monotonic() - started
        checks.expect(took <= kDarkWithinS, f"{viewer.name}: {leaver.name}'s slot dark {took:.2f} s after Leave (≤ {kDarkWithinS} s)")
        viewer.screenshot(f"after-{leaver.name}-left")


def check_controls(ann, bo, checks):
    """Bo's camera off: no frames are forwarded, so Ann's tile for Bo goes dark; on again: back.
    Ann's microphone muted (track.enabled false sends silence): Bo no longer hears 440 Hz."""
    state = bo.request("click", button="toggle-camera")
    checks.expect(state["camera_off"] and state["self_dark"], "Bo's camera off: pressed, and the preview is dark")
    try:
        b.wait_for(ann, "Bo's tile dark", lambda x: "Bo" not in [t["label"] for t in occupied_tiles(x)], 10.0)
        checks.expect(True, "with Bo's camera off, Ann's tile for Bo is dark")
    except h.Failure as e:
        checks.expect(False, f"with Bo's camera off, Ann's tile for Bo is dark: {e}")
    bo.request("click", button="toggle-camera")
    check_sees(ann, bo, checks)
    state = ann.request("click", button="toggle-mic")
    checks.expect(state["mic_muted"], "Ann's microphone muted (aria-pressed)")
    time.sleep(1.0)
    tone = bo.request("tone", ms=2000)
    checks.expect(abs(tone.get("peak_hz", 0) - 440) > 440 * kToneTolerance or tone.get("peak_share", 0) < 0.2,
                  f"Ann muted: Bo no longer hears 440 Hz ({tone.get('peak_hz', 0):.0f} Hz, share {tone.get('peak_share', 0):.2f})")
    ann.request("click", button="toggle-mic")
    peak = hears(bo, 440)
    checks.expect(abs(peak - 440) <= 440 * kToneTolerance, f"Ann unmuted: Bo hears 440 Hz again ({peak:.0f} Hz)")


def frame_width_from(viewer, name="Ann"):
    """The width of what the viewer decodes in `name`'s slot (other slots keep their last width in
    getStats after their stream stops, so only this slot's mid counts)."""
    mids = [t["mid"] for t in viewer.request("state")["tiles"] if t["label"] == name and not t["dark"]]
    widths = [s.get("frame_width") or 0 for s in b.inbound(viewer.request("stats"), "video")
              if s.get("mid") in mids and s.get("frames_decoded")]
    return max(widths, default=0)


def layer_kbps(sender, window_s=2.0):
    """What the sender's camera sends per simulcast rid (kbit/s), from outbound-rtp bytes over a window."""
    def sent():
        return {o["rid"]: o["bytes"] or 0 for o in sender.request("stats")["outbound"] if o["kind"] == "video"}
    first = sent()
    time.sleep(window_s)
    last = sent()
    return {rid: int((last[rid] - first.get(rid, 0)) * 8 / window_s / 1000) for rid in last}


def check_simulcast(session, ann, bo, checks):
    ann_out = [o for o in ann.request("stats")["outbound"] if o["kind"] == "video"]
    checks.expect(len({o["rid"] for o in ann_out}) == 3, f"Ann sends three layers ({[o['rid'] for o in ann_out]})")
    bo_id = next(p["id"] for p in session.participants(kRoom) if p["display_name"] == "Bo")
    path = f"/v1/conferences/{kRoom}/participants/{bo_id}"
    # What each layer costs depends on the picture and on the sender's own bandwidth estimate (a
    # solid-colour camera is cheap; a starved sender pads and re-keys its low layer), so the cap is
    # set below the cheapest layer Ann sends: nothing fits, and the router keeps the first slot
    # visible at the lowest resolution rather than dark.
    rates = layer_kbps(ann)
    live = [kbps for kbps in rates.values() if kbps > 0]
    cap = max(1, min(live, default=2) // 2)
    print(f"  Ann's layers (kbit/s): {rates}; Bo's cap {cap}", flush=True)
    for o in ann.request("stats")["outbound"]:
        if o["kind"] == "video":
            print(f"    rid {o['rid']}: {o['frame_width']} px, {o['frames_encoded']} frames, {o['key_frames']} keyframes, "
                  f"PLI {o['plis']} FIR {o['firs']} NACK {o['nacks']}, limited by {o['quality_limitation']}", flush=True)
    reply = session.api.request("PATCH", path, {"max_receive_kbps": cap})
    if not checks.expect(reply.status == 200 and reply.json().get("max_receive_kbps") == cap,
                         f"PATCH {path} max_receive_kbps {cap}: {reply.status} {reply.body[:80]!r}"):
        return
    low = b.wait_for(bo, "Ann's low layer", lambda x: 0 < frame_width_from(x) <= 320, 15.0)
    checks.expect(low, f"capped at {cap} kbit/s Bo receives ≤ 320 px wide ({frame_width_from(bo)})")
    bo.screenshot("capped")
    reply = session.api.request("PATCH", path, {"max_receive_kbps": None})  # null removes the cap
    started = time.monotonic()
    lifted = reply.json().get("max_receive_kbps", "absent") if reply.status == 200 else None
    checks.expect(reply.status == 200 and lifted is None, f"PATCH {path} max_receive_kbps null: {reply.status}, now {lifted!r}")
    # The high layer is the widest one Ann's browser is sending now: a sender short of bandwidth (its
    # own estimate) pauses its top layer, and no router can forward what it is not given.
    widths = {o["rid"]: o["frame_width"] or 0 for o in ann.request("stats")["outbound"] if o["kind"] == "video"}
    high = max((widths.get(rid, 0) for rid, kbps in rates.items() if kbps > 0), default=0)
    outgoing = (ann.request("stats").get("transport") or {}).get("available_outgoing_bps")
    print(f"  Ann's layers' widths {widths}: the high layer is {high} px wide (her browser's estimate of "
          f"its uplink: {outgoing} bit/s)", flush=True)
    checks.expect(high >= 640, f"Ann sends a layer at least 640 px wide ({high})")
    try:
        b.wait_for(bo, "Ann's high layer", lambda x: frame_width_from(x) >= high, kLayerSwitchS + 10, 0.2)
    except h.Failure:
        pass
    took = time.monotonic() - started
    checks.expect(frame_width_from(bo) >= high and took <= kLayerSwitchS,
                  f"the cap lifted, Bo moves up to Ann's high layer ({frame_width_from(bo)} px, want ≥ {high}) "
                  f"in {took:.1f} s (≤ {kLayerSwitchS} s)")


def case_room(session, checks):
    ann, bo = session.browser("Ann"), session.browser("Bo")
    join(session, ann, kRoom, checks)
    join(session, bo, kRoom, checks)
    names = sorted(p["display_name"] for p in session.participants(kRoom))
    checks.expect(names == ["Ann", "Bo"], f"REST lists the browsers by the names they typed: {names}")
    for listener, talker in ((ann, bo), (bo, ann)):
        peak = hears(listener, kPeople[talker.name][2])
        checks.expect(abs(peak - kPeople[talker.name][2]) <= kPeople[talker.name][2] * kToneTolerance,
                      f"{listener.name} hears {talker.name}'s {kPeople[talker.name][2]} Hz, not her own ({peak:.0f} Hz)")
    for browser in (ann, bo):
        browser.screenshot("room")

    stats = ann.request("stats")
    if not checks.expect(video_answered(stats), f"chorusd answers the video slots ({b.slot_directions(stats)})"):
        return
    check_sees(ann, bo, checks)
    check_sees(bo, ann, checks)
    check_controls(ann, bo, checks)
    cy = session.browser("Cy")
    join(session, cy, kRoom, checks)
    check_sees(ann, cy, checks)
    check_leave_goes_dark(session, [ann, bo], cy, checks)
    check_simulcast(session, ann, bo, checks)


# baresip's fakevideo draws three vertical bars, red | green | blue, so the centre is green.
kBaresipCentre = (0, 255, 0)
kBaresipTone = 300
kBaresipModules = ["vp8.so", "fakevideo.so", "snapshot.so"]
kBaresipVideo = ["video_source\tfakevideo,nil", "video_display\tfakevideo,nil", "video_size\t352x288",
                 "video_fps\t15"]


def png_centre(path, scratch):
    """The centre pixel (r, g, b) of a PNG, decoded by gst-launch into raw RGB rows (each row padded
    to 4 bytes, GStreamer's default stride)."""
    with open(path, "rb") as f:
        header = f.read(24)
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "pngdec", "!", "videoconvert", "!",
                    "video/x-raw,format=RGB", "!", "filesink", f"location={scratch}"], check=True, timeout=20,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(scratch, "rb") as f:
        raw = f.read()
    stride = (width * 3 + 3) // 4 * 4
    at = (height // 2) * stride + (width // 2) * 3
    return tuple(raw[at:at + 3]) if len(raw) >= stride * height else None


def baresip_sees(agent, scratch, colours, checks):
    """Ask for snapshots until one decoded frame's centre has one of `colours` (bounded)."""
    centre = None
    for attempt in range(20):
        before = set(os.listdir(agent.folder))
        agent.control.command("snapshot")
        try:
            fresh = h.poll_until(lambda: [n for n in os.listdir(agent.folder) if n.startswith("snapshot-recv")
                                          and n.endswith(".png") and n not in before], 5.0, "a decoded frame", 0.2)
        except h.Failure:
            continue
        centre = png_centre(os.path.join(agent.folder, sorted(fresh)[-1]), f"{scratch}-{attempt}.rgb")
        if centre and any(b.close_hue(centre, c) for c in colours):
            break
        time.sleep(0.5)
    checks.expect(centre is not None and any(b.close_hue(centre, c) for c in colours),
                  f"baresip's decoded frame has a browser's colour at the centre ({centre}, want one of {colours})")


def baresip_hears(agent, tones, own_hz, checks):
    """The last 3 s of what baresip heard hold each of `tones` well above its own tone (N-1 audio).
    Relative, not absolute: a browser's noise suppression attenuates a steady tone by a varying
    amount (it heard Ann's 440 Hz at -27 dBFS in one run and -42 in another)."""
    files = agent.recordings("dec")
    if not checks.expect(bool(files), f"baresip recorded what it heard ({agent.rec_dir})"):
        return
    length = mc.duration_s(files[-1])
    start = max(0.0, length - 3.0)
    own = mc.tone_energy_db(files[-1], own_hz, start)
    checks.expect(own < -50.0, f"baresip does not hear its own {own_hz} Hz (N-1: {own:.1f} dBFS, want < -50)")
    for hz in tones:
        level = mc.tone_energy_db(files[-1], hz, start)
        checks.expect(level > -60.0 and level - own >= 20.0,
                      f"baresip hears {hz} Hz in the room's mix ({level:.1f} dBFS, ≥ 20 dB over its own tone)")


def case_sip(session, checks):
    missing = [m for m in kBaresipModules if not os.path.exists(os.path.join(ba.MODULE_PATH, m))]
    if not os.path.exists(session.args.baresip) or missing:
        why = f"baresip or its video modules are not installed ({missing})"
        if session.args.only == "sip":
            raise h.Skip(why)
        print(f"  sip case not run: {why}", flush=True)
        return
    ann, bo = session.browser("Ann"), session.browser("Bo")
    join(session, ann, kRoom, checks)
    join(session, bo, kRoom, checks)
    agent = ba.BaresipAgent(session.args.baresip, os.path.join(session.args.output_dir, "baresip"),
                            tone_hz=kBaresipTone, modules=kBaresipModules, record=True, extra_config=kBaresipVideo)
    session.agents.append(agent.start())
    agent.control.command("dial", f"sip:{kRoom}@127.0.0.1:{session.server.sip_port}")
    event = agent.control.wait_event("CALL_ESTABLISHED", 20.0, stop_on=("CALL_CLOSED",))
    if not checks.expect(event.get("type") == "CALL_ESTABLISHED", f"baresip's call to room {kRoom} is up ({event})"):
        return
    for viewer in (ann, bo):
        found = b.wait_for(viewer, "baresip's green bar in a slot", lambda x: [
            p for p in x.request("pixels") if not p["dark"] and b.close_hue(p["rgb"], kBaresipCentre)], 30.0)
        checks.expect(bool(found), f"{viewer.name} decodes baresip's picture in slot {found[0]['slot']}: {found[0]['rgb']}")
        viewer.screenshot("with-baresip")
    baresip_sees(agent, os.path.join(session.args.output_dir, "snapshot"),
                 [kPeople["Ann"][1], kPeople["Bo"][1]], checks)
    baresip_hears(agent, [kPeople["Ann"][2], kPeople["Bo"][2]], kBaresipTone, checks)


def body(args):
    node, script = b.require_browser_tools(args.source_dir)
    os.makedirs(args.output_dir, exist_ok=True)
    checks = h.Checks()
    cases = {"echo": case_echo, "room": case_room, "sip": case_sip}
    for name, case in cases.items():
        if args.only and args.only != name:
            continue
        print(f"--- {name}", flush=True)
        session = Session(args, node, script, name)
        try:
            case(session, checks)
        except h.Failure as e:
            checks.expect(False, f"{name}: {e}")
        finally:
            session.close(checks)
    return checks.failures


if __name__ == "__main__":
    parser = h.arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["echo", "room", "sip"])
    parser.add_argument("--baresip", default="/usr/bin/baresip")
    sys.exit(h.run("test_browser_join", body, parser=parser))
