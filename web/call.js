// Chorus browser page: the pure side of joining a room (no DOM, no JsSIP, no WebRTC objects), so
// tests/unit/web/call_test.js runs it under Node. join.js wires these to the page, JsSIP and the
// RTCPeerConnection.
//
// The contract with chorusd (web/README.md "Joining a room"): an INVITE to sip:<room>@<sip_domain>
// with `Recv-Info: chorus-video-slots` (RFC 6086 §5.2.3) whose offer has one audio sendrecv, one
// video sendonly with three simulcast encodings (RFC 8853) and N video recvonly "slots"; the server
// then sends INFO `Info-Package: chorus-video-slots` with a JSON slot map, and refuses with a SIP
// final response (404, 403, 486, 480 + Warning, 488).
"use strict";

const ChorusCall = (() => {
  const kDefaultSlots = 4;
  const kMaxSlots = 9;
  const kMaxRoomLength = 64;  // a room id or numeric alias: [A-Za-z0-9_-]{1,64} (rest-api is_valid_id)
  const kMaxNameLength = 64;
  const kMaxPinDigits = 12;  // rest-api kMaxRoomPinDigits
  const kMaxSlotInfoBytes = 16 * 1024;
  const kMaxSlotNameLength = 128;
  const kSlotInfoPackage = "chorus-video-slots";
  const kSlotInfoType = "application/vnd.chorus.video-slots+json";
  const kAdmissions = ["admitted", "pin_required", "waiting_for_moderator"];

  // RFC 8853 simulcast, lowest first: the server picks a layer per receiver from its bandwidth.
  const kSimulcastEncodings = Object.freeze([
    Object.freeze({ rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150000 }),
    Object.freeze({ rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500000 }),
    Object.freeze({ rid: "f", maxBitrate: 1500000 }),
  ]);

  // ---- The page's URL ----

  function isValidRoom(room) {
    return typeof room === "string" && room.length >= 1 && room.length <= kMaxRoomLength && /^[A-Za-z0-9_-]+$/.test(room);
  }

  // A display name: trimmed, control characters out (they would end a SIP header line), at most
  // kMaxNameLength characters (code points, so a name is never cut inside one).
  function cleanName(text) {
    const clean = String(text || "").replace(/[\u0000-\u001f\u007f]/g, " ").replace(/\s+/g, " ").trim();
    return [...clean].slice(0, kMaxNameLength).join("");
  }

  // `?room=1000&name=Ann&slots=6` → { room, name, slots, notes }. Room and name are what the form
  // starts with (an invalid room is kept so the form can show it and say why); slots is 0..9
  // (default 4): a value out of range is clamped and said in notes.
  function parseJoinParams(search) {
    const params = new URLSearchParams(search || "");
    const notes = [];
    const room = (params.get("room") || "").trim();
    const name = cleanName(params.get("name"));
    let slots = kDefaultSlots;
    const rawSlots = params.get("slots");
    if (rawSlots !== null && rawSlots !== "") {
      const number = Number(rawSlots);
      if (!Number.isInteger(number)) {
        notes.push(`slots=${rawSlots} is not a whole number; showing ${kDefaultSlots} video tiles.`);
      } else if (number < 0 || number > kMaxSlots) {
        slots = Math.min(kMaxSlots, Math.max(0, number));
        notes.push(`slots=${number} is out of range 0–${kMaxSlots}; showing ${slots}.`);
      } else {
        slots = number;
      }
    }
    return { room, name, slots, notes };
  }

  // The form's values → { room, name } or { errors: [{field, message}] } (fields "join-room",
  // "join-name", the ids of the form's inputs).
  function checkJoinForm(values) {
    const errors = [];
    const room = String(values.room || "").trim();
    const name = cleanName(values.name);
    if (!room) errors.push({ field: "join-room", message: "Enter the room's number or id." });
    else if (!isValidRoom(room)) {
      errors.push({ field: "join-room", message: "A room is letters, digits, '-' or '_' (at most 64)." });
    }
    if (!name) errors.push({ field: "join-name", message: "Enter the name others will see." });
    return errors.length > 0 ? { errors } : { room, name };
  }

  // ---- Where to connect ----

  // /client-config.json → { url, domain } or { error }: wss when the page itself is https (a
  // secure page may not open ws:), else ws.
  function chooseSocket(config, pageProtocol) {
    if (!config || typeof config !== "object" || typeof config.sip_domain !== "string" || !config.sip_domain) {
      return { error: "The server did not say where to join rooms (no SIP domain in /client-config.json)." };
    }
    const secure = pageProtocol === "https:";
    const url = secure ? config.wss_url : config.ws_url;
    if (typeof url !== "string" || !url) {
      return {
        error: secure
          ? "This server has no secure WebSocket for SIP (it needs a TLS certificate); open the page over http instead."
          : "This server does not serve SIP over WebSocket, so rooms cannot be joined from the browser.",
      };
    }
    if (!url.startsWith(secure ? "wss:" : "ws:")) return { error: `Unexpected WebSocket address ${url}.` };
    // CSP3 §2.3.1 has no IPv6 literal host-source, so the page's policy cannot allow this socket.
    if (/^wss?:\/\/\[/.test(url)) {
      return { error: "Joining needs the page opened by a host name or an IPv4 address, not an IPv6 literal." };
    }
    return { url, domain: config.sip_domain };
  }

  function roomUri(room, domain) {
    return `sip:${room}@${domain}`;
  }

  // "web-" + 16 hex digits from `bytes` (crypto.getRandomValues in the page): the caller's own URI
  // user part, never registered, only unique enough to tell two tabs apart in logs and dialogs.
  function randomUser(bytes) {
    return `web-${Array.from(bytes.slice(0, 8), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
  }

  // ---- The offer ----

  // What join.js adds to the RTCPeerConnection, in m-line order: the microphone, the camera with
  // its simulcast layers (no camera: no such line), then the receive-only video slots.
  function transceiverPlan(slots, { camera = true } = {}) {
    const plan = [{ kind: "audio", direction: "sendrecv", role: "microphone" }];
    if (camera) {
      plan.push({
        kind: "video", direction: "sendonly", role: "camera",
        sendEncodings: kSimulcastEncodings.map((encoding) => ({ ...encoding })),
      });
    }
    for (let slot = 0; slot < slots; slot++) plan.push({ kind: "video", direction: "recvonly", role: "slot", slot });
    return plan;
  }

  // ---- The slot map (INFO, RFC 6086) ----

  // An INFO the page received → { map } (the slot map, checked), { ignore: why } for an INFO of
  // another package, or { error } for a slot map it cannot use. `infoPackage` is the Info-Package
  // header (RFC 6086 §8.2.1), which may be absent: the content type alone names a slot map.
  function parseSlotInfo(contentType, infoPackage, body) {
    const type = String(contentType || "").split(";")[0].trim().toLowerCase();
    const packageName = String(infoPackage || "").split(";")[0].trim().toLowerCase();
    if (type !== kSlotInfoType) {
      return { ignore: `content type ${type || "(none)"}` };
    }
    if (packageName && packageName !== kSlotInfoPackage) return { ignore: `Info-Package ${packageName}` };
    const text = String(body || "");
    if (text.length > kMaxSlotInfoBytes) return { error: `slot map over ${kMaxSlotInfoBytes} bytes` };
    let json;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return { error: "slot map is not JSON" };
    }
    return checkSlotMap(json);
  }

  function checkSlot(slot, index) {
    if (!slot || typeof slot !== "object" || Array.isArray(slot)) return { error: `slots[${index}] is not an object` };
    if (typeof slot.mid !== "string" || slot.mid.length === 0 || slot.mid.length > 32) {
      return { error: `slots[${index}].mid is not a mid` };
    }
    const id = slot.participant_id;
    if (id !== null && id !== undefined && !(Number.isSafeInteger(id) && id >= 0)) {
      return { error: `slots[${index}].participant_id is not a participant` };
    }
    const name = slot.display_name;
    if (name !== null && name !== undefined && typeof name !== "string") {
      return { error: `slots[${index}].display_name is not text` };
    }
    const occupied = id !== null && id !== undefined;
    return {
      slot: {
        mid: slot.mid,
        participantId: occupied ? id : null,
        displayName: occupied && name ? [...cleanName(name)].slice(0, kMaxSlotNameLength).join("") : null,
      },
    };
  }

  function checkSlotMap(json) {
    if (!json || typeof json !== "object" || Array.isArray(json)) return { error: "slot map is not an object" };
    if (!Number.isSafeInteger(json.version) || json.version < 0) return { error: "slot map has no version" };
    if (!kAdmissions.includes(json.admission)) return { error: `unknown admission ${String(json.admission)}` };
    if (!Array.isArray(json.slots) || json.slots.length > 64) return { error: "slot map has no slots list" };
    const slots = [];
    const mids = new Set();
    for (let index = 0; index < json.slots.length; index++) {
      const checked = checkSlot(json.slots[index], index);
      if (checked.error) return checked;
      if (mids.has(checked.slot.mid)) return { error: `mid ${checked.slot.mid} twice` };
      mids.add(checked.slot.mid);
      slots.push(checked.slot);
    }
    return { map: { version: json.version, admission: json.admission, slots } };
  }

  // The page's slot state after `map`: a later version replaces the whole state; an older or equal
  // one (reordered or repeated INFO) changes nothing. The initial state is { version: -1 }.
  function reduceSlotMap(state, map) {
    if (!map || map.version <= state.version) return state;
    return { version: map.version, admission: map.admission, slots: new Map(map.slots.map((slot) => [slot.mid, slot])) };
  }

  const kInitialSlotState = Object.freeze({ version: -1, admission: null, slots: new Map() });

  // One entry per slot tile (in the page's order, `mids` from its recvonly transceivers; null
  // while the answer has not named it): { mid, occupied, label }. A mid the map does not mention,
  // or one whose participant is null, is dark.
  function slotTiles(state, mids) {
    return mids.map((mid) => {
      const slot = mid === null ? undefined : state.slots.get(mid);
      const occupied = Boolean(slot && slot.participantId !== null);
      const label = occupied ? slot.displayName || `Participant ${slot.participantId}` : "";
      return { mid, occupied, label, participantId: occupied ? slot.participantId : null };
    });
  }

  // ---- Admission and PIN ----

  function admissionText(admission) {
    switch (admission) {
      case "admitted": return "In the room.";
      case "pin_required": return "This room needs a PIN.";
      case "waiting_for_moderator": return "Waiting for a moderator to join…";
      default: return "";
    }
  }

  // The PIN as typed → { dtmf: "1234#" } (the keypad digits JsSIP sends as INFO, RFC 4733 tones
  // too) or { error }.
  function pinToDtmf(text) {
    const pin = String(text || "").replace(/\s+/g, "");
    if (!pin) return { error: "Enter the PIN." };
    if (!/^[0-9]+$/.test(pin)) return { error: "A PIN is digits only." };
    if (pin.length > kMaxPinDigits) return { error: `A PIN has at most ${kMaxPinDigits} digits.` };
    return { dtmf: `${pin}#` };
  }

  // ---- Refusals and endings ----

  // RFC 3261 §20.43: Warning = warning-value *(COMMA warning-value); warning-value = warn-code SP
  // warn-agent SP warn-text (a quoted-string). → [{ code, agent, text }], malformed values skipped.
  function parseWarnings(value) {
    const out = [];
    const pattern = /(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"/g;
    let match;
    while ((match = pattern.exec(String(value || ""))) !== null) {
      out.push({ code: Number(match[1]), agent: match[2], text: match[3].replace(/\\(.)/g, "$1") });
    }
    return out;
  }

  const kRefusals = {
    403: "The room is locked.",
    404: "There is no such room.",
    480: "The room cannot take calls now.",
    486: "The room is full.",
    488: "The server could not accept this browser's audio and video (488 Not Acceptable Here).",
    603: "The call was declined.",
  };

  // A SIP final response that ended the call attempt → the sentence the page shows. The Warning
  // texts (RFC 3261 §20.43, e.g. `399 chorus "This meeting has not started"`) are the server's
  // own words and come after the status's meaning.
  function refusalMessage(status, reason, warning) {
    const code = Number(status);
    const warnings = parseWarnings(warning).map((w) => w.text).filter((text) => text.length > 0);
    let base = kRefusals[code];
    if (!base) {
      const phrase = String(reason || "").trim();
      if (code >= 500) base = `The server could not take the call (${code}${phrase ? ` ${phrase}` : ""}).`;
      else base = `The call was refused (${code}${phrase ? ` ${phrase}` : ""}).`;
    }
    if (warnings.length === 0) return base;
    const said = warnings.map((text) => (/[.!?]$/.test(text) ? text : `${text}.`)).join(" ");
    return `${base} ${said}`;
  }

  // JsSIP's 'failed' cause (JsSIP.C.causes) when no response explains it → a sentence.
  function failureMessage(cause) {
    switch (cause) {
      case "Connection Error": return "Could not reach the server's SIP WebSocket.";
      case "Request Timeout": return "The server did not answer the call in time.";
      case "Canceled": return "The call was cancelled.";
      case "No Answer": return "The room did not answer.";
      case "Expires": return "The call attempt expired.";
      case "No ACK": return "The call was lost: the server never confirmed it.";
      case "User Denied Media Access": return "The browser did not allow the camera or microphone.";
      case "WebRTC Error": return "The browser could not set up the call's media.";
      case "Incompatible SDP": return "The server's media answer could not be used by this browser.";
      case "Bad Media Description": return "The server's media answer could not be read.";
      case "Dialog Error": return "The call was lost (dialog error).";
      case "Unavailable": return "The room is unavailable.";
      default: return `The call failed (${cause || "unknown cause"}).`;
    }
  }

  // RFC 3326 Reason header (`SIP ;cause=480 ;text="PIN failed"`) → its text, or "".
  function reasonText(value) {
    const match = /;\s*text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(String(value || ""));
    return match ? match[1].replace(/\\(.)/g, "$1") : "";
  }

  // Why an established call ended → { message, pinFailed }. `originator` and `cause` are JsSIP's
  // ('local' / 'remote' / 'system'; a BYE is JsSIP.C.causes.BYE, "Terminated"); a BYE from the
  // server while the room still wanted a PIN after at least one try means the PIN was refused (the
  // server hangs up after the third wrong one).
  function endedMessage({ originator, cause, reason, admission, pinTries }) {
    if (originator === "local") return { message: "You left the room.", pinFailed: false };
    const pinFailed = originator === "remote" && admission === "pin_required" && pinTries > 0;
    if (pinFailed) {
      return { message: "The PIN was not accepted (three wrong tries), so the server ended the call.", pinFailed };
    }
    const why = reasonText(reason);
    if (originator === "remote" && (cause === "Terminated" || cause === "BYE" || !cause)) {
      return { message: why ? `The server ended the call: ${why}.` : "The server ended the call.", pinFailed };
    }
    return { message: failureMessage(cause), pinFailed };
  }

  // ---- Chat (SIP MESSAGE in the call's dialog, RFC 3428) ----
  // The page sends message/cpim (RFC 3862) naming itself; the server then sends it CPIM naming each
  // sender (conference/chat/chat_service.hpp). Before that it may get text/plain "<name>: <text>".
  const kMaxChatBytes = 4096;  // the server's limit (conference/chat/chat_room.hpp ChatLimits)
  const kChatCpimType = "message/cpim";

  function utf8Length(text) {
    return new TextEncoder().encode(text).length;
  }

  // What was typed → { text } or { error }: trailing blanks trimmed, not empty, within the limit, no
  // control characters other than tab and line ends (the server refuses them with 400).
  function checkChatText(typed) {
    const text = String(typed || "").replace(/\s+$/u, "");
    if (!text.trim()) return { error: "Type a message first." };
    if (utf8Length(text) > kMaxChatBytes) return { error: `A message is at most ${kMaxChatBytes} bytes.` };
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/u.test(text)) return { error: "The message has control characters." };
    return { text };
  }

  // RFC 3862 §3.2.1: Formal-name as a quoted string (escaping \ and ").
  function cpimAddress(name, uri) {
    const quoted = String(name || "").replace(/[\r\n]/g, "").replace(/(["\\])/g, "\\$1");
    return `${quoted ? `"${quoted}" ` : ""}<${uri}>`;
  }

  // A message/cpim body: From (the page's name and URI), To (the room), DateTime (RFC 3339, UTC,
  // seconds), then the text as text/plain;charset=utf-8.
  function chatCpim({ name, uri, roomUri: room, at, text }) {
    const when = at.toISOString().replace(/\.\d{3}Z$/, "Z");
    return `From: ${cpimAddress(name, uri)}\r\nTo: ${cpimAddress("", room)}\r\nDateTime: ${when}\r\n\r\n` +
      `Content-Type: text/plain;charset=utf-8\r\n\r\n${text}`;
  }

  // One header block (lines up to an empty one) → { headers (lower-cased names), rest } or null.
  function cpimBlock(text) {
    const end = /\r?\n\r?\n/.exec(text);
    if (!end) return null;
    const headers = {};
    for (const line of text.slice(0, end.index).split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0) return null;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
    }
    return { headers, rest: text.slice(end.index + end[0].length) };
  }

  // The name of a CPIM From value (`"Ann" <sip:…>` or `Ann <sip:…>`), "" when it has none.
  function cpimName(value) {
    const before = String(value || "").split("<")[0].trim();
    const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(before);
    return quoted ? quoted[1].replace(/\\(.)/g, "$1") : before;
  }

  // An incoming MESSAGE → { sender, text } (sender null: the text names its sender itself, as the
  // server's text/plain "<name>: <text>" does), or null for a body the page does not show.
  function parseChatMessage(contentType, body) {
    const type = String(contentType || "").split(";")[0].trim().toLowerCase();
    const text = String(body || "");
    if (type === "text/plain") return text ? { sender: null, text } : null;
    if (type !== kChatCpimType) return null;
    const message = cpimBlock(text);
    const mime = message && cpimBlock(message.rest);
    if (!mime) return null;
    const inner = String(mime.headers["content-type"] || "").split(";")[0].trim().toLowerCase();
    if (inner !== "text/plain" || !mime.rest) return null;
    return { sender: cpimName(message.headers.from) || null, text: mime.rest };
  }

  // A MESSAGE the server refused → one sentence (403 not yet admitted, 413 too long, 503 too fast).
  function chatRefusal(status, retryAfter) {
    switch (status) {
      case 403: return "The room does not take your messages yet (enter the PIN, or wait to be let in).";
      case 413: return `The message is too long (at most ${kMaxChatBytes} bytes).`;
      case 503: return `Too many messages: wait ${Number(retryAfter) > 0 ? `${Number(retryAfter)} s` : "a moment"} and send it again.`;
      case 400: case 415: return "The room could not read that message.";
      default: return `The message was not delivered (${status}).`;
    }
  }

  return {
    kDefaultSlots, kMaxSlots, kMaxNameLength, kSlotInfoPackage, kSlotInfoType, kSimulcastEncodings, kInitialSlotState,
    isValidRoom, cleanName, parseJoinParams, checkJoinForm, chooseSocket, roomUri, randomUser, transceiverPlan,
    parseSlotInfo, checkSlotMap, reduceSlotMap, slotTiles, admissionText, pinToDtmf, parseWarnings, refusalMessage,
    failureMessage, reasonText, endedMessage, kMaxChatBytes, kChatCpimType, checkChatText, chatCpim, parseChatMessage,
    chatRefusal,
  };
})();

if (typeof module !== "undefined" && module.exports) module.exports = ChorusCall;
