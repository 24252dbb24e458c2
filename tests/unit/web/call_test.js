// Unit tests for web/call.js, the pure side of joining a room: `node --test tests/unit/web/`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const call = require(path.join(__dirname, "..", "..", "..", "web", "call.js"));

// ---- URL and form ----

test("room, name and slots come from the page's URL", () => {
  assert.deepEqual(call.parseJoinParams("?room=1000&name=Ann"), { room: "1000", name: "Ann", slots: 4, notes: [] });
  assert.deepEqual(call.parseJoinParams("?room=r_Ab3-x&name=Ann%20Lee&slots=9"),
    { room: "r_Ab3-x", name: "Ann Lee", slots: 9, notes: [] });
  assert.deepEqual(call.parseJoinParams(""), { room: "", name: "", slots: 4, notes: [] });
  assert.equal(call.parseJoinParams("?slots=0").slots, 0);
  assert.equal(call.parseJoinParams("?slots=").slots, 4);
});

test("slots out of range are clamped and said; nonsense falls back to 4", () => {
  const many = call.parseJoinParams("?slots=12");
  assert.equal(many.slots, 9);
  assert.match(many.notes[0], /out of range 0–9; showing 9/);
  assert.equal(call.parseJoinParams("?slots=-3").slots, 0);
  const nonsense = call.parseJoinParams("?slots=four");
  assert.equal(nonsense.slots, 4);
  assert.match(nonsense.notes[0], /not a whole number/);
  assert.equal(call.parseJoinParams("?slots=2.5").slots, 4);
});

test("a display name loses control characters and is cut at 64 characters, not inside one", () => {
  assert.equal(call.cleanName("  Ann \r\nLee\t "), "Ann Lee");
  assert.equal(call.cleanName("x\u0000y"), "x y");
  const long = "😀".repeat(70);
  assert.equal([...call.cleanName(long)].length, 64);
  assert.equal(call.cleanName(long), "😀".repeat(64));
  assert.equal(call.cleanName(undefined), "");
});

test("the join form needs a valid room and a name", () => {
  assert.deepEqual(call.checkJoinForm({ room: " 1000 ", name: " Ann " }), { room: "1000", name: "Ann" });
  assert.deepEqual(call.checkJoinForm({ room: "", name: "" }).errors.map((e) => e.field), ["join-room", "join-name"]);
  for (const room of ["10 00", "sip:1000@x", "1000@host", "a/b", "x".repeat(65), "<b>"]) {
    const checked = call.checkJoinForm({ room, name: "Ann" });
    assert.equal(checked.errors.length, 1, room);
    assert.equal(checked.errors[0].field, "join-room");
  }
  assert.ok(call.isValidRoom("x".repeat(64)));
  assert.equal(call.checkJoinForm({ room: "1000", name: " \t " }).errors[0].field, "join-name");
});

// ---- Where to connect ----

test("ws for an http page, wss for an https page", () => {
  const config = { sip_domain: "conf.example.org", ws_url: "ws://conf.example.org:5066", wss_url: "wss://conf.example.org:7443" };
  assert.deepEqual(call.chooseSocket(config, "http:"), { url: "ws://conf.example.org:5066", domain: "conf.example.org" });
  assert.deepEqual(call.chooseSocket(config, "https:"), { url: "wss://conf.example.org:7443", domain: "conf.example.org" });
});

test("a transport the server does not serve is an error that says what to do", () => {
  const noTls = { sip_domain: "127.0.0.1", ws_url: "ws://127.0.0.1:5066", wss_url: null };
  assert.match(call.chooseSocket(noTls, "https:").error, /no secure WebSocket.*open the page over http/);
  assert.match(call.chooseSocket({ sip_domain: "h", ws_url: null, wss_url: null }, "http:").error, /does not serve SIP over WebSocket/);
  assert.match(call.chooseSocket({ sip_domain: null, ws_url: "ws://h:1" }, "http:").error, /no SIP domain/);
  assert.match(call.chooseSocket(null, "http:").error, /no SIP domain/);
  // A plain page never gets a secure URL in place of ws (or the reverse).
  assert.match(call.chooseSocket({ sip_domain: "h", ws_url: "wss://h:1" }, "http:").error, /Unexpected/);
  // The server names an IPv6 literal, which the page's CSP cannot allow: said up front.
  assert.match(call.chooseSocket({ sip_domain: "[::1]", ws_url: "ws://[::1]:5066" }, "http:").error, /IPv6/);
});

