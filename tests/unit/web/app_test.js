// Unit tests for web/app.js's pure helpers, browser-free: `node --test tests/unit/web/`.
// Time-zone cases rely on Node's built-in ICU data (full ICU is the default since Node 13).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const page = require(path.join(__dirname, "..", "..", "..", "web", "app.js"));

test("wall time in a zone becomes the UTC instant, summer and winter", () => {
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-07-02T14:30", "Europe/Berlin").utc), "2026-07-02T12:30:00Z");
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-12-02T14:30", "Europe/Berlin").utc), "2026-12-02T13:30:00Z");
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-11-26T09:00", "America/New_York").utc), "2026-11-26T14:00:00Z");
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-11-26T09:00", "UTC").utc), "2026-11-26T09:00:00Z");
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-11-26T09:00", "Asia/Kolkata").utc), "2026-11-26T03:30:00Z");
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-11-26T09:00:15", "UTC").utc), "2026-11-26T09:00:15Z");
});

test("a wall time the clocks skip is an error, one they repeat is its first instant", () => {
  // 2026-03-29 02:00 CET → 03:00 CEST: 02:30 does not exist in Berlin.
  const skipped = page.zonedWallTimeToUtc("2026-03-29T02:30", "Europe/Berlin");
  assert.match(skipped.error, /does not exist in Europe\/Berlin/);
  assert.equal(skipped.utc, undefined);
  // 2026-10-25 03:00 CEST → 02:00 CET: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-10-25T02:30", "Europe/Berlin").utc), "2026-10-25T00:30:00Z");
  // Either side of the change the offset is the one in force.
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-03-29T03:00", "Europe/Berlin").utc), "2026-03-29T01:00:00Z");
  assert.equal(page.toIsoUtc(page.zonedWallTimeToUtc("2026-03-29T01:59", "Europe/Berlin").utc), "2026-03-29T00:59:00Z");
});

test("bad input and unknown zones are reported, not thrown", () => {
  assert.ok(page.zonedWallTimeToUtc("", "UTC").error);
  assert.ok(page.zonedWallTimeToUtc("2026-13-01T10:00", "UTC").error);
  assert.ok(page.zonedWallTimeToUtc("tomorrow", "UTC").error);
  assert.match(page.zonedWallTimeToUtc("2026-11-26T10:00", "Mars/Olympus").error, /Unknown time zone/);
});

test("weekly repeat names the start's weekday (RFC 5545 BYDAY)", () => {
  assert.equal(page.weeklyRrule("2026-11-26T10:00"), "FREQ=WEEKLY;BYDAY=TH");
  assert.equal(page.weeklyRrule("2026-11-29T23:30"), "FREQ=WEEKLY;BYDAY=SU");
  assert.equal(page.weeklyRrule("2026-11-30T00:00"), "FREQ=WEEKLY;BYDAY=MO");
  assert.equal(page.weekdayName("2026-11-28T08:00"), "Saturday");
  assert.equal(page.weeklyRrule("nonsense"), null);
});

test("attendees split on commas and lose blanks", () => {
  assert.deepEqual(page.parseAttendees(" a@example.org, b@example.org ,,c@example.org; "),
    ["a@example.org", "b@example.org", "c@example.org"]);
  assert.deepEqual(page.parseAttendees(""), []);
});

test("the form becomes the POST /v1/meetings body", () => {
  const built = page.buildMeetingRequest({
    title: "  Weekly sync ", room_id: "1000", start: "2026-12-03T10:00", end: "2026-12-03T10:45",
    timezone: "Europe/Berlin", repeat: true, organizer: " ana@example.org ", attendees: "bo@example.org, cy@example.org",
  });
  assert.deepEqual(built, {
    body: {
      room_id: "1000", title: "Weekly sync", start: "2026-12-03T09:00:00Z", end: "2026-12-03T09:45:00Z",
      timezone: "Europe/Berlin", rrule: "FREQ=WEEKLY;BYDAY=TH", organizer: "ana@example.org",
      attendees: ["bo@example.org", "cy@example.org"],
    },
  });
  const once = page.buildMeetingRequest({
    title: "One-off", room_id: "r1", start: "2026-12-03T23:30", end: "2026-12-04T00:30", timezone: "UTC",
  });
  assert.deepEqual(once.body, {
    room_id: "r1", title: "One-off", start: "2026-12-03T23:30:00Z", end: "2026-12-04T00:30:00Z", timezone: "UTC",
  });
});

test("the form's own mistakes name its fields", () => {
  const built = page.buildMeetingRequest({ title: " ", room_id: "", start: "2026-12-03T10:00", end: "2026-12-03T09:00",
    timezone: "UTC" });
  assert.deepEqual(built.errors.map((error) => error.field), ["title", "room", "end"]);
  const missing = page.buildMeetingRequest({ title: "x", room_id: "r", start: "", end: "", timezone: "UTC" });
  assert.deepEqual(missing.errors.map((error) => error.field), ["start", "end"]);
});

