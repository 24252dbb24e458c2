// The page against the slot-map and PIN contract (web/README.md "Joining a room"), in headless
// Chromium, with the test script playing the SIP side of the page's WebSocket.
//
//   node tests/web/slot_map_contract.mjs --url http://127.0.0.1:PORT/ --ws-url ws://127.0.0.1:WSPORT/ \
//        --camera red.y4m --microphone tone.wav --out DIR [--chromium /usr/bin/chromium]
//
// chorusd serves the page, its /client-config.json and its Content-Security-Policy (all real); the
// page's WebSocket to --ws-url is taken over with Playwright's routeWebSocket, so no frame reaches
// chorusd, and this script answers as a server that keeps the contract would: the INVITE gets a
// 200 whose SDP accepts the audio and the recvonly video slots (sendonly, with the offer's mids) and
// rejects the camera; then in-dialog INFO (RFC 6086, Info-Package chorus-video-slots) carries slot
// maps, and the page's PIN comes back as INFO application/dtmf-relay digits. No media flows (the
// answer's ICE candidate leads nowhere), so the slot tiles are the "no video" placeholders, which
// is what the contract says for a slot without RTP. It checks what the page shows at each step:
//   1. pin_required → the PIN dialog opens by itself; 1111 arrives as 1,1,1,1,# digits; a map that
//      still wants a PIN → "That PIN was not accepted"; 4321 → admitted: the dialog closes;
//   2. a slot names Bo (participant 12): that tile is labelled Bo; the others are "Empty";
//   3. version 5 then version 4 (INFOs crossing): version 5 wins and 4 changes nothing;
//   4. a second call: three wrong PINs and the server's BYE → the page says the PIN was refused.
// Prints one JSON object {steps, checks: [{ok, what}], invite, error?}; exit 0 when every check held.
import { parseArgs } from "node:util";

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = "1";
const { chromium } = await import("playwright-core");

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" }, "ws-url": { type: "string" }, camera: { type: "string" }, microphone: { type: "string" },
    out: { type: "string", default: "." }, chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
const kTimeoutMs = 20000;
const result = { steps: [], checks: [], invite: null };
const check = (ok, what) => result.checks.push({ ok: Boolean(ok), what });

// ---- The SIP side (RFC 3261 over RFC 7118 WebSocket), just what the contract needs ----

function parseSip(text) {
  const [head, ...rest] = text.split("\r\n\r\n");
  const lines = head.split("\r\n");
  const headers = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const get = (name) => (headers.find(([n]) => n === name) || [])[1];
  return { start: lines[0], headers, get, all: (name) => headers.filter(([n]) => n === name).map(([, v]) => v), body: rest.join("\r\n\r\n") };
}

function answerSdp(offer) {
  const sections = offer.split(/\r\nm=/).slice(1).map((block) => `m=${block}`);
  const accepted = [];
  const media = sections.map((block) => {
    const lines = block.split("\r\n").filter(Boolean);
    const [kind, , , ...pts] = lines[0].slice(2).split(" ");
    const mid = (lines.find((l) => l.startsWith("a=mid:")) || "").slice(6);
    const direction = ["a=sendrecv", "a=sendonly", "a=recvonly"].find((d) => lines.includes(d));
    const pt = pts[0];
    const rtpmap = lines.find((l) => l.startsWith(`a=rtpmap:${pt} `));
    if (kind === "video" && direction === "a=sendonly") {
      return `m=video 0 UDP/TLS/RTP/SAVPF ${pt}\r\nc=IN IP4 0.0.0.0\r\na=mid:${mid}\r\na=inactive\r\n${rtpmap}\r\n`;
    }
    accepted.push(mid);
    return `m=${kind} 9 UDP/TLS/RTP/SAVPF ${pt}\r\nc=IN IP4 127.0.0.1\r\na=mid:${mid}\r\n` +
      "a=ice-ufrag:cntr\r\na=ice-pwd:contractcontractcontract12\r\n" +
      "a=fingerprint:sha-256 " + Array(32).fill("AB").join(":") + "\r\na=setup:passive\r\na=rtcp-mux\r\n" +
      `a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n${direction === "a=recvonly" ? "a=sendonly" : "a=sendrecv"}\r\n${rtpmap}\r\n`;
  });
  return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n" +
    `a=group:BUNDLE ${accepted.join(" ")}\r\n${media.join("")}`;
}

class ContractServer {
  constructor() {
    this.socket = null;
    this.dialog = null;
    this.cseq = 100;
    this.digits = "";
    this.received = [];
    this.slotMids = [];
  }

  attach(socket) {
    this.socket = socket;
    socket.onMessage((message) => this.onMessage(String(message)));
  }