test("the room URI and the caller's random user part", () => {
  assert.equal(call.roomUri("1000", "conf.example.org"), "sip:1000@conf.example.org");
  assert.equal(call.roomUri("9196", "[::1]"), "sip:9196@[::1]");
  assert.equal(call.randomUser(Uint8Array.from([0, 1, 0xab, 0xff, 16, 32, 64, 128, 9])), "web-0001abff10204080");
});

// ---- The offer ----

test("the offer plan: microphone, camera with three simulcast layers, then the slots", () => {
  const plan = call.transceiverPlan(4);
  assert.deepEqual(plan.map((t) => [t.kind, t.direction, t.role]), [
    ["audio", "sendrecv", "microphone"],
    ["video", "sendonly", "camera"],
    ["video", "recvonly", "slot"], ["video", "recvonly", "slot"], ["video", "recvonly", "slot"], ["video", "recvonly", "slot"],
  ]);
  assert.deepEqual(plan[1].sendEncodings.map((e) => e.rid), ["q", "h", "f"]);
  assert.deepEqual(plan[1].sendEncodings.map((e) => e.scaleResolutionDownBy || 1), [4, 2, 1]);
  const rates = plan[1].sendEncodings.map((e) => e.maxBitrate);
  assert.deepEqual(rates, [...rates].sort((a, b) => a - b));
  assert.deepEqual(plan.slice(2).map((t) => t.slot), [0, 1, 2, 3]);
  // Each plan has its own copies: the page may not change the shared layers by accident.
  plan[1].sendEncodings[0].maxBitrate = 1;
  assert.equal(call.kSimulcastEncodings[0].maxBitrate, 150000);
});

test("without a camera there is no send video line; zero slots is audio only", () => {
  assert.deepEqual(call.transceiverPlan(2, { camera: false }).map((t) => t.role), ["microphone", "slot", "slot"]);
  assert.deepEqual(call.transceiverPlan(0).map((t) => t.role), ["microphone", "camera"]);
  assert.equal(call.transceiverPlan(9).filter((t) => t.role === "slot").length, 9);
});

// ---- Slot maps ----

const kSlotType = "application/vnd.chorus.video-slots+json";

function slotInfo(body, type = kSlotType, infoPackage = "chorus-video-slots") {
  return call.parseSlotInfo(type, infoPackage, typeof body === "string" ? body : JSON.stringify(body));
}

test("a slot map INFO is parsed into mids, participants and names", () => {
  const parsed = slotInfo({
    version: 7, admission: "admitted",
    slots: [
      { mid: "2", participant_id: 12, display_name: "Ann" },
      { mid: "3", participant_id: null, display_name: null },
      { mid: "4", participant_id: 0, display_name: "Bo\r\nInjected: x" },
    ],
  });
  assert.deepEqual(parsed, {
    map: {
      version: 7, admission: "admitted",
      slots: [
        { mid: "2", participantId: 12, displayName: "Ann" },
        { mid: "3", participantId: null, displayName: null },
        { mid: "4", participantId: 0, displayName: "Bo Injected: x" },
      ],
    },
  });
  // Content type parameters and case do not matter; the package header may be absent.
  assert.ok(slotInfo({ version: 1, admission: "admitted", slots: [] }, "Application/VND.chorus.video-slots+json; charset=utf-8", "").map);
});

