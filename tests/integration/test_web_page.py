#!/usr/bin/env python3
"""The page at `/` in a real browser: headless Chromium schedules a meeting through the form.

chorusd starts on free loopback ports and writes its admin token to <data-dir>/admin-token.
tests/web/schedule_meeting.mjs (playwright-core driving the Debian `chromium`, never a downloaded
browser) opens `/` with the browser's zone set to Europe/Berlin, types the token, waits for room 1000
in the list, fills the form (a title with markup characters, tomorrow 09:30–10:15 Berlin wall time,
two attendees) and presses Schedule. Then, without the browser:
- the page got 201 for its POST /v1/meetings, showed the "Scheduled" notice, listed the meeting as
  upcoming in room 1000's card, and logged no console error, page error or failed request (the
  page is served with a strict Content-Security-Policy: a violation is a console error);
- GET /v1/meetings?room_id=1000 with the admin token has exactly one meeting with that title, whose
  start/end are the Berlin wall times converted to UTC (through Python's zoneinfo, independently of
  the page's own conversion), timezone Europe/Berlin and both attendees;
- a PNG screenshot of the whole page is in the test output folder (page.png).

Skips (77) when node, /usr/bin/chromium or tests/web/node_modules (`npm ci --prefix tests/web`,
done by scripts/install-deps.sh) is missing.
"""

import datetime
import json
import os
import secrets
import shlex
import subprocess
import sys
import urllib.parse
import urllib.request
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

kZone = "Europe/Berlin"
kRoom = "1000"
kChromium = "/usr/bin/chromium"
kBrowserTimeoutS = 240.0  # Chromium's start alone may take 120 s on a busy machine
kPngMagic = b"\x89PNG\r\n\x1a\n"


def require_web_tools(source_dir):
    node = h.require_binary("node", "nodejs")
    # playwright-core 1.65 needs Node 20 (Debian 12's own nodejs is 18): skip rather than fail there.
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < 20:
        raise h.Skip(f"node {version} is older than the 20 that playwright-core needs")
    if not os.access(kChromium, os.X_OK):
        raise h.Skip(f"{kChromium} is not installed (Debian package chromium); scripts/install-deps.sh installs it")
    source_dir = os.path.abspath(source_dir)
    script = os.path.join(source_dir, "tests", "web", "schedule_meeting.mjs")
    modules = os.path.join(source_dir, "tests", "web", "node_modules", "playwright-core")
    if not os.path.isdir(modules):
        raise h.Skip(f"{modules} is absent; run `npm ci --prefix tests/web` (scripts/install-deps.sh does)")
    return node, script


def api_get(port, token, path, query=None):
    url = f"http://127.0.0.1:{port}{path}" + (("?" + urllib.parse.urlencode(query)) if query else "")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def all_meetings(port, token, room_id):
    items, query = [], {"room_id": room_id, "limit": "200"}
    for _ in range(100):  # bounded paging
        page = api_get(port, token, "/v1/meetings", query)
        items += page.get("items", [])
        if not page.get("next_page_token"):
            return items
        query["page_token"] = page["next_page_token"]
    raise h.Failure("GET /v1/meetings did not stop paging after 100 pages")


def parse_utc(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def planned_times():
    """Tomorrow 09:30–10:15 as Berlin wall times (the form's text) and the instants they name."""
    zone = ZoneInfo(kZone)
    day = datetime.datetime.now(zone).date() + datetime.timedelta(days=1)
    start = datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=zone)
    end = datetime.datetime.combine(day, datetime.time(10, 15), tzinfo=zone)
    return start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M"), start, end


def run_browser(node, script, args, chorusd, title, times):
    screenshot = os.path.join(args.output_dir, "page.png")
    command = [node, script, "--url", f"http://127.0.0.1:{chorusd.http_port}/",
               "--token-file", os.path.join(chorusd.data_dir, "admin-token"), "--title", title,
               "--room", kRoom, "--start", times[0], "--end", times[1], "--timezone", kZone,
               "--attendees", "ana@example.com, bo@example.com",
               "--screenshot", screenshot, "--chromium", kChromium, "--timeout-ms", "30000"]
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", TZ="UTC")
    print("  $ " + shlex.join(command), flush=True)
    with open(os.path.join(args.output_dir, "browser.stderr"), "wb") as err:
        proc = h.track(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, env=env,
                                        cwd=args.output_dir, start_new_session=True))
        try:
            out, _ = proc.communicate(timeout=kBrowserTimeoutS)
        except subprocess.TimeoutExpired:
            h.stop_process(proc)
            raise h.Failure(f"the browser script did not finish within {kBrowserTimeoutS:.0f} s")
    with open(os.path.join(args.output_dir, "browser.json"), "wb") as f:
        f.write(out)
    lines = out.decode("utf-8", "replace").strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise h.Failure(f"the browser script (exit {proc.returncode}) printed no JSON: {out[-2000:]!r}")
    print("  browser: " + json.dumps({k: result.get(k) for k in ("steps", "error", "post_status", "notice")}),
          flush=True)
    return proc.returncode, result, screenshot