test("problem+json field pointers map to form fields", () => {
  assert.deepEqual(page.fieldForPointer("/title"), { field: "title", index: null });
  assert.deepEqual(page.fieldForPointer("/room_id"), { field: "room", index: null });
  assert.deepEqual(page.fieldForPointer("/attendees/2"), { field: "attendees", index: 2 });
  assert.deepEqual(page.fieldForPointer("attendees[3]"), { field: "attendees", index: 3 });
  assert.deepEqual(page.fieldForPointer("/rrule"), { field: "repeat", index: null });
  assert.deepEqual(page.fieldForPointer("start"), { field: "start", index: null });
  assert.deepEqual(page.fieldForPointer("/pin"), { field: null, index: null });
  assert.deepEqual(page.fieldForPointer(undefined), { field: null, index: null });
});

test("a validation problem becomes messages per field plus the rest", () => {
  const { byField, general } = page.mapProblem({
    type: "validation", title: "Validation failed", status: 422,
    errors: [
      { field: "/end", message: "must be after start" },
      { field: "/attendees/1", message: "is not an email address" },
      { field: "/end", message: "is more than 24 hours after start" },
      { field: "/join_window_before", message: "at most 120" },
    ],
  }, 422);
  assert.deepEqual([...byField.entries()], [
    ["end", ["must be after start", "is more than 24 hours after start"]],
    ["attendees", ["Attendee 2: is not an email address"]],
  ]);
  assert.deepEqual(general, ["/join_window_before: at most 120"]);
});

test("a problem without errors[] is one general message", () => {
  const { byField, general } = page.mapProblem({ title: "Not found", detail: "no room r9" }, 404);
  assert.equal(byField.size, 0);
  assert.deepEqual(general, ["Not found: no room r9"]);
  assert.deepEqual(page.mapProblem(null, 502).general, ["The server answered 502"]);
});

test("copy-all text lists what is set", () => {
  assert.equal(page.dialInText({ id: "1000", name: "Main", sip_uri: "sip:1000@example.org", dial_in_number: "+1 555 0100",
    pin: "4321" }), "Main\nSIP: sip:1000@example.org\nNumber: +1 555 0100\nPIN: 4321");
  assert.equal(page.dialInText({ id: "1000", sip_uri: "sip:1000@example.org", pin: null }), "1000\nSIP: sip:1000@example.org");
});

test("default times are the next whole hour and an hour after, and moving the start keeps the length", () => {
  const times = page.defaultTimes(new Date(2026, 10, 26, 9, 41, 12));
  assert.deepEqual(times, { start: "2026-11-26T10:00", end: "2026-11-26T11:00" });
  assert.deepEqual(page.defaultTimes(new Date(2026, 11, 31, 23, 5)), { start: "2027-01-01T00:00", end: "2027-01-01T01:00" });
  assert.equal(page.shiftEnd("2026-11-26T10:00", "2026-11-26T10:45", "2026-11-26T23:30"), "2026-11-27T00:15");
  assert.equal(page.shiftEnd("2026-11-26T10:00", "2026-11-26T09:00", "2026-11-26T11:00"), null);
  assert.equal(page.shiftEnd("", "2026-11-26T09:00", "2026-11-26T11:00"), null);
});

test("queries are encoded and empty values left out", () => {
  assert.equal(page.withQuery("/v1/meetings", { room_id: "a b&c", limit: 200, page_token: "" }),
    "/v1/meetings?room_id=a%20b%26c&limit=200");
  assert.equal(page.withQuery("/v1/rooms", {}), "/v1/rooms");
});

test("the 14-day window and which meetings may fall in it", () => {
  const range = page.upcomingWindow(new Date(Date.UTC(2026, 10, 26, 10, 0, 0, 500)));
  assert.deepEqual(range, { from: "2026-11-26T10:00:00Z", to: "2026-12-10T10:00:00Z" });
  const meeting = (start, end, extra = {}) => ({ start, end, rrule: "", cancelled: false, ...extra });
  assert.equal(page.mayOccurIn(meeting("2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z"), range), true);
  assert.equal(page.mayOccurIn(meeting("2026-11-26T09:30:00Z", "2026-11-26T10:30:00Z"), range), true, "in progress");
  assert.equal(page.mayOccurIn(meeting("2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z"), range), false, "over");
  assert.equal(page.mayOccurIn(meeting("2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z", { rrule: "FREQ=WEEKLY" }), range),
    true, "recurring");
  assert.equal(page.mayOccurIn(meeting("2026-12-11T10:00:00Z", "2026-12-11T11:00:00Z"), range), false, "too late");
  assert.equal(page.mayOccurIn(meeting("2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z", { cancelled: true }), range), false);
});

test(".ics file names are safe", () => {
  assert.equal(page.icsFileName({ title: "Board / Q4 review: final?" }), "Board-Q4-review-final.ics");
  assert.equal(page.icsFileName({ title: "Réunion d'équipe" }), "Réunion-d-équipe.ics");
  assert.equal(page.icsFileName({ title: "///" }), "meeting.ics");
});
