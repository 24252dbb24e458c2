#!/usr/bin/env python3
"""The page keeps the slot-map and PIN contract: INFO slot maps and admission, as a browser sees them.

chorusd serves the page, /client-config.json and the page's Content-Security-Policy (all real).
tests/web/slot_map_contract.mjs opens the page in headless Chromium (fake camera and microphone)
and takes over the page's WebSocket to chorusd's --ws-port with Playwright's routeWebSocket, playing
the SIP side as the contract says the server does (web/README.md "Joining a room"): it answers the
INVITE (audio and the recvonly slots accepted as sendonly, the camera rejected), then sends in-dialog
INFO `Info-Package: chorus-video-slots` slot maps and reads the page's PIN digits (INFO
application/dtmf-relay). No media flows. It proves, before chorusd sends slot maps itself:
- the INVITE is for the room, says `Recv-Info: chorus-video-slots`, From is the typed name with a
  random `web-` user;
- `pin_required` opens the PIN dialog by itself with focus in its field; 1111 arrives as 1111#; a
  map that still wants a PIN says it was not accepted; 4321# then `admitted` closes the dialog;
- a slot naming Bo (participant 12) labels that tile Bo, dark ("Bo: no video") while no RTP comes;
  the other slots are "Empty"; version 5 then version 4 (crossing INFOs): 5 wins, 4 changes nothing;
  a display name with markup is shown as text;
- a second call: three wrong PINs and the server's BYE → "The PIN was not accepted (three wrong
  tries) …", and the message takes focus.
Screenshots contract-slots.png and contract-wrong-pin.png are kept. Skips (77) like
test_browser_join.py.
"""

import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_agent as b  # noqa: E402
import chorus_harness as h  # noqa: E402

kTimeoutS = 240.0  # Chromium's start alone may take 120 s on a busy machine


def body(args):
    node, participant = b.require_browser_tools(args.source_dir)
    script = os.path.join(os.path.dirname(participant), "slot_map_contract.mjs")
    os.makedirs(args.output_dir, exist_ok=True)
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    h.poll_until(lambda: h.can_connect(server.http_port), 10.0, "the HTTP port")
    camera = b.make_camera(os.path.join(args.output_dir, "camera.y4m"), 0xFFFF0000)
    tone = b.make_tone(os.path.join(args.output_dir, "tone.wav"), 440)
    command = [node, script, "--url", f"http://127.0.0.1:{server.http_port}/",
               "--ws-url", f"ws://127.0.0.1:{server.ws_port}/", "--camera", camera, "--microphone", tone,
               "--out", args.output_dir, "--chromium", b.CHROMIUM]
    print("  $ " + shlex.join(command), flush=True)
    checks = h.Checks()
    with open(os.path.join(args.output_dir, "contract.stderr"), "wb") as err:
        proc = h.track(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, cwd=args.output_dir,
                                        env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"),
                                        start_new_session=True))
        try:
            out, _ = proc.communicate(timeout=kTimeoutS)
        except subprocess.TimeoutExpired:
            h.stop_process(proc)
            raise h.Failure(f"slot_map_contract.mjs did not finish within {kTimeoutS:.0f} s")
    lines = out.decode("utf-8", "replace").strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise h.Failure(f"slot_map_contract.mjs (exit {proc.returncode}) printed no JSON: {out[-2000:]!r}")
    for item in result.get("checks", []):
        checks.expect(item["ok"], item["what"])
    checks.expect(not result.get("error"), f"every step ran (steps {result.get('steps')}, error {result.get('error')!r})")
    checks.expect(result.get("steps") == ["pin", "slots", "wrong pin"], f"all three scenarios ran: {result.get('steps')}")
    for name in ("contract-slots.png", "contract-wrong-pin.png"):
        path = os.path.join(args.output_dir, name)
        if os.path.exists(path):
            print(f"  screenshot: {path}", flush=True)
    h.expect_quiescent(server, checks)  # no frame reached chorusd: nothing to clean up there
    h.expect_clean_stop(server, checks)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run("test_browser_slot_map", body, __doc__.splitlines()[0]))