def check_page(checks, code, result, title):
    checks.expect(code == 0 and not result.get("error"),
                  f"every step happened in the browser (exit {code}, steps {result.get('steps')}, "
                  f"error {result.get('error')!r})")
    checks.expect(result.get("default_timezone") == kZone,
                  f"the form's zone defaults to the browser's ({result.get('default_timezone')})")
    checks.expect(result.get("post_status") == 201, f"POST /v1/meetings answered 201 ({result.get('post_status')})")
    checks.expect(title in (result.get("notice") or ""), f"the notice names the meeting: {result.get('notice')!r}")
    checks.expect(title in (result.get("upcoming_titles") or []),
                  f"room {kRoom}'s card lists it as upcoming: {result.get('upcoming_titles')}")
    for key in ("console_errors", "page_errors", "failed_requests", "error_responses"):
        checks.expect(not result.get(key), f"no {key.replace('_', ' ')}: {result.get(key)}")
    if result.get("favicon_missing"):
        print("  note: Chromium's own GET /favicon.ico got 404 (the page has no icon); not counted", flush=True)


def check_api(checks, chorusd, token, title, times):
    found = [m for m in all_meetings(chorusd.http_port, token, kRoom) if m.get("title") == title]
    if not checks.expect(len(found) == 1, f"GET /v1/meetings?room_id={kRoom} has the meeting once ({len(found)})"):
        return
    meeting = found[0]
    print(f"  meeting: {json.dumps(meeting)}", flush=True)
    start, end = parse_utc(meeting["start"]), parse_utc(meeting["end"])
    checks.expect(start == times[2] and end == times[3],
                  f"start/end {meeting['start']} / {meeting['end']} are {times[0]}–{times[1]} {kZone} "
                  f"({times[2].astimezone(datetime.timezone.utc).isoformat()})")
    checks.expect(meeting.get("timezone") == kZone, f"timezone {meeting.get('timezone')}")
    checks.expect(meeting.get("room_id") == kRoom, f"room_id {meeting.get('room_id')}")
    checks.expect(sorted(meeting.get("attendees") or []) == ["ana@example.com", "bo@example.com"],
                  f"attendees {meeting.get('attendees')}")
    checks.expect(not meeting.get("rrule"), f"a single meeting (rrule {meeting.get('rrule')!r})")


def body(args):
    node, script = require_web_tools(args.source_dir)
    os.makedirs(args.output_dir, exist_ok=True)
    chorusd = h.Chorusd(args.chorusd, args.output_dir).start()
    token_path = os.path.join(chorusd.data_dir, "admin-token")
    h.poll_until(lambda: os.path.exists(token_path), 5.0, f"{token_path} to be written")
    with open(token_path) as f:
        token = f.read().strip()
    h.poll_until(lambda: h.can_connect(chorusd.http_port), 10.0, "the HTTP port to accept connections")

    title = f"Web <b>check</b> — ü {secrets.token_hex(3)}"
    times = planned_times()
    checks = h.Checks()
    code, result, screenshot = run_browser(node, script, args, chorusd, title, times)
    check_page(checks, code, result, title)
    check_api(checks, chorusd, token, title, times)
    with open(screenshot, "rb") if os.path.exists(screenshot) else open(os.devnull, "rb") as f:
        head = f.read(8)
    checks.expect(head == kPngMagic and os.path.getsize(screenshot) > 10_000,
                  f"screenshot saved: {screenshot}")
    checks.expect(chorusd.alive(), "chorusd still running")
    checks.expect(chorusd.stop() == 0, "chorusd exits 0 on SIGTERM")
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run("test_web_page", body, __doc__.splitlines()[0]))