test("INFO of other packages is ignored, broken slot maps are errors", () => {
  assert.ok(slotInfo("Signal=1", "application/dtmf-relay").ignore);
  assert.ok(slotInfo({ version: 1, admission: "admitted", slots: [] }, kSlotType, "other-package").ignore);
  const bad = [
    "{", "[]", "null", JSON.stringify({ admission: "admitted", slots: [] }),
    JSON.stringify({ version: -1, admission: "admitted", slots: [] }),
    JSON.stringify({ version: 1.5, admission: "admitted", slots: [] }),
    JSON.stringify({ version: 1, admission: "maybe", slots: [] }),
    JSON.stringify({ version: 1, admission: "admitted" }),
    JSON.stringify({ version: 1, admission: "admitted", slots: [{ participant_id: 1 }] }),
    JSON.stringify({ version: 1, admission: "admitted", slots: [{ mid: "2", participant_id: "12" }] }),
    JSON.stringify({ version: 1, admission: "admitted", slots: [{ mid: "2", participant_id: -1 }] }),
    JSON.stringify({ version: 1, admission: "admitted", slots: [{ mid: "2", participant_id: 1, display_name: 5 }] }),
    JSON.stringify({ version: 1, admission: "admitted", slots: [{ mid: "2" }, { mid: "2" }] }),
    JSON.stringify({ version: 1, admission: "admitted", slots: new Array(65).fill(null).map((_, i) => ({ mid: String(i) })) }),
    " ".repeat(16 * 1024 + 1),
  ];
  for (const body of bad) assert.ok(slotInfo(body).error, body.slice(0, 80));
});

test("a later version replaces the slots; older and repeated ones change nothing", () => {
  const map = (version, slots, admission = "admitted") => slotInfo({ version, admission, slots }).map;
  let state = call.kInitialSlotState;
  state = call.reduceSlotMap(state, map(7, [{ mid: "2", participant_id: 12, display_name: "Ann" }, { mid: "3", participant_id: null }]));
  assert.equal(state.version, 7);
  assert.equal(state.slots.get("2").displayName, "Ann");

  const stale = call.reduceSlotMap(state, map(6, [{ mid: "2", participant_id: null }]));
  assert.equal(stale, state);
  assert.equal(call.reduceSlotMap(state, map(7, [])), state);

  // Version 9 arrives before 8 (INFOs can cross): 9 wins and 8 is then ignored.
  const nine = call.reduceSlotMap(state, map(9, [{ mid: "2", participant_id: null }, { mid: "3", participant_id: 13, display_name: "Bo" }]));
  const eight = call.reduceSlotMap(nine, map(8, [{ mid: "2", participant_id: 12, display_name: "Ann" }]));
  assert.equal(eight, nine);
  assert.deepEqual(call.slotTiles(eight, ["2", "3"]).map((t) => [t.occupied, t.label]), [[false, ""], [true, "Bo"]]);
  assert.equal(call.reduceSlotMap(state, undefined), state);
});

test("tiles follow the page's mids: unknown or unnamed mids are dark, names fall back to the id", () => {
  const state = call.reduceSlotMap(call.kInitialSlotState, slotInfo({
    version: 1, admission: "admitted",
    slots: [{ mid: "2", participant_id: 12, display_name: "" }, { mid: "3", participant_id: 14, display_name: "Cy" }],
  }).map);
  assert.deepEqual(call.slotTiles(state, ["2", "3", "4", null]), [
    { mid: "2", occupied: true, label: "Participant 12", participantId: 12 },
    { mid: "3", occupied: true, label: "Cy", participantId: 14 },
    { mid: "4", occupied: false, label: "", participantId: null },
    { mid: null, occupied: false, label: "", participantId: null },
  ]);
  assert.deepEqual(call.slotTiles(call.kInitialSlotState, ["2"]).map((t) => t.occupied), [false]);
});

// ---- PIN ----

