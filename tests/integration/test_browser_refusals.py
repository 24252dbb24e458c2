#!/usr/bin/env python3
"""The page says why a room could not be joined, and takes a room's PIN, in a real browser.

One chorusd; rooms made over REST: `locked1` (locked), `small` (max_participants 1), `later` (its
only meeting starts in two days) and `pinroom` (PIN 654321). Browsers are headless Chromium
processes (tests/web/participant.mjs) with fake camera and microphone, joining through the form
with no token.

- `refusals`: Ann joins, one after the other on the same page, `nosuchroom` (404: "There is no such
  room."), `locked1` (403: "The room is locked."), `small` while Bo is in it (486: "The room is
  full.") and `later` (480 with `Warning: 399 chorus "This meeting has not started"`: "The room
  cannot take calls now. This meeting has not started."); each time the form is back with the
  message in its alert, and chorusd ends with no dialogs.
- `pin`: Ann joins `pinroom`. When chorusd sends the slot map with admission pin_required, the PIN
  dialog opens by itself and 1111 is refused ("That PIN was not accepted") before 654321 admits her;
  until chorusd sends admission updates, she types 654321# on the page's keypad (SIP INFO
  application/dtmf-relay, as JsSIP sendDTMF sends it) instead. Either way REST then lists her
  admitted. Bo types three wrong PINs: chorusd hangs up (BYE) and the page says the call was ended
  (and that the PIN was refused, when it knew a PIN was wanted).

Screenshots of every page are kept (paths printed). Skips (77) like test_browser_join.py.
`--only refusals|pin`.
"""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_agent as b  # noqa: E402
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

kCamera = {"Ann": 0xFFFF0000, "Bo": 0xFF0000FF}
kTone = {"Ann": 440, "Bo": 700}
kPin = "654321"  # min_pin_digits: 6 by default


def rfc3339(at):
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_rooms(api):
    api.expect(201, "POST", "/v1/rooms", {"id": "locked1", "name": "locked", "locked": True})
    api.expect(201, "POST", "/v1/rooms", {"id": "small", "name": "one person", "max_participants": 1})
    api.expect(201, "POST", "/v1/rooms", {"id": "later", "name": "not yet"})
    now = datetime.datetime.now(datetime.timezone.utc)
    api.expect(201, "POST", "/v1/meetings", {"room_id": "later", "title": "in two days",
                                             "start": rfc3339(now + datetime.timedelta(days=2)),
                                             "end": rfc3339(now + datetime.timedelta(days=2, hours=1))})
    api.expect(201, "POST", "/v1/rooms", {"id": "pinroom", "name": "with a PIN", "pin": kPin})


def browser(args, node, script, name, browsers):
    camera = b.make_camera(os.path.join(args.output_dir, f"{name}.y4m"), kCamera[name])
    tone = b.make_tone(os.path.join(args.output_dir, f"{name}.wav"), kTone[name])
    made = b.Browser(node, script, name, args.output_dir, camera=camera, microphone=tone)
    browsers.append(made)
    return made


def refused(who, server, room, expected, checks):
    """Join `room` and expect the form back with `expected` as its message."""
    who.request("open", url=f"http://127.0.0.1:{server.http_port}/?room={room}&name={who.name}")
    state = who.request("join", wait_ms=30000)
    who.screenshot(f"refused-{room}")
    checks.expect(not state["in_call"] and state["join_message"] == expected,
                  f"{room}: the page says {state['join_message']!r} (want {expected!r})")


def case_refusals(args, node, script, server, api, checks, browsers):
    ann = browser(args, node, script, "Ann", browsers)
    refused(ann, server, "nosuchroom", "There is no such room.", checks)
    refused(ann, server, "locked1", "The room is locked.", checks)
    refused(ann, server, "later", "The room cannot take calls now. This meeting has not started.", checks)
    bo = browser(args, node, script, "Bo", browsers)
    bo.request("open", url=f"http://127.0.0.1:{server.http_port}/?room=small&name=Bo")
    state = bo.request("join", wait_ms=30000)
    checks.expect(state["in_call"], f"Bo is in room small ({state['call_state']!r}{state['join_message']!r})")
    refused(ann, server, "small", "The room is full.", checks)
    bo.request("click", button="leave")


