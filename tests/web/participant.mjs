// One participant of a browser test: a headless Chromium (its own process, because the fake camera
// and microphone files are browser-wide flags) on the page Chorus serves at `/`, driven by JSON
// commands, one per line on stdin; one JSON answer per line on stdout.
//
//   node tests/web/participant.mjs --name Ann --camera red.y4m --microphone tone-440.wav \
//        [--chromium /usr/bin/chromium] [--timeout-ms 20000]
//
// Commands ({"id": N, "cmd": ..., ...}; the answer carries the same id, plus `error` on failure):
//   open {url}                 load the page; answers the join form's state (prefilled room/name,
//                              "joining is unavailable" text)
//   join {room?, name?, wait_ms?, muted?}  fill what is given, press Join, wait until the call is up
//                              or the page shows why not; answers state. muted: press "Mute
//                              microphone" as soon as the page has the microphone (before the
//                              INVITE), so the room never hears it until it is pressed again
//   state                      the page: in_call, call_state, join_message, tiles (slot, mid, dark,
//                              label, participant_id), pin dialog open/error, controls
//   stats                      getStats() of the call's RTCPeerConnection: inbound-rtp per mid
//                              (kind, framesDecoded, frameWidth/Height, bytes, packets), outbound-rtp
//                              per rid (bytes, packets, ssrc, frames), the transceivers (mid,
//                              direction, currentDirection)
//   pixels {points?}           the centre pixel (r, g, b) of every slot tile's video, drawn to a canvas;
//                              with points ([[fx, fy], ...], fractions of the video's width and
//                              height) also the mean colour of a 5x5 patch at each, as `points`
//   tone {ms?}                 the strongest frequency (Hz) of the remote audio, measured with a
//                              WebAudio AnalyserNode over `ms`
//   pin {pin}                  type the PIN into the PIN dialog and send it
//   keypad {tones}             press keypad keys (opens the keypad)
//   click {button}             press a call control by id (toggle-mic, toggle-camera, leave)
//   sip                        the SIP messages sent and received over the page's WebSocket
//   diagnostics                console errors, page errors, failed requests
//   screenshot {path}          full-page PNG
//   close                      close the browser and exit 0
//
// The only instrumentation is an init script that keeps each RTCPeerConnection the page makes in
// window.__chorusPeerConnections (a subclass, so JsSIP and the page see the native API). Console
// errors, page errors and failed requests are collected and reported by `state`.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = "1";
const { chromium } = await import("playwright-core");

const { values: opts } = parseArgs({
  options: {
    name: { type: "string", default: "browser" },
    camera: { type: "string" },
    microphone: { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    "timeout-ms": { type: "string", default: "20000" },
    "user-data-dir": { type: "string", default: "" },
  },
});
const timeoutMs = Number(opts["timeout-ms"]);

// The peers README's flags for a headless Chromium run as root without a GPU or a network, plus
// fake media devices fed from files and loopback ICE candidates (Chromium leaves loopback out of
// ICE unless told; every test address here is loopback).
const args = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];
if (opts.camera) args.push(`--use-file-for-fake-video-capture=${opts.camera}`);
if (opts.microphone) args.push(`--use-file-for-fake-audio-capture=${opts.microphone}`);

const diagnostics = { console_errors: [], page_errors: [], failed_requests: [], console: [] };
// SIP over the page's WebSocket (RFC 7118: one message per text frame), as sent and received.
const kMaxSipKept = 100;
const sip = { sent: [], received: [] };

function trackPeerConnections() {
  const Native = window.RTCPeerConnection;
  window.__chorusPeerConnections = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...rest) {
      super(...rest);
      window.__chorusPeerConnections.push(this);
    }
  };
}

// ---- What runs in the page ----

function pageState() {
  const $ = (id) => document.getElementById(id);
  const visible = (el) => Boolean(el) && !el.hidden && el.getClientRects().length > 0;
  const tiles = [...document.querySelectorAll("#tiles .tile.slot")].map((tile) => ({
    slot: Number(tile.dataset.slot),
    mid: tile.dataset.mid || null,
    dark: tile.classList.contains("dark"),
    hidden: tile.hidden,
    video_shown: visible(tile.querySelector("video")),
    label: tile.querySelector(".tile-label").textContent,
    participant_id: tile.dataset.participantId ? Number(tile.dataset.participantId) : null,
  }));
  return {
    in_call: !$("call").hidden,
    phase: $("call").dataset.phase || "",
    call_state: $("call-state").textContent,
    join_message: $("join-message").hidden ? "" : $("join-message").textContent,
    join_unavailable: $("join-unavailable").hidden ? "" : $("join-unavailable").textContent,
    join_room: $("join-room").value,
    join_name: $("join-name").value,
    self_dark: $("self-tile").classList.contains("dark"),
    mic_muted: $("toggle-mic").getAttribute("aria-pressed") === "true",
    camera_off: $("toggle-camera").getAttribute("aria-pressed") === "true",
    pin_dialog_open: $("pin-dialog").open,
    chat_log: [...document.querySelectorAll("#chat-log .chat-line")].map((line) => ({
      sender: line.querySelector(".chat-sender")?.textContent || null,
      text: line.querySelector(".chat-text").textContent,
      origin: line.dataset.origin,
    })),
    chat_error: $("chat-error") && !$("chat-error").hidden ? $("chat-error").textContent : "",
    pin_error: $("pin-error").hidden ? "" : $("pin-error").textContent,
    tiles,
  };
}

