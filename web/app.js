// Chorus browser page: rooms with their dial-in details, the next 14 days of meetings, a form to
// schedule one and each meeting's .ics. (Joining a room is call.js and join.js.) Plain script, no build step, nothing from other origins
// (the server sends Content-Security-Policy: default-src 'self', so no inline script or style).
//
// The pure helpers (time-zone arithmetic, request building, problem+json mapping) sit in
// `ChorusPage` and are exported under Node for tests/unit/web/app_test.js; `initPage` wires them to
// the DOM and runs only in a browser.
"use strict";

const ChorusPage = (() => {
  const kUpcomingDays = 14;
  const kMaxPages = 20;  // lists: at most 20 pages of 200 items are walked
  const kPageSize = 200;
  const kWeekdays = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
  const kWeekdayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

  // "2026-11-26T14:30" (a datetime-local value, seconds optional) → its fields, or null.
  function parseWallTime(text) {
    const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text || "");
    if (!match) return null;
    const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part || 0));
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
    return { year, month, day, hour, minute, second };
  }

  // The wall time's fields read as if they were UTC, in milliseconds: arithmetic on wall times.
  function wallAsUtcMs(wall) {
    return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  }

  function pad(number, width = 2) {
    return String(number).padStart(width, "0");
  }

  function formatWallTime(ms) {
    const date = new Date(ms);
    return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
      `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
  }

  const formatters = new Map();
  function zoneFormatter(timeZone) {
    if (!formatters.has(timeZone)) {
      formatters.set(timeZone, new Intl.DateTimeFormat("en-US", {
        timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
      }));
    }
    return formatters.get(timeZone);
  }

  // The wall time in `timeZone` at the instant `utcMs` (seconds resolution).
  function wallTimeIn(utcMs, timeZone) {
    const parts = {};
    for (const part of zoneFormatter(timeZone).formatToParts(new Date(utcMs))) parts[part.type] = part.value;
    return {
      year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
      hour: Number(parts.hour) % 24, minute: Number(parts.minute), second: Number(parts.second),
    };
  }

  // Offset of `timeZone` from UTC at the instant `utcMs`, in milliseconds (east positive).
  function zoneOffsetMs(utcMs, timeZone) {
    const whole = Math.floor(utcMs / 1000) * 1000;
    return wallAsUtcMs(wallTimeIn(whole, timeZone)) - whole;
  }

  // A wall time in an IANA zone → the UTC instant in ms. Candidates come from the offsets in force
  // a day either side (no zone changes twice in a day); those that map back to the same wall time
  // are the answers. None: the zone skips that time (clocks go forward), an error rather than a
  // silent shift. Two: it repeats (clocks go back), and the first is taken.
  function zonedWallTimeToUtc(text, timeZone) {
    const wall = parseWallTime(text);
    if (!wall) return { error: "Enter a date and time." };
    const naive = wallAsUtcMs(wall);
    const kDayMs = 86400 * 1000;
    let matches;
    try {
      const offsets = new Set([-kDayMs, 0, kDayMs].map((shift) => zoneOffsetMs(naive + shift, timeZone)));
      matches = [...offsets].map((offset) => naive - offset)
        .filter((utc) => utc + zoneOffsetMs(utc, timeZone) === naive);
    } catch (error) {
      return { error: `Unknown time zone ${timeZone}.` };
    }
    if (matches.length === 0) {
      return { error: `${formatWallTime(naive).replace("T", " ")} does not exist in ${timeZone} (the clocks change).` };
    }
    return { utc: Math.min(...matches) };
  }

  // RFC 3339 UTC without fractional seconds: "2026-11-26T13:30:00Z".
  function toIsoUtc(ms) {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  // RFC 5545 §3.3.10: weekly on the start's weekday, as the meeting's own zone sees it.
  function weekdayOf(text) {
    const wall = parseWallTime(text);
    return wall ? new Date(Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay() : null;
  }

  function weeklyRrule(text) {
    const day = weekdayOf(text);
    return day === null ? null : `FREQ=WEEKLY;BYDAY=${kWeekdays[day]}`;
  }

  function weekdayName(text) {
    const day = weekdayOf(text);
    return day === null ? null : kWeekdayNames[day];
  }

  function parseAttendees(text) {
    return (text || "").split(/[,;\n]/).map((item) => item.trim()).filter((item) => item.length > 0);
  }

  // The form's values → { body } for POST /v1/meetings, or { errors: [{field, message}] } naming
  // the form's fields (the same names fieldForPointer() gives the server's errors).
  function buildMeetingRequest(values) {
    const errors = [];
    const title = (values.title || "").trim();
    if (!title) errors.push({ field: "title", message: "Enter a title." });
    if (!values.room_id) errors.push({ field: "room", message: "Choose a room." });
    const timeZone = values.timezone || "UTC";
    const start = zonedWallTimeToUtc(values.start, timeZone);
    const end = zonedWallTimeToUtc(values.end, timeZone);
    if (start.error) errors.push({ field: "start", message: start.error });
    if (end.error) errors.push({ field: "end", message: end.error });
    if (!start.error && !end.error && end.utc <= start.utc) {
      errors.push({ field: "end", message: "The end must be after the start." });
    }
    if (errors.length > 0) return { errors };
    const body = { room_id: values.room_id, title, start: toIsoUtc(start.utc), end: toIsoUtc(end.utc), timezone: timeZone };
    if (values.repeat) body.rrule = weeklyRrule(values.start);
    const organizer = (values.organizer || "").trim();
    if (organizer) body.organizer = organizer;
    const attendees = parseAttendees(values.attendees);
    if (attendees.length > 0) body.attendees = attendees;
    return { body };
  }

  const kFieldForMember = {
    title: "title", room_id: "room", start: "start", end: "end", timezone: "timezone",
    rrule: "repeat", organizer: "organizer", attendees: "attendees",
  };

  // A problem's `errors[].field` — a JSON Pointer ("/attendees/2", RFC 6901) or a member name
  // ("attendees[2]") — → { field: form field or null, index: element or null }.
  function fieldForPointer(pointer) {
    const text = String(pointer || "").replace(/^\//, "");
    const match = /^([^/[]*)(?:\/(\d+)|\[(\d+)\])?/.exec(text);
    const member = match ? match[1].replace(/~1/g, "/").replace(/~0/g, "~") : "";
    const index = match && (match[2] || match[3]) !== undefined ? Number(match[2] || match[3]) : null;
    return { field: kFieldForMember[member] || null, index };
  }

  // problem+json → { byField: Map(field → [messages]), general: [messages] }.
  function mapProblem(problem, status) {
    const byField = new Map();
    const general = [];
    const errors = Array.isArray(problem && problem.errors) ? problem.errors : [];
    for (const error of errors) {
      const { field, index } = fieldForPointer(error && error.field);
      let message = String((error && error.message) || "is not valid");
      if (field === "attendees" && index !== null) message = `Attendee ${index + 1}: ${message}`;
      if (field) {
        if (!byField.has(field)) byField.set(field, []);
        byField.get(field).push(message);
      } else {
        general.push(error && error.field ? `${error.field}: ${message}` : message);
      }
    }
    if (errors.length === 0) {
      const title = (problem && problem.title) || `The server answered ${status}`;
      general.push(problem && problem.detail ? `${title}: ${problem.detail}` : title);
    }
    return { byField, general };
  }

  // Plain text for "copy all": what someone needs to dial in.
  function dialInText(room) {
    const lines = [`${room.name || room.id}`];
    if (room.sip_uri) lines.push(`SIP: ${room.sip_uri}`);
    if (room.dial_in_number) lines.push(`Number: ${room.dial_in_number}`);
    if (room.pin) lines.push(`PIN: ${room.pin}`);
    return lines.join("\n");
  }

  // The next whole hour after `now`, and an hour after that, as browser-local datetime-local values.
  function defaultTimes(now) {
    const next = new Date(now.getTime());
    next.setMinutes(0, 0, 0);
    next.setHours(next.getHours() + 1);
    const local = (date) => `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    return { start: local(next), end: local(new Date(next.getTime() + 3600 * 1000)) };
  }

  // Keep a meeting's length when its start moves: the new end, or null when either is unset.
  function shiftEnd(oldStart, oldEnd, newStart) {
    const [a, b, c] = [oldStart, oldEnd, newStart].map(parseWallTime);
    if (!a || !b || !c) return null;
    const length = wallAsUtcMs(b) - wallAsUtcMs(a);
    return length > 0 ? formatWallTime(wallAsUtcMs(c) + length) : null;
  }

  function withQuery(path, params) {
    const query = Object.entries(params)
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
    return query.length > 0 ? `${path}?${query.join("&")}` : path;
  }

  function upcomingWindow(now) {
    return { from: toIsoUtc(now.getTime()), to: toIsoUtc(now.getTime() + kUpcomingDays * 86400 * 1000) };
  }

  // A meeting that cannot have an occurrence in the window needs no /occurrences request.
  function mayOccurIn(meeting, range) {
    if (meeting.cancelled) return false;
    const start = Date.parse(meeting.start);
    const end = Date.parse(meeting.end);
    if (start >= Date.parse(range.to)) return false;
    return Boolean(meeting.rrule) || end > Date.parse(range.from);
  }

  function icsFileName(meeting) {
    const stem = String(meeting.title || "meeting").replace(/[^\p{L}\p{N}._-]+/gu, "-").replace(/^-+|-+$/g, "");
    return `${(stem || "meeting").slice(0, 60)}.ics`;
  }

  return {
    kUpcomingDays, kMaxPages, kPageSize, parseWallTime, zonedWallTimeToUtc, toIsoUtc, weeklyRrule, weekdayName,
    parseAttendees, buildMeetingRequest, fieldForPointer, mapProblem, dialInText, defaultTimes, shiftEnd,
    withQuery, upcomingWindow, mayOccurIn, icsFileName,
  };
})();

