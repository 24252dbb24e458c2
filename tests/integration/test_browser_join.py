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
  and Bo's pages Cy's slot is dark within 2 s; simulcast: Bo's max_receive_kbps is capped at 200
  over REST (PATCH /v1/conferences/1000/participants/{id}) and Bo receives Ann's low layer
  (frameWidth ≤ 320), then the high one within 5 s of the cap being lifted.

Screenshots of every page are kept in the output folder (their paths are printed). Skips (77)
without node ≥ 20, /usr/bin/chromium, tests/web/node_modules, web/node_modules (JsSIP),
gst-launch-1.0 or sox. `--only echo|room`.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_agent as b  # noqa: E402
import chorus_harness as h  # noqa: E402
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

    def __init__(self, args, node, script):
        self.args, self.node, self.script = args, node, script
        self.server = h.Chorusd(args.chorusd, args.output_dir).start()
        h.poll_until(lambda: h.can_connect(self.server.http_port), 10.0, "the HTTP port")
        self.api = rc.RestClient(self.server.http_port, rc.read_admin_token(self.server.data_dir))
        self.browsers = []

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
        for browser in self.browsers:
            browser.screenshot("end")
            try:
                if browser.request("state")["in_call"]:  # hang up as a person would: BYE, not a vanished page
                    browser.request("click", button="leave")
                    b.wait_for(browser, "the call ended", lambda x: not x.request("state")["in_call"], 10.0)
                seen = browser.request("diagnostics")
                errors = seen["page_errors"] + [e for e in seen["console_errors"] if "favicon" not in e]
                checks.expect(not errors, f"{browser.name}: no page or console errors ({errors[:5]})")
            except h.Failure as e:
                checks.expect(False, str(e))
            browser.close()
            print(f"  {browser.name}'s browser log: {os.path.join(browser.outdir, f'browser-{browser.name}.stderr')}",
                  flush=True)
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


def check_simulcast(session, ann, bo, checks):
    ann_out = [o for o in ann.request("stats")["outbound"] if o["kind"] == "video"]
    checks.expect(len({o["rid"] for o in ann_out}) == 3, f"Ann sends three layers ({[o['rid'] for o in ann_out]})")
    bo_id = next(p["id"] for p in session.participants(kRoom) if p["display_name"] == "Bo")
    path = f"/v1/conferences/{kRoom}/participants/{bo_id}"
    reply = session.api.request("PATCH", path, {"max_receive_kbps": 200})
    if not checks.expect(reply.status == 200 and reply.json().get("max_receive_kbps") == 200,
                         f"PATCH {path} max_receive_kbps 200: {reply.status} {reply.body[:80]!r}"):
        return
    low = b.wait_for(bo, "Ann's low layer", lambda x: 0 < frame_width_from(x) <= 320, 15.0)
    checks.expect(low, f"capped at 200 kbit/s Bo receives ≤ 320 px wide ({frame_width_from(bo)})")
    bo.screenshot("capped")
    reply = session.api.request("PATCH", path, {"max_receive_kbps": None})  # null removes the cap
    lifted = reply.json().get("max_receive_kbps", "absent") if reply.status == 200 else None
    checks.expect(reply.status == 200 and lifted is None, f"PATCH {path} max_receive_kbps null: {reply.status}, now {lifted!r}")
    started = time.monotonic()
    high = kAnnSize[0] * 9 // 10
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


def body(args):
    node, script = b.require_browser_tools(args.source_dir)
    os.makedirs(args.output_dir, exist_ok=True)
    checks = h.Checks()
    cases = {"echo": case_echo, "room": case_room}
    for name, case in cases.items():
        if args.only and args.only != name:
            continue
        print(f"--- {name}", flush=True)
        session = Session(args, node, script)
        try:
            case(session, checks)
        except h.Failure as e:
            checks.expect(False, f"{name}: {e}")
        finally:
            session.close(checks)
    return checks.failures


if __name__ == "__main__":
    parser = h.arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["echo", "room"])
    sys.exit(h.run("test_browser_join", body, parser=parser))