  respond(request, status, reason, extra = [], body = "") {
    const lines = [`SIP/2.0 ${status} ${reason}`, ...request.all("via").map((v) => `Via: ${v}`),
      `From: ${request.get("from")}`, `To: ${request.get("to")}${status > 100 && !/;tag=/.test(request.get("to")) ? ";tag=contract" : ""}`,
      `Call-ID: ${request.get("call-id")}`, `CSeq: ${request.get("cseq")}`, ...extra, `Content-Length: ${Buffer.byteLength(body)}`, "", body];
    this.socket.send(lines.join("\r\n"));
  }

  onMessage(text) {
    const msg = parseSip(text);
    const method = msg.start.split(" ")[0];
    this.received.push(msg.start);
    if (method === "INVITE") {
      result.invite = result.invite || text.slice(0, 3000);
      this.dialog = { callId: msg.get("call-id"), local: `${msg.get("to")};tag=contract`, remote: msg.get("from"),
        target: /<([^>]+)>/.exec(msg.get("contact"))[1] };
      const offer = msg.body;
      this.slotMids = offer.split(/\r\nm=/).slice(1).filter((b) => b.includes("a=recvonly") && b.startsWith("video"))
        .map((b) => /a=mid:(\S+)/.exec(b)[1]);
      this.respond(msg, 100, "Trying");
      this.respond(msg, 200, "OK", ["Contact: <sip:contract@127.0.0.1;transport=ws>", "Content-Type: application/sdp"], answerSdp(offer));
    } else if (method === "INFO") {
      const signal = /Signal=(.)/.exec(msg.body);
      if (signal) this.digits += signal[1];
      this.respond(msg, 200, "OK");
    } else if (method === "BYE") {
      this.respond(msg, 200, "OK");
    } else if (method !== "ACK" && !msg.start.startsWith("SIP/")) {
      this.respond(msg, 200, "OK");
    }
  }

  request(method, extra, body = "") {
    const d = this.dialog;
    const lines = [`${method} ${d.target} SIP/2.0`, `Via: SIP/2.0/WS contract.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}`,
      "Max-Forwards: 70", `From: ${d.local}`, `To: ${d.remote}`, `Call-ID: ${d.callId}`, `CSeq: ${this.cseq++} ${method}`,
      ...extra, `Content-Length: ${Buffer.byteLength(body)}`, "", body];
    this.socket.send(lines.join("\r\n"));
  }

  slotMap(version, admission, occupants) {
    const slots = this.slotMids.map((mid, index) => ({
      mid, participant_id: occupants[index] ? occupants[index][0] : null, display_name: occupants[index] ? occupants[index][1] : null,
    }));
    this.request("INFO", ["Info-Package: chorus-video-slots", "Content-Type: application/vnd.chorus.video-slots+json"],
      JSON.stringify({ version, admission, slots }));
  }

