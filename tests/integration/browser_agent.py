"""Browsers for the test_browser_*.py tests: each participant is its own headless Chromium process
(tests/web/participant.mjs, playwright-core driving the Debian `chromium`), with a fake camera of a
solid colour and a fake microphone of a pure tone made at test time, driven by JSON lines.

`require_browser_tools()` skips (77) without node ≥ 20, /usr/bin/chromium, tests/web/node_modules,
web/node_modules/jssip (the page's JsSIP), gst-launch-1.0 or sox. `make_camera()` / `make_tone()`
write the media files; `Browser` starts one participant and answers its commands; `wait_for()` polls
one with a bound.
"""

import json
import os
import queue
import shutil
import subprocess
import threading

import chorus_harness as h

CHROMIUM = "/usr/bin/chromium"
COMMAND_TIMEOUT_S = 45.0
LAUNCH_TIMEOUT_S = 130.0  # participant.mjs gives Chromium's start 120 s (a busy machine starts it slowly)


def require_browser_tools(source_dir):
    """(node, participant.mjs) or Skip naming what is missing."""
    node = h.require_binary("node", "nodejs")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < 20:
        raise h.Skip(f"node {version} is older than the 20 that playwright-core needs")
    if not os.access(CHROMIUM, os.X_OK):
        raise h.Skip(f"{CHROMIUM} is not installed (Debian package chromium); scripts/install-deps.sh installs it")
    h.require_binary("gst-launch-1.0", "gstreamer1.0-tools")
    h.require_binary("sox", "sox")
    source_dir = os.path.abspath(source_dir)
    modules = os.path.join(source_dir, "tests", "web", "node_modules", "playwright-core")
    if not os.path.isdir(modules):
        raise h.Skip(f"{modules} is absent; run `npm ci --prefix tests/web` (scripts/install-deps.sh does)")
    jssip = os.path.join(source_dir, "web", "node_modules", "jssip", "dist", "jssip.min.js")
    if not os.path.isfile(jssip):
        raise h.Skip(f"{jssip} is absent; run `npm ci --prefix web` (scripts/install-deps.sh does)")
    return node, os.path.join(source_dir, "tests", "web", "participant.mjs")


def make_camera(path, argb, width=640, height=360):
    """A .y4m of one solid colour (0xAARRGGBB), 1 s at 30 fps; Chromium loops it."""
    gst = shutil.which("gst-launch-1.0")
    command = [gst, "-q", "videotestsrc", "pattern=solid-color", f"foreground-color=0x{argb:08x}", "num-buffers=30", "!",
               f"video/x-raw,format=I420,width={width},height={height},framerate=30/1", "!", "y4menc", "!",
               "filesink", f"location={path}"]
    done = subprocess.run(command, capture_output=True, timeout=60)
    if done.returncode != 0 or not os.path.getsize(path):
        raise h.Failure(f"gst-launch could not make {path}: {done.stderr.decode(errors='replace')[-500:]}")
    return path


def make_tone(path, hz, seconds=20):
    """A 48 kHz 16-bit mono WAV of a pure tone; Chromium loops it as the microphone."""
    done = subprocess.run([shutil.which("sox"), "-n", "-r", "48000", "-b", "16", "-c", "1", path, "synth",
                           str(seconds), "sine", str(hz), "vol", "0.5"], capture_output=True, timeout=60)
    if done.returncode != 0:
        raise h.Failure(f"sox could not make {path}: {done.stderr.decode(errors='replace')}")
    return path


