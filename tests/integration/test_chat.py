#!/usr/bin/env python3
"""Chat in a room (issue 15): SIP MESSAGE (RFC 3428) between a real SIP phone and the browser page.

Ann joins room 1000 from the page (headless Chromium, JsSIP over WebSocket) and a baresip agent
dials the room. Then:
- baresip sends a MESSAGE out of dialog to the room's URI (baresip 1.0.0 sends MESSAGE only that
  way: its `contact` module's `message` command, to the current contact, here the room); Chorus
  knows it by its From URI and source address, answers 200, and the page shows it in the chat with
  baresip's name in the text (text/plain "<name>: <text>": the page has not sent CPIM yet);
- Ann types in the page's chat: the page sends message/cpim in its call's dialog, and baresip (whose
  INVITE's Allow lists MESSAGE) receives text/plain "Ann: <text>" in its dialog (its SIP trace);
- GET /v1/conferences/1000/messages lists both, newest last, with their senders; ?since= the first
  seq lists only the second;
- POST /v1/conferences/1000/messages {"text","from":"Operator"} reaches both: the page shows it named
  "Operator" (CPIM now: Ann sent CPIM), baresip gets "Operator: <text>"; /v1/events carried a
  chat.message event for each of the three;
- a stranger (a UDP socket that is in no call) sending MESSAGE to the room gets 403, and nothing of
  it reaches the page or the history.
Skips (77) without the browser tools (browser_agent.require_browser_tools) or baresip's contact module.
"""

import json
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baresip_agent as ba  # noqa: E402
import browser_agent as b  # noqa: E402
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

kRoom = "1000"
kFromBaresip = "hello from the phone"
kFromPage = "hello from the page, caf\u00e9"
kFromApi = "the meeting ends in five minutes"


def baresip_received(agent, call_id, text):
    """baresip's SIP trace (-s) shows a MESSAGE from Chorus in the call's dialog (its Call-ID, a To
    tag) whose body is `text`, text/plain, and baresip's 200 to it."""
    blocks = [re.sub(r"\x1b\[[0-9;]*m", "", block) for block in re.split(r"#\n", agent.log_text())]
    for block in blocks:
        lines = block.strip().splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("MESSAGE sip:tester")), None)
        if start is None or f"Call-ID: {call_id}" not in lines or not lines[-1].startswith(text):
            continue
        headers = lines[start:]
        cseq = next((line for line in headers if line.startswith("CSeq:")), "")
        to_tagged = any(line.startswith("To:") and ";tag=" in line for line in headers)
        plain = "Content-Type: text/plain;charset=utf-8" in headers
        answered = any("SIP/2.0 200 OK" in other and cseq in other and f"Call-ID: {call_id}" in other
                       for other in blocks)
        if to_tagged and plain and answered:
            return True
    return False