  async waitDigits(count) {
    const end = Date.now() + kTimeoutMs;
    while (this.digits.length < count && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return this.digits;
  }
}

// ---- The page ----

const tiles = (page) => page.evaluate(() => [...document.querySelectorAll("#tiles .tile.slot")].map((t) => ({
  label: t.querySelector(".tile-label").textContent, dark: t.classList.contains("dark"), hidden: t.hidden,
  placeholder: t.querySelector(".placeholder span").textContent, participant_id: t.dataset.participantId || null,
})));

async function joinCall(page, server, name) {
  await page.goto(`${opts.url}?room=1000&name=${name}`, { waitUntil: "load" });
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await page.waitForFunction(() => document.getElementById("call").dataset.phase === "up", null, { timeout: kTimeoutMs });
  await page.waitForTimeout(300);  // JsSIP's ACK goes out after 'confirmed'
  return server;
}

async function pinScenario(page, server) {
  server.slotMap(1, "pin_required", []);
  await page.locator("#pin-dialog[open]").waitFor({ timeout: kTimeoutMs });
  check(await page.evaluate(() => document.activeElement && document.activeElement.id === "pin"), "the PIN dialog opened by itself with focus in its field");
  await page.locator("#pin").fill("1111");
  await page.locator("#pin-submit").click();
  check((await server.waitDigits(5)) === "1111#", `the PIN arrived as INFO digits 1111# (${server.digits})`);
  server.slotMap(2, "pin_required", []);
  await page.locator("#pin-error").filter({ hasText: "not accepted" }).waitFor({ timeout: kTimeoutMs });
  check(true, "a slot map that still wants a PIN says the PIN was not accepted");
  await page.locator("#pin").fill("4321");
  await page.locator("#pin-submit").click();
  check((await server.waitDigits(10)) === "1111#4321#", `the second PIN arrived as 4321# (${server.digits})`);
  server.slotMap(3, "admitted", [[12, "Bo"]]);
  await page.locator("#pin-dialog:not([open])").waitFor({ state: "attached", timeout: kTimeoutMs });
  await page.waitForFunction(() => !document.getElementById("pin-dialog").open, null, { timeout: kTimeoutMs });
  check(true, "admitted: the PIN dialog closed");
  result.steps.push("pin");
}

async function slotScenario(page, server) {
  await page.waitForFunction(() => document.querySelector("#tiles .tile.slot .tile-label")?.textContent === "Bo", null, { timeout: kTimeoutMs });
  let shown = await tiles(page);
  result.tiles_v3 = shown;
  check(shown.length === 4 && shown.every((t) => !t.hidden), `four slot tiles are shown (${shown.length})`);
  check(shown[0].label === "Bo" && shown[0].participant_id === "12" && shown[0].dark && shown[0].placeholder === "Bo: no video",
    `slot 0 is Bo (participant 12), dark while no video arrives: ${JSON.stringify(shown[0])}`);
  check(shown.slice(1).every((t) => t.dark && t.label === "" && t.placeholder === "Empty"), "the other slots are empty and dark");
  await page.screenshot({ path: `${opts.out}/contract-slots.png`, fullPage: true });
  server.slotMap(5, "admitted", [null, [13, "Cy <b>&amp;</b>"]]);
  server.slotMap(4, "admitted", [[12, "Bo"], [14, "Old"]]);
  await page.waitForFunction(() => document.querySelectorAll("#tiles .tile.slot .tile-label")[1]?.textContent.startsWith("Cy"), null, { timeout: kTimeoutMs });
  await page.waitForTimeout(500);  // version 4 has arrived by now too
  shown = await tiles(page);
  result.tiles_v5 = shown;
  check(shown[0].label === "" && shown[0].placeholder === "Empty", `version 5 emptied slot 0 and the older version 4 did not refill it: ${JSON.stringify(shown[0])}`);
  check(shown[1].label === "Cy <b>&amp;</b>" && shown[1].participant_id === "13", `slot 1 is Cy, her name shown as text: ${JSON.stringify(shown[1])}`);
  check(await page.evaluate(() => document.querySelectorAll("#tiles b").length === 0), "no markup from a display name reached the page");
  result.steps.push("slots");
}

async function wrongPinScenario(page, server) {
  server.slotMap(1, "pin_required", []);
  for (const [index, pin] of ["1111", "2222", "3333"].entries()) {
    await page.locator("#pin-dialog[open]").waitFor({ timeout: kTimeoutMs });
    await page.waitForFunction(() => !document.getElementById("pin").disabled, null, { timeout: kTimeoutMs });
    await page.locator("#pin").fill(pin);
    await page.locator("#pin-submit").click();
    await server.waitDigits(5 * (index + 1));
    if (index < 2) server.slotMap(2 + index, "pin_required", []);
  }
  server.request("BYE", []);  // the third wrong PIN: the server hangs up
  await page.waitForFunction(() => document.getElementById("call").dataset.phase === "ended", null, { timeout: kTimeoutMs });
  const message = await page.locator("#join-message").textContent();
  result.wrong_pin_message = message;
  check(/PIN was not accepted \(three wrong tries\)/.test(message), `after three wrong PINs and the BYE the page says: ${message}`);
  check(await page.evaluate(() => document.activeElement && document.activeElement.id === "join-message"), "the message takes focus");
  await page.screenshot({ path: `${opts.out}/contract-wrong-pin.png`, fullPage: true });
  result.steps.push("wrong pin");
}

const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"];
if (opts.camera) args.push(`--use-file-for-fake-video-capture=${opts.camera}`);
if (opts.microphone) args.push(`--use-file-for-fake-audio-capture=${opts.microphone}`);
// Chromium's start gets its own bound: slow on a busy machine, and not what the test measures.
const browser = await chromium.launch({ executablePath: opts.chromium, headless: true, args, timeout: 120000 });
let code = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  for (const [name, scenarios] of [["Ann", [pinScenario, slotScenario]], ["Dee", [wrongPinScenario]]]) {
    const page = await context.newPage();
    page.setDefaultTimeout(kTimeoutMs);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const server = new ContractServer();
    await page.routeWebSocket(opts["ws-url"], (socket) => server.attach(socket));
    await joinCall(page, server, name);
    const invite = result.invite || "";
    if (name === "Ann") {
      check(invite.startsWith("INVITE sip:1000@"), `the INVITE is for room 1000: ${invite.split("\r\n")[0]}`);
      check(/\r\nRecv-Info: chorus-video-slots\r\n/.test(invite), "the INVITE says Recv-Info: chorus-video-slots");
      check(/\r\nFrom: "Ann" <sip:web-[0-9a-f]{16}@/.test(invite), "From is the typed name and a random web- user");
    }
    for (const scenario of scenarios) await scenario(page, server);
    check(errors.length === 0, `${name}: no page errors (${errors.join("; ")})`);
    await page.close();
  }
} catch (error) {
  result.error = String(error && error.message ? error.message : error).split("\n")[0];
} finally {
  await browser.close();
}
if (result.error || result.checks.some((c) => !c.ok)) code = 1;
console.log(JSON.stringify(result));
process.exit(code);