def admitted(api, room, name):
    reply = api.get(f"/v1/conferences/{room}/participants")
    items = reply.json().get("items", []) if reply.status == 200 else []
    return [p for p in items if p["display_name"] == name and p["admitted"]]


def enter_pin(who, api, checks):
    state = who.request("state")
    if state["pin_dialog_open"]:
        state = who.request("pin", pin="1111")
        retry = b.wait_for(who, "the PIN refused", lambda x: x.request("state")["pin_error"], 15.0)
        checks.expect("not accepted" in retry or "try again" in retry, f"a wrong PIN is said: {retry!r}")
        who.request("pin", pin=kPin)
        b.wait_for(who, "the PIN dialog closed", lambda x: not x.request("state")["pin_dialog_open"], 15.0)
        checks.expect(True, "the PIN dialog opened by itself (admission pin_required) and closed once admitted")
    else:
        print("  NOTE: no admission update from chorusd: the PIN goes through the keypad", flush=True)
        who.request("keypad", tones=kPin + "#")
    found = h.poll_until(lambda: admitted(api, "pinroom", who.name), 15.0, f"{who.name} admitted to pinroom")
    checks.expect(bool(found), f"REST lists {who.name} admitted after the PIN")


def case_pin(args, node, script, server, api, checks, browsers):
    ann = browser(args, node, script, "Ann", browsers)
    ann.request("open", url=f"http://127.0.0.1:{server.http_port}/?room=pinroom&name=Ann")
    state = ann.request("join", wait_ms=30000)
    checks.expect(state["in_call"], f"Ann's call to pinroom is up ({state['call_state']!r}{state['join_message']!r})")
    ann.screenshot("pin-asked")
    enter_pin(ann, api, checks)
    ann.screenshot("pin-admitted")

    bo = browser(args, node, script, "Bo", browsers)
    bo.request("open", url=f"http://127.0.0.1:{server.http_port}/?room=pinroom&name=Bo")
    state = bo.request("join", wait_ms=30000)
    checks.expect(state["in_call"], f"Bo's call to pinroom is up ({state['call_state']!r})")
    for wrong in ("1111", "2222", "3333"):
        if bo.request("state")["pin_dialog_open"]:
            bo.request("pin", pin=wrong)
            b.wait_for(bo, "the PIN answered", lambda x: not x.request("state")["in_call"] or x.request("state")["pin_error"]
                       or not x.request("state")["pin_dialog_open"], 15.0)
        elif bo.request("state")["in_call"]:
            bo.request("keypad", tones=wrong + "#")
    ended = b.wait_for(bo, "the call ended by the server", lambda x: (lambda s: s if not s["in_call"] else None)(
        x.request("state")), 20.0)
    bo.screenshot("pin-failed")
    message = ended["join_message"]
    checks.expect(message.startswith("The PIN was not accepted") or message == "The server ended the call.",
                  f"after three wrong PINs the page says {message!r}")
    checks.expect(not admitted(api, "pinroom", "Bo"), "Bo was never admitted")


def leave(who):
    """Hang up a call still up (BYE), as a person would, before the browser goes."""
    try:
        if who.request("state")["in_call"]:
            who.request("click", button="leave")
            b.wait_for(who, "the call ended", lambda x: not x.request("state")["in_call"], 10.0)
    except h.Failure as e:
        print(f"  ({who.name} could not leave: {e})", flush=True)


def body(args):
    node, script = b.require_browser_tools(args.source_dir)
    os.makedirs(args.output_dir, exist_ok=True)
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    h.poll_until(lambda: h.can_connect(server.http_port), 10.0, "the HTTP port")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    checks = h.Checks()
    browsers = []
    try:
        make_rooms(api)
        for name, case in (("refusals", case_refusals), ("pin", case_pin)):
            if args.only and args.only != name:
                continue
            print(f"--- {name}", flush=True)
            try:
                case(args, node, script, server, api, checks, browsers)
            except h.Failure as e:
                checks.expect(False, f"{name}: {e}")
            for made in browsers:
                made.screenshot(f"{name}-end")
                leave(made)
                made.close()
            browsers.clear()
    finally:
        for made in browsers:
            made.close()
        api.close()
    h.expect_quiescent(server, checks)
    h.expect_clean_stop(server, checks)
    return checks.failures


if __name__ == "__main__":
    parser = h.arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["refusals", "pin"])
    sys.exit(h.run("test_browser_refusals", body, parser=parser))