def stranger_says(port, text):
    """A MESSAGE from a UDP socket in no call of the room → the status of Chorus's answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    local = sock.getsockname()[1]
    body = text.encode()
    request = (f"MESSAGE sip:{kRoom}@127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch={h.new_branch()};rport\r\n"
               "Max-Forwards: 70\r\n"
               f"From: \"Eve\" <sip:eve@127.0.0.1:{local}>;tag={h.new_token()}\r\n"
               f"To: <sip:{kRoom}@127.0.0.1>\r\n"
               f"Call-ID: {h.new_token()}@127.0.0.1\r\n"
               "CSeq: 1 MESSAGE\r\n"
               "Content-Type: text/plain\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    try:
        sock.sendto(request, ("127.0.0.1", port))
        for _ in range(5):
            data, _ = sock.recvfrom(65536)
            status = data.split(b" ", 2)[1]
            if status.isdigit() and int(status) >= 200:
                return int(status)
        return 0
    except socket.timeout:
        return 0
    finally:
        sock.close()


def body(args):
    node, script = b.require_browser_tools(args.source_dir)
    ba.require_modules("contact.so", "menu.so", "ctrl_tcp.so")
    h.require_binary(args.baresip, "baresip")
    os.makedirs(args.output_dir, exist_ok=True)
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-chat").start()
    h.poll_until(lambda: h.can_connect(server.http_port), 10.0, "the HTTP port")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    browsers, agent = [], None
    stream = rc.EventStream(server.http_port, api.token)
    try:
        checks.expect(stream.ok, f"GET /v1/events: 200 text/event-stream ({stream.status_line})")
        ann = b.Browser(node, script, "Ann", args.output_dir)
        browsers.append(ann)
        ann.request("open", url=f"http://127.0.0.1:{server.http_port}/?room={kRoom}&name=Ann")
        state = ann.request("join", wait_ms=30000)
        if not checks.expect(state["phase"] == "up", f"Ann is in room {kRoom} ({state['call_state']!r})"):
            return checks.failures

        folder = os.path.join(args.output_dir, "baresip")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "contacts"), "w") as f:  # the contact module's current contact: the room
            f.write(f"\"Room\" <sip:{kRoom}@127.0.0.1:{server.sip_port}>\n")
        agent = ba.BaresipAgent(args.baresip, folder, modules=["contact.so"]).start()
        agent.control.command("dial", f"sip:{kRoom}@127.0.0.1:{server.sip_port}")
        event = agent.control.wait_event("CALL_ESTABLISHED", 20.0, stop_on=("CALL_CLOSED",))
        if not checks.expect(event.get("type") == "CALL_ESTABLISHED", f"baresip's call is up ({event})"):
            return checks.failures
        h.poll_until(lambda: len(api.get(f"/v1/conferences/{kRoom}/participants").json().get("items", [])) == 2,
                     10.0, "both participants listed")

        # baresip → room (out of dialog, to the room's URI) → the page.
        agent.control.command("message", kFromBaresip)
        line = b.wait_for(ann, "baresip's message in the chat", lambda x: [
            m for m in x.request("state")["chat_log"] if kFromBaresip in m["text"]], 15.0)[0]
        checks.expect(line["text"] == f"tester: {kFromBaresip}" and line["origin"] == "remote",
                      f"the page shows baresip's message with its name: {line}")

        # The page → room (in its dialog, CPIM) → baresip.
        state = ann.request("chat", text=kFromPage)
        b.wait_for(ann, "the page's own line", lambda x: [
            m for m in x.request("state")["chat_log"] if m["origin"] == "self"], 10.0)
        call_id = event.get("id")
        h.poll_until(lambda: baresip_received(agent, call_id, f"Ann: {kFromPage}"), 10.0,
                     "baresip receiving \"Ann: <text>\" in its call's dialog, and answering 200")

        # REST sees both, newest last.
        history = api.get(f"/v1/conferences/{kRoom}/messages").json()["messages"]
        checks.expect([m["text"] for m in history] == [kFromBaresip, kFromPage],
                      f"GET messages lists both, newest last: {[m['text'] for m in history]}")
        checks.expect([m["from"]["display_name"] for m in history] == ["tester", "Ann"]
                      and all(m["origin"] == "sip" and m["from"]["participant_id"] for m in history),
                      f"each names its participant: {[m['from'] for m in history]}")
        later = api.get(f"/v1/conferences/{kRoom}/messages?since={history[0]['seq']}").json()["messages"]
        checks.expect([m["text"] for m in later] == [kFromPage], f"?since= gives the later one: {later}")

        # REST → both.
        posted = api.post(f"/v1/conferences/{kRoom}/messages", {"text": kFromApi, "from": "Operator"})
        checks.expect(posted.status == 201, f"POST messages → 201 ({posted.status})")
        line = b.wait_for(ann, "the operator's message", lambda x: [
            m for m in x.request("state")["chat_log"] if m["text"] == kFromApi], 10.0)[0]
        checks.expect(line["sender"] == "Operator", f"the page names the operator (CPIM From): {line}")
        h.poll_until(lambda: baresip_received(agent, call_id, f"Operator: {kFromApi}"), 10.0,
                     "baresip receiving \"Operator: <text>\" in its dialog")

        # The event stream carried each message.
        def chat_events():
            found = [json.loads(e["data"])["data"] for e in stream.snapshot() if e.get("event") == "chat.message"]
            return found if len(found) >= 3 else None
        events = h.poll_until(chat_events, 10.0, "three chat.message events on /v1/events")
        checks.expect([(e["text"], e["origin"], e["from"]["display_name"]) for e in events] ==
                      [(kFromBaresip, "sip", "tester"), (kFromPage, "sip", "Ann"), (kFromApi, "api", "Operator")],
                      f"chat.message events name each sender: {[(e['text'], e['origin']) for e in events]}")

        # A stranger is refused and changes nothing.
        status = stranger_says(server.sip_port, "let me in")
        checks.expect(status == 403, f"a stranger's MESSAGE to the room → 403 ({status})")
        history = api.get(f"/v1/conferences/{kRoom}/messages").json()["messages"]
        checks.expect(len(history) == 3 and all("let me in" not in m["text"] for m in history),
                      "nothing of the stranger's reaches the history")
        checks.expect(all("let me in" not in m["text"] for m in ann.request("state")["chat_log"]),
                      "nothing of the stranger's reaches the page")
        metrics = api.get("/metrics").body.decode()
        checks.expect("chorus_chat_refused_not_participant_total 1" in metrics,
                      "the refusal is counted (chorus_chat_refused_not_participant_total 1)")
    except h.Failure as e:
        checks.expect(False, str(e))
    finally:
        stream.close()
        if agent:
            agent.stop()
        b.close_browsers(browsers, checks)
        api.close()
        h.expect_clean_stop(server, checks)
    return checks.failures


if __name__ == "__main__":
    parser = h.arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--baresip", default="/usr/bin/baresip")
    sys.exit(h.run("test_chat", body, parser=parser))