// ---- Browser side ----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function initPage() {
  const P = ChorusPage;
  const kTokenKey = "chorus.token";
  const $ = (id) => document.getElementById(id);
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  let roomsById = new Map();
  let loadGeneration = 0;

  const token = () => sessionStorage.getItem(kTokenKey) || "";
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function announce(text) {
    $("status").textContent = text;
  }

  // One API call with the Bearer token. 429: waits Retry-After (1..10 s) and tries twice more.
  async function api(path, { method = "GET", body, accept = "application/json", raw = false } = {}) {
    for (let attempt = 0; ; attempt++) {
      const headers = { Accept: `${accept}, application/problem+json` };
      if (token()) headers.Authorization = `Bearer ${token()}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
      if (response.status === 429 && attempt < 2) {
        const seconds = Math.min(10, Math.max(1, Number(response.headers.get("Retry-After")) || 1));
        await sleep(seconds * 1000);
        continue;
      }
      if (!response.ok) {
        let problem = null;
        try {
          problem = await response.json();
        } catch (ignored) {
          problem = null;
        }
        throw new ApiError(response.status, problem);
      }
      if (raw) return response;
      return response.status === 204 ? null : response.json();
    }
  }

  // Every item of a paged list (bounded by kMaxPages).
  async function listAll(path, params) {
    const items = [];
    let pageToken = "";
    for (let page = 0; page < P.kMaxPages; page++) {
      const data = await api(P.withQuery(path, { ...params, limit: P.kPageSize, page_token: pageToken }));
      items.push(...(data.items || []));
      pageToken = data.next_page_token;
      if (!pageToken) break;
    }
    return items;
  }

  // Runs `task` over `items` with at most `limit` in flight (the API's rate limit is per token).
  async function eachLimited(items, limit, task) {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++];
        await task(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  }

  function showTokenError(text) {
    const error = $("token-error");
    error.textContent = text;
    error.hidden = !text;
    $("token").setAttribute("aria-invalid", text ? "true" : "false");
  }

  function reportLoadError(error) {
    if (error instanceof ApiError && error.status === 401) {
      showTokenError("The server did not accept this token. Check it and try again.");
      announce("The token was not accepted.");
    } else if (error instanceof ApiError && error.status === 403) {
      showTokenError(`This token may not do that: ${error.message}`);
      announce("The token lacks a scope.");
    } else {
      announce(`Could not load: ${error.message}`);
    }
  }

  // ---- Copying ----

  function copyFallback(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (ignored) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  async function copyText(text, what, button, selectable) {
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (ignored) {
        copied = false;
      }
    }
    if (!copied) copied = copyFallback(text);
    if (copied) {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 2000);
      announce(`${what} copied.`);
    } else if (selectable) {
      window.getSelection().selectAllChildren(selectable);
      announce(`Could not copy; ${what} is selected, press Ctrl+C (or ⌘C) to copy it.`);
    } else {
      announce(`Could not copy ${what}.`);
    }
  }

  // ---- .ics ----

  async function downloadIcs(meeting, link) {
    try {
      const response = await api(link.getAttribute("href"), { accept: "text/calendar", raw: true });
      const url = URL.createObjectURL(await response.blob());
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = P.icsFileName(meeting);
      document.body.appendChild(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      announce(`Downloading ${anchor.download}.`);
    } catch (error) {
      reportLoadError(error);
    }
  }

  function icsLink(meeting) {
    const link = document.createElement("a");
    link.href = `/v1/meetings/${encodeURIComponent(meeting.id)}.ics`;
    link.className = "ics";
    link.textContent = "Download .ics";
    link.setAttribute("aria-label", `Download “${meeting.title}” as a calendar file (.ics)`);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      downloadIcs(meeting, link);
    });
    return link;
  }

  // ---- Rooms and upcoming meetings ----

  const dayTime = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });

  function formatRange(start, end) {
    if (typeof dayTime.formatRange === "function") return dayTime.formatRange(start, end);
    return `${dayTime.format(start)} – ${dayTime.format(end)}`;
  }

  function zoneNote(meeting, start) {
    if (!meeting.timezone || meeting.timezone === localZone) return "";
    try {
      const there = new Intl.DateTimeFormat(undefined, { timeZone: meeting.timezone, hour: "2-digit", minute: "2-digit" });
      return ` (${there.format(start)} ${meeting.timezone})`;
    } catch (ignored) {
      return "";
    }
  }

  function renderUpcoming(container, entries, failed) {
    container.replaceChildren();
    if (entries.length === 0) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = failed ? "Could not load the meetings." : "Nothing scheduled in the next 14 days.";
      container.appendChild(empty);
      return;
    }
    const list = document.createElement("ul");
    list.className = "occurrences";
    for (const { meeting, start, end } of entries) {
      const item = document.createElement("li");
      const when = document.createElement("time");
      when.dateTime = P.toIsoUtc(start.getTime());
      when.textContent = formatRange(start, end);
      const title = document.createElement("span");
      title.className = "meeting-title";
      title.textContent = meeting.title;
      const extra = document.createElement("span");
      extra.className = "meeting-meta";
      extra.textContent = (meeting.rrule ? " · weekly" : "") + zoneNote(meeting, start);
      item.append(when, " ", title, extra, " ", icsLink(meeting));
      list.appendChild(item);
    }
    container.appendChild(list);
    if (failed) {
      const note = document.createElement("p");
      note.className = "empty";
      note.textContent = "Some meetings could not be loaded.";
      container.appendChild(note);
    }
  }

  async function loadUpcoming(room, container) {
    container.setAttribute("aria-busy", "true");
    const range = P.upcomingWindow(new Date());
    const entries = [];
    let failed = false;
    try {
      const meetings = (await listAll("/v1/meetings", { room_id: room.id })).filter((m) => P.mayOccurIn(m, range));
      await eachLimited(meetings, 3, async (meeting) => {
        try {
          const path = `/v1/meetings/${encodeURIComponent(meeting.id)}/occurrences`;
          const data = await api(P.withQuery(path, range));
          for (const occurrence of data.items || []) {
            entries.push({ meeting, start: new Date(occurrence.start), end: new Date(occurrence.end) });
          }
        } catch (error) {
          if (error instanceof ApiError && error.status === 401) throw error;
          failed = true;
        }
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) reportLoadError(error);
      failed = true;
    }
    entries.sort((a, b) => a.start - b.start);
    renderUpcoming(container, entries, failed);
    container.setAttribute("aria-busy", "false");
  }

  function fillDialIn(card, room) {
    for (const row of card.querySelectorAll(".dial-in-row")) {
      const key = row.dataset.key;
      const label = row.querySelector("dt").textContent;
      const value = room[key];
      const code = row.querySelector(".value");
      const button = row.querySelector(".copy");
      if (value === null || value === undefined || value === "") {
        code.textContent = key === "pin" ? "none" : "—";
        button.hidden = true;
        continue;
      }
      code.textContent = String(value);
      button.setAttribute("aria-label", `Copy the ${label} of ${room.name || room.id}`);
      button.addEventListener("click", () => copyText(String(value), `${label} of ${room.name || room.id}`, button, code));
    }
    const all = card.querySelector(".copy-all");
    all.setAttribute("aria-label", `Copy all dial-in details of ${room.name || room.id}`);
    all.addEventListener("click", () => copyText(P.dialInText(room), `Dial-in details of ${room.name || room.id}`, all));
  }

  function roomCard(room) {
    const card = $("room-template").content.firstElementChild.cloneNode(true);
    const headingId = `room-${room.id}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const heading = card.querySelector(".room-name");
    heading.id = headingId;
    heading.textContent = room.name || room.id;
    card.setAttribute("aria-labelledby", headingId);
    const meta = [`id ${room.id}`];
    if (room.mode) meta.push(room.mode);
    if (room.max_participants) meta.push(`up to ${room.max_participants} people`);
    if (room.encryption) meta.push(`media ${room.encryption}`);
    if (room.locked) meta.push("locked");
    card.querySelector(".room-meta").textContent = meta.join(" · ");
    if (room.locked) card.classList.add("locked");
    card.dataset.roomId = room.id;
    const join = card.querySelector(".join-link");
    join.href = `/?room=${encodeURIComponent(room.id)}`;
    join.setAttribute("aria-label", `Join ${room.name || room.id} from this browser`);
    fillDialIn(card, room);
    return card;
  }

  function fillRoomSelect(rooms) {
    const select = $("room");
    const previous = select.value;
    select.replaceChildren();
    const prompt = new Option(rooms.length > 0 ? "Choose a room" : "No rooms", "");
    select.appendChild(prompt);
    for (const room of rooms) select.appendChild(new Option(`${room.name || room.id} (${room.id})`, room.id));
    if (roomsById.has(previous)) select.value = previous;
  }

  async function loadRooms() {
    const container = $("rooms");
    const generation = ++loadGeneration;
    if (!token()) {
      container.replaceChildren(Object.assign(document.createElement("p"), {
        className: "empty", textContent: "Enter a token to list the rooms.",
      }));
      roomsById = new Map();
      fillRoomSelect([]);
      return;
    }
    container.setAttribute("aria-busy", "true");
    announce("Loading rooms…");
    try {
      const rooms = await listAll("/v1/rooms", {});
      if (generation !== loadGeneration) return;
      showTokenError("");
      roomsById = new Map(rooms.map((room) => [room.id, room]));
      fillRoomSelect(rooms);
      container.replaceChildren();
      if (rooms.length === 0) {
        container.appendChild(Object.assign(document.createElement("p"), { className: "empty", textContent: "No rooms yet." }));
      }
      const cards = rooms.map((room) => {
        const card = roomCard(room);
        container.appendChild(card);
        return { room, upcoming: card.querySelector(".upcoming") };
      });
      announce(`${rooms.length} room${rooms.length === 1 ? "" : "s"} loaded.`);
      await eachLimited(cards, 2, async ({ room, upcoming }) => {
        if (generation === loadGeneration) await loadUpcoming(room, upcoming);
      });
    } catch (error) {
      if (generation !== loadGeneration) return;
      container.replaceChildren(Object.assign(document.createElement("p"), {
        className: "empty", textContent: "The rooms could not be loaded.",
      }));
      reportLoadError(error);
    } finally {
      container.setAttribute("aria-busy", "false");
    }
  }

  // ---- Scheduling ----

  const kFieldNames = {
    title: "Title", room: "Room", start: "Starts", end: "Ends", timezone: "Time zone", repeat: "Repeat",
    organizer: "Organizer email", attendees: "Attendees",
  };
  const kFormFields = Object.keys(kFieldNames);

  function clearFormErrors() {
    for (const field of kFormFields) {
      const error = $(`${field}-error`);
      error.textContent = "";
      error.hidden = true;
      $(field).removeAttribute("aria-invalid");
    }
    $("schedule-summary").hidden = true;
    $("schedule-summary").replaceChildren();
  }

  // Messages next to their fields, and a summary with links to them (focus moves there).
  function showFormErrors(byField, general) {
    const summary = $("schedule-summary");
    const heading = document.createElement("p");
    heading.className = "summary-title";
    heading.textContent = "The meeting was not scheduled:";
    const list = document.createElement("ul");
    for (const [field, messages] of byField) {
      const error = $(`${field}-error`);
      error.textContent = messages.join(" ");
      error.hidden = false;
      $(field).setAttribute("aria-invalid", "true");
      const link = document.createElement("a");
      link.href = `#${field}`;
      link.textContent = `${kFieldNames[field]}: ${messages.join(" ")}`;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        $(field).focus();
      });
      list.appendChild(document.createElement("li")).appendChild(link);
    }
    for (const message of general) list.appendChild(Object.assign(document.createElement("li"), { textContent: message }));
    summary.replaceChildren(heading, list);
    summary.hidden = false;
    summary.tabIndex = -1;
    summary.focus();
  }

  function formValues() {
    return {
      title: $("title").value, room_id: $("room").value, start: $("start").value, end: $("end").value,
      timezone: $("timezone").value, repeat: $("repeat").checked, organizer: $("organizer").value,
      attendees: $("attendees").value,
    };
  }

  function showScheduled(meeting) {
    const notice = $("scheduled");
    const room = roomsById.get(meeting.room_id);
    const start = new Date(meeting.start);
    notice.replaceChildren(
      `Scheduled “${meeting.title}” in ${room ? room.name || room.id : meeting.room_id} on ${dayTime.format(start)}`,
      meeting.rrule ? ", every week. " : ". ", icsLink(meeting));
    notice.hidden = false;
    notice.focus();
  }

  async function submitMeeting(event) {
    event.preventDefault();
    clearFormErrors();
    $("scheduled").hidden = true;
    const built = P.buildMeetingRequest(formValues());
    if (built.errors) {
      const byField = new Map();
      for (const { field, message } of built.errors) byField.set(field, [...(byField.get(field) || []), message]);
      showFormErrors(byField, []);
      return;
    }
    if (!token()) {
      showFormErrors(new Map(), ["Enter a token first (see Access token above)."]);
      return;
    }
    const button = $("schedule-submit");
    button.disabled = true;
    try {
      const meeting = await api("/v1/meetings", { method: "POST", body: built.body });
      $("title").value = "";
      $("attendees").value = "";
      showScheduled(meeting);
      announce(`Meeting “${meeting.title}” scheduled.`);
      refreshRoom(meeting.room_id);
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 0;
      const problem = error instanceof ApiError ? error.problem : { title: "Network error", detail: error.message };
      if (status === 401) showTokenError("The server did not accept this token.");
      const { byField, general } = P.mapProblem(problem, status);
      showFormErrors(byField, general);
    } finally {
      button.disabled = false;
    }
  }

  function refreshRoom(roomId) {
    for (const card of document.querySelectorAll("#rooms .room")) {
      if (card.dataset.roomId === roomId) loadUpcoming(roomsById.get(roomId), card.querySelector(".upcoming"));
    }
  }

  function fillTimeZones() {
    const select = $("timezone");
    let zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    zones = [...new Set([localZone, "UTC", ...zones])];
    select.replaceChildren(...zones.map((zone) => new Option(zone, zone)));
    select.value = localZone;
  }

  function updateRepeatLabel() {
    const day = P.weekdayName($("start").value);
    $("repeat-label").textContent = day ? `Repeat every week on ${day}` : "Repeat every week";
  }

  function initForm() {
    fillTimeZones();
    const times = P.defaultTimes(new Date());
    $("start").value = times.start;
    $("end").value = times.end;
    let lastStart = times.start;
    $("start").addEventListener("change", () => {
      const moved = P.shiftEnd(lastStart, $("end").value, $("start").value);
      if (moved) $("end").value = moved;
      lastStart = $("start").value;
      updateRepeatLabel();
    });
    updateRepeatLabel();
    $("schedule-form").addEventListener("submit", submitMeeting);
  }

  function initToken() {
    $("token").value = token();
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      if (!value) {
        showTokenError("Paste a token first.");
        return;
      }
      sessionStorage.setItem(kTokenKey, value);
      showTokenError("");
      loadRooms();
    });
    $("token-forget").addEventListener("click", () => {
      sessionStorage.removeItem(kTokenKey);
      $("token").value = "";
      showTokenError("");
      announce("Token forgotten.");
      loadRooms();
    });
  }

  $("local-zone").textContent = localZone;
  initToken();
  initForm();
  $("refresh").addEventListener("click", loadRooms);
  loadRooms();
}

if (typeof module !== "undefined" && module.exports) {
  module.exports = ChorusPage;
} else if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initPage);
  else initPage();
}
