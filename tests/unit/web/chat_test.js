// Unit tests for the chat helpers of web/call.js (SIP MESSAGE in the call's dialog, RFC 3428, with
// message/cpim, RFC 3862): `node --test tests/unit/web/`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const call = require(path.join(__dirname, "..", "..", "..", "web", "call.js"));

test("typed text is trimmed at the end, not empty, within 4096 bytes of UTF-8, without controls", () => {
  assert.deepEqual(call.checkChatText("hello  \n"), { text: "hello" });
  assert.match(call.checkChatText("   ").error, /Type a message/);
  assert.deepEqual(call.checkChatText("é".repeat(2048)), { text: "é".repeat(2048) });
  assert.match(call.checkChatText("é".repeat(2049)).error, /4096 bytes/);
  assert.match(call.checkChatText("bell\u0007").error, /control/);
  assert.deepEqual(call.checkChatText("two\nlines\tok"), { text: "two\nlines\tok" });
});

test("the page's CPIM names it, the room and the time, around text/plain UTF-8", () => {
  const body = call.chatCpim({
    name: 'Ann "A" \\ Lee', uri: "sip:web-0011@127.0.0.1", roomUri: "sip:1000@127.0.0.1",
    at: new Date(Date.UTC(2026, 11, 5, 23, 1, 2, 345)), text: "café\nbye",
  });
  assert.equal(body,
    'From: "Ann \\"A\\" \\\\ Lee" <sip:web-0011@127.0.0.1>\r\n' +
    "To: <sip:1000@127.0.0.1>\r\n" +
    "DateTime: 2026-12-05T23:01:02Z\r\n" +
    "\r\n" +
    "Content-Type: text/plain;charset=utf-8\r\n" +
    "\r\n" +
    "café\nbye");
  assert.deepEqual(call.parseChatMessage("message/cpim", body), { sender: 'Ann "A" \\ Lee', text: "café\nbye" });
});

test("incoming messages: CPIM gives the sender, text/plain carries it in the text, others are not shown", () => {
  assert.deepEqual(call.parseChatMessage("text/plain;charset=utf-8", "Bob: hi"), { sender: null, text: "Bob: hi" });
  assert.deepEqual(call.parseChatMessage("Message/CPIM",
    "From: MR SANDERS <im:piglet@100akerwood.com>\nDateTime: 2000-12-13T13:40:00-08:00\n\n" +
    "Content-type: text/plain\n\nHere is the text of my message."),
  { sender: "MR SANDERS", text: "Here is the text of my message." });
  assert.deepEqual(call.parseChatMessage("message/cpim", "To: <sip:1000@h>\r\n\r\nContent-Type: text/plain\r\n\r\nhi"),
    { sender: null, text: "hi" });
  assert.equal(call.parseChatMessage("message/cpim", "From: <sip:a@b>\r\n\r\nContent-Type: text/html\r\n\r\n<b>x</b>"), null);
  assert.equal(call.parseChatMessage("message/cpim", "no blank line"), null);
  assert.equal(call.parseChatMessage("application/json", "{}"), null);
  assert.equal(call.parseChatMessage("text/plain", ""), null);
});

test("refusals become one sentence", () => {
  assert.match(call.chatRefusal(403), /PIN/);
  assert.match(call.chatRefusal(413), /4096/);
  assert.match(call.chatRefusal(503, "2"), /wait 2 s/);
  assert.match(call.chatRefusal(503, ""), /a moment/);
  assert.match(call.chatRefusal(480), /480/);
});