async function pageStats() {
  const pcs = window.__chorusPeerConnections || [];
  const pc = pcs[pcs.length - 1];
  if (!pc) return { error: "no RTCPeerConnection yet" };
  const report = await pc.getStats();
  const inbound = [];
  const outbound = [];
  let transport = null;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated) {
      transport = { bytes_received: s.bytesReceived, packets_received: s.packetsReceived ?? null, bytes_sent: s.bytesSent,
        available_outgoing_bps: s.availableOutgoingBitrate ?? null };
    }
    if (s.type === "inbound-rtp") {
      inbound.push({ kind: s.kind, mid: s.mid ?? null, ssrc: s.ssrc, packets: s.packetsReceived, bytes: s.bytesReceived,
        frames_decoded: s.framesDecoded ?? null, frame_width: s.frameWidth ?? null, frame_height: s.frameHeight ?? null,
        audio_level: s.audioLevel ?? null });
    } else if (s.type === "outbound-rtp") {
      outbound.push({ kind: s.kind, mid: s.mid ?? null, rid: s.rid ?? null, bytes: s.bytesSent, packets: s.packetsSent,
        frames_encoded: s.framesEncoded ?? null,
        frame_width: s.frameWidth ?? null, active: s.active ?? null, ssrc: s.ssrc,
        quality_limitation: s.qualityLimitationReason ?? null, target_bps: s.targetBitrate ?? null,
        key_frames: s.keyFramesEncoded ?? null, plis: s.pliCount ?? null, firs: s.firCount ?? null, nacks: s.nackCount ?? null });
    }
  });
  const transceivers = pc.getTransceivers().map((t) => ({
    mid: t.mid, kind: t.receiver.track.kind, direction: t.direction, current_direction: t.currentDirection,
  }));
  return {
    connection_state: pc.connectionState, ice_state: pc.iceConnectionState, transport, inbound, outbound, transceivers,
    local_sdp: pc.localDescription ? pc.localDescription.sdp : null,
    remote_sdp: pc.remoteDescription ? pc.remoteDescription.sdp : null,
  };
}

function pagePixels(points) {
  return [...document.querySelectorAll("#tiles .tile.slot")].map((tile) => {
    const video = tile.querySelector("video");
    const out = { slot: Number(tile.dataset.slot), mid: tile.dataset.mid || null, dark: tile.classList.contains("dark"),
      width: video.videoWidth, height: video.videoHeight, rgb: null, points: null };
    if (video.videoWidth > 0 && video.videoHeight > 0) {
      const canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0);
      const [r, g, b] = context.getImageData(Math.floor(canvas.width / 2), Math.floor(canvas.height / 2), 1, 1).data;
      out.rgb = [r, g, b];
      // A composite's tiles: the mean of 5x5 pixels around each point, clamped inside the picture.
      out.points = (points || []).map(([fx, fy]) => {
        const x = Math.min(canvas.width - 5, Math.max(0, Math.round(fx * canvas.width) - 2));
        const y = Math.min(canvas.height - 5, Math.max(0, Math.round(fy * canvas.height) - 2));
        const data = context.getImageData(x, y, 5, 5).data;
        const mean = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) mean[c] += data[i + c] / 25;
        return mean.map(Math.round);
      });
    }
    return out;
  });
}

async function pageTone(ms) {
  const stream = document.getElementById("remote-audio").srcObject;
  if (!stream || stream.getAudioTracks().length === 0) return { error: "no remote audio track" };
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  context.createMediaStreamSource(stream).connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount);
  const sums = new Float64Array(analyser.frequencyBinCount);
  const end = performance.now() + ms;
  let frames = 0;
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    analyser.getFloatFrequencyData(bins);
    for (let i = 0; i < bins.length; i++) sums[i] += Math.pow(10, bins[i] / 10);  // dB → power
    frames++;
  }
  const binHz = context.sampleRate / analyser.fftSize;
  let best = 0;
  for (let i = Math.ceil(100 / binHz); i < sums.length; i++) if (sums[i] > sums[best]) best = i;
  const total = sums.reduce((a, b) => a + b, 0);
  await context.close();
  return { peak_hz: best * binHz, peak_share: total > 0 ? sums[best] / total : 0, peak_db: 10 * Math.log10(sums[best] / frames + 1e-30), frames };
}

// ---- Commands ----

let page;