class Browser:
    """One participant.mjs (and its Chromium), stopped by PID at exit like every spawned process."""

    def __init__(self, node, script, name, outdir, camera=None, microphone=None):
        self.name = name
        self.outdir = outdir
        command = [node, script, "--name", name, "--chromium", CHROMIUM, "--timeout-ms", "30000"]
        if camera:
            command += ["--camera", camera]
        if microphone:
            command += ["--microphone", microphone]
        env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        self.stderr = open(os.path.join(outdir, f"browser-{name}.stderr"), "wb")
        self.proc = h.track(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=self.stderr, env=env, cwd=outdir, start_new_session=True))
        self.lines = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        ready = self._next_line(LAUNCH_TIMEOUT_S)
        if not ready or not ready.get("ready"):
            raise h.Failure(f"browser {name} did not start: {ready}")

    def _read(self):
        for raw in self.proc.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                self.lines.put({"error": f"not JSON: {raw[:200]!r}"})
        self.lines.put(None)

    def _next_line(self, timeout_s):
        try:
            return self.lines.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def request(self, cmd, timeout_s=COMMAND_TIMEOUT_S, **params):
        """The command's result; Failure on an error answer, a timeout or a dead browser."""
        self.next_id += 1
        ident = self.next_id
        try:
            self.proc.stdin.write((json.dumps(dict(params, id=ident, cmd=cmd)) + "\n").encode())
            self.proc.stdin.flush()
        except OSError as e:
            raise h.Failure(f"browser {self.name} is gone ({e})") from None
        deadline = h.Deadline(timeout_s)
        while not deadline.expired():
            answer = self._next_line(deadline.remaining())
            if answer is None:
                break
            if answer.get("id") != ident:
                continue
            if "error" in answer:
                raise h.Failure(f"browser {self.name}: {cmd} failed: {answer['error']}")
            return answer.get("result")
        raise h.Failure(f"browser {self.name}: no answer to {cmd} within {timeout_s:.0f} s")

    def screenshot(self, label):
        path = os.path.join(self.outdir, f"{self.name}-{label}.png")
        try:
            self.request("screenshot", path=path)
            print(f"  screenshot: {path}", flush=True)
        except h.Failure as e:
            print(f"  (no screenshot of {self.name}: {e})", flush=True)
        return path

    def close(self):
        if self.proc.poll() is None:
            try:
                self.request("close", timeout_s=15)
            except h.Failure:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                h.stop_process(self.proc)
        self.stderr.close()


def wait_for(browser, what, probe, timeout_s, interval_s=0.2):
    """Poll `probe(browser)` (which may call browser.request) until truthy; Failure after timeout_s."""
    return h.poll_until(lambda: probe(browser), timeout_s, f"{browser.name}: {what}", interval_s)


def inbound(stats, kind):
    return [s for s in (stats or {}).get("inbound", []) if s.get("kind") == kind]


def audio_packets(stats):
    return sum(s.get("packets") or 0 for s in inbound(stats, "audio"))


def sdp_sections(sdp):
    """[(kind, port, direction, mid)] per m-line of an SDP (RFC 8866 §5.14; direction RFC 3264 §6.1)."""
    sections = []
    for block in ("\n" + (sdp or "")).split("\nm=")[1:]:
        lines = block.replace("\r", "").split("\n")
        kind, port = lines[0].split()[0], int(lines[0].split()[1])
        direction = next((line[2:] for line in lines if line in
                          ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive")), "sendrecv")
        mid = next((line[6:] for line in lines if line.startswith("a=mid:")), None)
        sections.append((kind, port, direction, mid))
    return sections


def slot_directions(stats):
    """What the answer says for each of the page's recvonly video slots: the server's side is
    `sendonly` when it will send there; `inactive`, `recvonly` or a rejected line (port 0) when not."""
    offer = sdp_sections((stats or {}).get("local_sdp"))
    answer = sdp_sections((stats or {}).get("remote_sdp"))
    out = []
    for index, (kind, _, direction, _) in enumerate(offer):
        if kind == "video" and direction == "recvonly":
            out.append("rejected" if index >= len(answer) or answer[index][1] == 0 else answer[index][2])
    return out


def close_hue(rgb, expected, tolerance=60):
    """True when rgb is within `tolerance` of expected on every channel (VP8/H.264 shift colours a little)."""
    return rgb is not None and all(abs(a - b) <= tolerance for a, b in zip(rgb, expected))


def close_browsers(browsers, checks):
    """Ends each page's call as a person would (Leave: a BYE, not a vanished page), checks it logged no
    page or console error, closes it and says where its log is."""
    for browser in browsers:
        browser.screenshot("end")
        try:
            if browser.request("state")["in_call"]:
                browser.request("click", button="leave")
                wait_for(browser, "the call ended", lambda x: not x.request("state")["in_call"], 10.0)
            seen = browser.request("diagnostics")
            errors = seen["page_errors"] + [e for e in seen["console_errors"] if "favicon" not in e]
            checks.expect(not errors, f"{browser.name}: no page or console errors ({errors[:5]})")
        except h.Failure as e:
            checks.expect(False, str(e))
        browser.close()
        print(f"  {browser.name}'s browser log: {os.path.join(browser.outdir, f'browser-{browser.name}.stderr')}",
              flush=True)