test("a PIN becomes DTMF digits ending in #", () => {
  assert.deepEqual(call.pinToDtmf("1234"), { dtmf: "1234#" });
  assert.deepEqual(call.pinToDtmf(" 12 34 "), { dtmf: "1234#" });
  assert.match(call.pinToDtmf("").error, /Enter the PIN/);
  assert.match(call.pinToDtmf("12a4").error, /digits only/);
  assert.match(call.pinToDtmf("1234#").error, /digits only/);
  assert.match(call.pinToDtmf("1".repeat(13)).error, /at most 12/);
  assert.equal(call.admissionText("pin_required"), "This room needs a PIN.");
  assert.match(call.admissionText("waiting_for_moderator"), /moderator/);
});

// ---- Refusals ----

test("Warning headers are read per RFC 3261 §20.43", () => {
  assert.deepEqual(call.parseWarnings('399 chorus "This meeting has not started"'),
    [{ code: 399, agent: "chorus", text: "This meeting has not started" }]);
  assert.deepEqual(call.parseWarnings('307 isi.edu "Session parameter \\"foo\\" not understood", 399 127.0.0.1:5060 "x"'), [
    { code: 307, agent: "isi.edu", text: 'Session parameter "foo" not understood' },
    { code: 399, agent: "127.0.0.1:5060", text: "x" },
  ]);
  assert.deepEqual(call.parseWarnings("garbage"), []);
  assert.deepEqual(call.parseWarnings(undefined), []);
});

test("each refusal gets a clear message from its status and the server's Warning", () => {
  assert.equal(call.refusalMessage(404, "Not Found"), "There is no such room.");
  assert.equal(call.refusalMessage(403, "Forbidden"), "The room is locked.");
  assert.equal(call.refusalMessage(486, "Busy Here"), "The room is full.");
  assert.equal(call.refusalMessage(480, "Temporarily Unavailable", '399 chorus "This meeting has not started"'),
    "The room cannot take calls now. This meeting has not started.");
  assert.match(call.refusalMessage(488, "Not Acceptable Here"), /could not accept this browser's audio and video/);
  assert.equal(call.refusalMessage(503, "Service Unavailable"), "The server could not take the call (503 Service Unavailable).");
  assert.equal(call.refusalMessage(420, "Bad Extension"), "The call was refused (420 Bad Extension).");
  assert.equal(call.refusalMessage(486, "Busy", '399 chorus "Room is at its 10 people limit!"'), "The room is full. Room is at its 10 people limit!");
});

test("endings: leaving, the PIN refused three times, a server BYE, transport loss", () => {
  assert.deepEqual(call.endedMessage({ originator: "local", cause: "Terminated" }), { message: "You left the room.", pinFailed: false });
  const pin = call.endedMessage({ originator: "remote", cause: "Terminated", admission: "pin_required", pinTries: 3 });
  assert.ok(pin.pinFailed);
  assert.match(pin.message, /PIN was not accepted/);
  // A BYE while the PIN was wanted but never tried is not a PIN failure.
  assert.equal(call.endedMessage({ originator: "remote", cause: "BYE", admission: "pin_required", pinTries: 0 }).pinFailed, false);
  // JsSIP names a BYE "Terminated" (JsSIP.C.causes.BYE).
  assert.equal(call.endedMessage({ originator: "remote", cause: "Terminated", admission: "admitted", pinTries: 1 }).message,
    "The server ended the call.");
  assert.equal(call.endedMessage({ originator: "remote", cause: "Terminated" }).message, "The server ended the call.");
  assert.equal(call.endedMessage({ originator: "remote", cause: "BYE", reason: 'SIP ;cause=200 ;text="Removed by a moderator"' }).message,
    "The server ended the call: Removed by a moderator.");
  assert.equal(call.endedMessage({ originator: "system", cause: "Connection Error" }).message, "Could not reach the server's SIP WebSocket.");
  assert.match(call.failureMessage("Something New"), /Something New/);
  assert.equal(call.reasonText("Q.850;cause=16"), "");
});