async function waitForCallOutcome(waitMs) {
  // Up: the page's call phase is "up" (the 200 OK was confirmed); not up: the form is back with
  // a message (the phase is then "ended").
  await page.waitForFunction(() => {
    const message = document.getElementById("join-message");
    const phase = document.getElementById("call").dataset.phase;
    return phase === "up" || (phase === "ended" && !message.hidden && message.textContent);
  }, null, { timeout: waitMs, polling: 100 });
}

const commands = {
  async open({ url }) {
    await page.goto(url, { waitUntil: "load" });
    // join.js reads /client-config.json at load: give it a moment to say "unavailable" if it will.
    await page.waitForLoadState("networkidle").catch(() => {});
    return page.evaluate(pageState);
  },
  async join({ room, name, wait_ms: waitMs, muted }) {
    if (room !== undefined) await page.getByLabel("Room", { exact: true }).first().fill(room);
    if (name !== undefined) await page.getByLabel("Your name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Join", exact: true }).click();
    if (muted) {
      // The page has the microphone once it leaves "starting" (camera and microphone opened).
      await page.waitForFunction(() => !["", "starting"].includes(document.getElementById("call").dataset.phase || ""),
        null, { timeout: waitMs || timeoutMs, polling: 20 });
      const phase = await page.evaluate(() => document.getElementById("call").dataset.phase);
      if (phase !== "ended") await page.locator("#toggle-mic").click();
    }
    await waitForCallOutcome(waitMs || timeoutMs);
    return page.evaluate(pageState);
  },
  state: () => page.evaluate(pageState),
  stats: () => page.evaluate(pageStats),
  pixels: ({ points }) => page.evaluate(pagePixels, points || []),
  tone: ({ ms }) => page.evaluate(pageTone, ms || 1500),
  async pin({ pin }) {
    await page.locator("#pin-dialog[open]").waitFor({ timeout: timeoutMs });
    await page.locator("#pin").fill(pin);
    await page.locator("#pin-submit").click();
    return page.evaluate(pageState);
  },
  async keypad({ tones }) {
    if (await page.locator("#keypad").isHidden()) await page.locator("#toggle-keypad").click();
    for (const tone of tones) {
      await page.locator(`#keypad button[data-tone="${tone}"]`).click();
      await page.waitForTimeout(250);  // one INFO at a time, as a person would type
    }
    return page.evaluate(pageState);
  },
  async chat({ text }) {
    await page.locator("#chat-text").fill(text);
    await page.locator("#chat-send").click();
    return page.evaluate(pageState);
  },
  async click({ button }) {
    await page.locator(`#${button}`).click();
    // A control whose action is asynchronous (the camera's replaceTrack) disables itself until it
    // is done; the state returned is the one after that action, not a snapshot taken mid-way.
    await page.waitForFunction((id) => !document.getElementById(id)?.disabled, button);
    return page.evaluate(pageState);
  },
  async screenshot({ path }) {
    await page.screenshot({ path, fullPage: true });
    return { path };
  },
  diagnostics: () => diagnostics,
  sip: () => sip,
};

// Starting Chromium takes seconds on an idle machine and much longer on a busy one (a CI runner
// compiling beside the tests): its launch gets a bound of its own, not the per-action one.
const kLaunchTimeoutMs = 120000;
const browser = await chromium.launch({ executablePath: opts.chromium, headless: true, args, timeout: kLaunchTimeoutMs });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  await context.addInitScript(trackPeerConnections);
  page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.on("console", (m) => {
    const text = `${m.type()}: ${m.text()}`;
    if (diagnostics.console.length < 200) diagnostics.console.push(text);
    if (m.type() === "error" && !/favicon\.ico/.test(m.location()?.url || "")) diagnostics.console_errors.push(m.text());
  });
  page.on("pageerror", (e) => diagnostics.page_errors.push(String(e)));
  page.on("websocket", (socket) => {
    const keep = (list) => (frame) => {
      if (typeof frame.payload === "string" && list.length < kMaxSipKept) list.push(frame.payload.slice(0, 4000));
    };
    socket.on("framesent", keep(sip.sent));
    socket.on("framereceived", keep(sip.received));
  });
  page.on("requestfailed", (r) => diagnostics.failed_requests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  process.stdout.write(`${JSON.stringify({ ready: true, name: opts.name, pid: process.pid })}\n`);

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ error: `not JSON: ${line.slice(0, 80)}` })}\n`);
      continue;
    }
    if (request.cmd === "close") {
      process.stdout.write(`${JSON.stringify({ id: request.id, closed: true })}\n`);
      break;
    }
    const handler = commands[request.cmd];
    let answer;
    try {
      answer = handler ? { id: request.id, result: await handler(request) } : { id: request.id, error: `unknown command ${request.cmd}` };
    } catch (error) {
      answer = { id: request.id, error: String(error && error.message ? error.message : error).split("\n")[0] };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
} finally {
  await browser.close();
}
process.exit(0);
