#!/usr/bin/env python3
"""PIN entry and keypad controls of chorusd's audio MCU, driven by real SIP clients (baresip, Debian
baresip-core 1.0.0) typing RFC 4733 telephone-events.

Two rooms are made over REST: `audiopin` (POST /v1/rooms with pin 123456, then PATCH /v1/rooms/audiopin
with If-Match adding moderator_pin 999999) and `audioopen` (no PIN). Digits are typed with baresip's menu
command `sndcode` through ctrl_tcp: one press and release per key, sent as telephone-event packets on the
payload type baresip offered (101, `telephone-event/8000`). baresip 1.0 has no SIP INFO sender, so the
INFO case uses sipp. Cases (`--only NAME` runs one; each is a fresh set of agents):

  right-pin  B (440 Hz) calls audiopin, is held (REST: admitted false), types 999999# and is admitted as
             moderator. A (700 Hz) calls and is held for 3 s, types 123456# and is admitted as a guest.
             B's recording: 700 Hz >= 20 dB louder after A's admission than while A was held (a held
             caller is not mixed). A's recording: after admission 440 Hz >= 20 dB above its own 700 Hz,
             and >= 20 dB louder than while it was held (a held caller hears only its prompt).
  wrong-pin  C (550 Hz) calls audiopin and types 1111#, 2222#, 3333#: chorusd plays "goodbye" and sends
             BYE; baresip reports CALL_CLOSED within 15 s of the last '#' without having hung up itself,
             its SIP trace holds the BYE, chorusd logs "PIN failed" and the caller was never admitted.
  mute       A (440 Hz) and B (700 Hz) in audioopen. A types *6: REST shows A muted, and B's recording
             loses 440 Hz (>= 20 dB drop) while A still hears B; A types *6 again: unmuted, and B hears
             440 Hz again (>= 20 dB back up).
  info       sipp calls audiopin and sends 1,2,3,4,5,6,# as SIP INFO (application/dtmf-relay "Signal=D"):
             REST shows it held, then admitted as a guest; every INFO is answered 200; chorusd logs seven INFO
             digits; sipp hangs up. (The scenario is generated into the output folder.) Without sipp the
             case is skipped with a note.
The measured dB figures are printed. After each case chorusd returns to zero transactions, dialogs and
media ports.

Like test_baresip_echo.py, the script re-executes itself under `unshare -n` with only loopback; where that
is not permitted, or baresip, sox or a module is missing, the test skips (77).
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audio_room_agents as ar  # noqa: E402
import chorus_harness as h  # noqa: E402
from baresip_agent import BaresipAgent, require_modules  # noqa: E402

TEST = "test_audio_pin"
PIN_ROOM, OPEN_ROOM = "audiopin", "audioopen"
GUEST_PIN, MODERATOR_PIN = "123456", "999999"  # min_pin_digits: 6 by default
WRONG_PINS = ("1111", "2222", "3333")
MIN_CHANGE_DB = 20.0
HELD_S = 3.0  # how long A stays in PIN entry before typing
SETTLE_S = 1.0  # after an admission or a mute change: join tone, jitter buffers
MEASURE_S = 2.5
STATE_TIMEOUT_S = 5.0  # for REST to show an admission or a mute typed a moment ago
BYE_TIMEOUT_S = 15.0  # last '#' → CALL_CLOSED: "goodbye" is about a second
DIGIT_GAP_S = 0.3
MIN_PROMPT_S = 1.0  # "Please enter the conference PIN, followed by the pound key." lasts about 3 s
INFO_HOLD_MS = 3000  # sipp stays this long after its last INFO, while the test reads REST
INFO_TIMEOUT_S = 30
CASES = ("right-pin", "wrong-pin", "mute", "info")


def chorusd_lines(server, first_line, words=("level=warn", "level=error", "comp=conference", "comp=mixer")):
    lines = [line for line in server.log_lines()[first_line:] if any(w in line for w in words)]
    return "\n".join("      chorusd| " + line for line in lines[-30:])


def new_agent(baresip, args, name, tone_hz):
    agent = BaresipAgent(baresip, os.path.join(args.output_dir, name), tone_hz=tone_hz, record=True).start()
    return agent


def participant(rest, room, agent):
    """agent's item in GET /v1/conferences/{room}/participants (matched by its SIP port in caller_id)."""
    for item in rest.participants(room):
        if f":{agent.sip_port}" in item.get("caller_id", ""):
            return item
    return None


def wait_state(rest, room, agent, label, checks, **wanted):
    """Poll the agent's participant item until every field in wanted has its value; a check either way."""
    def matches():
        item = participant(rest, room, agent)
        return item if item and all(item.get(k) == v for k, v in wanted.items()) else None
    try:
        h.poll_until(matches, STATE_TIMEOUT_S, f"{label} to be {wanted}", 0.1)
        checks.expect(True, f"{label}: REST shows {wanted}")
        return ar.now()
    except h.Failure:
        checks.expect(False, f"{label}: REST never showed {wanted} within {STATE_TIMEOUT_S:.0f} s "
                             f"(last: {participant(rest, room, agent)})")
        return None


def compare(label, checks, louder_db, quieter_db, what):
    print(f"    {label}: {louder_db:6.1f} dBFS vs {quieter_db:6.1f} dBFS ({what})", flush=True)
    checks.expect(louder_db - quieter_db >= MIN_CHANGE_DB,
                  f"{label}: {louder_db - quieter_db:.1f} dB ({what}; need {MIN_CHANGE_DB:.0f})")


def run_right_pin(baresip, server, rest, args, checks):
    print(f"--- right-pin: moderator 440 Hz and guest 700 Hz enter their PINs in room {PIN_ROOM}", flush=True)
    log_mark = len(server.log_lines())
    b = new_agent(baresip, args, "right-pin-moderator-440", 440)
    a = new_agent(baresip, args, "right-pin-guest-700", 700)
    clock = ar.RecordingClock([a, b])
    try:
        if ar.dial(b, server, PIN_ROOM, "moderator 440 Hz", checks) is None:
            return
        wait_state(rest, PIN_ROOM, b, "moderator 440 Hz before its PIN", checks, admitted=False)
        b.send_digits(MODERATOR_PIN + "#", DIGIT_GAP_S)
        if wait_state(rest, PIN_ROOM, b, f"moderator 440 Hz after {MODERATOR_PIN}#", checks, admitted=True,
                      moderator=True) is None:
            print(chorusd_lines(server, log_mark), flush=True)
            return
        joined = ar.dial(a, server, PIN_ROOM, "guest 700 Hz", checks)
        if joined is None:
            return
        wait_state(rest, PIN_ROOM, a, "guest 700 Hz before its PIN", checks, admitted=False)
        held = (joined + 0.5, joined + HELD_S)
        ar.sleep_until(held[1])
        a.send_digits(GUEST_PIN + "#", DIGIT_GAP_S)
        admitted = wait_state(rest, PIN_ROOM, a, f"guest 700 Hz after {GUEST_PIN}#", checks, admitted=True, moderator=False)
        if admitted is None:
            print(chorusd_lines(server, log_mark), flush=True)
            return
        after = (admitted + SETTLE_S, admitted + SETTLE_S + MEASURE_S)
        ar.sleep_until(after[1] + 0.2)
        for agent, name in ((a, "guest"), (b, "moderator")):
            ar.hang_up(agent, f"right-pin {name}", checks)
        clock.stop()
        rec_b, rec_a = ar.recording(b, clock), ar.recording(a, clock)
        compare("right-pin: the moderator hears 700 Hz after the guest's admission vs while it was held", checks,
                rec_b.level_db(700, *after), rec_b.level_db(700, *held), "a held caller is not mixed")
        compare("right-pin: the admitted guest hears 440 Hz vs its own 700 Hz", checks,
                rec_a.level_db(440, *after), rec_a.level_db(700, *after), "N-1 after admission")
        compare("right-pin: the guest hears 440 Hz after admission vs while held", checks,
                rec_a.level_db(440, *after), rec_a.level_db(440, *held), "a held caller hears only its prompt")
        prompt_s = rec_a.audible_s(*held)
        checks.expect(prompt_s >= MIN_PROMPT_S, f"right-pin: the held guest heard its prompt: audible {prompt_s:.1f} s "
                                                f"of the {held[1] - held[0]:.1f} s held (need {MIN_PROMPT_S:.0f})")
    finally:
        clock.stop()
        a.stop()
        b.stop()
    h.expect_quiescent(server, checks, "right-pin")


def run_wrong_pin(baresip, server, rest, args, checks):
    print(f"--- wrong-pin: a caller types {', '.join(p + '#' for p in WRONG_PINS)} in room {PIN_ROOM}", flush=True)
    log_mark = len(server.log_lines())
    c = new_agent(baresip, args, "wrong-pin-550", 550)
    try:
        if ar.dial(c, server, PIN_ROOM, "caller 550 Hz", checks) is None:
            return
        wait_state(rest, PIN_ROOM, c, "caller 550 Hz before its PIN", checks, admitted=False)
        since = len(c.control.events)
        for attempt, pin in enumerate(WRONG_PINS):
            c.send_digits(pin + "#", DIGIT_GAP_S)
            if attempt < len(WRONG_PINS) - 1:
                item = participant(rest, PIN_ROOM, c)
                checks.expect(item is not None and item.get("admitted") is False,
                              f"wrong-pin: after {pin}# the caller is still in the call and not admitted ({item})")
        last_hash = ar.now()
        try:
            closed = c.control.wait_event("CALL_CLOSED", BYE_TIMEOUT_S, since)
            checks.expect(True, f"wrong-pin: baresip reports the call closed {ar.now() - last_hash:.1f} s after the "
                                f"last '#' ({closed.get('param')!r})")
        except h.Failure as e:
            checks.expect(False, f"wrong-pin: {e}")
            print(chorusd_lines(server, log_mark), flush=True)
            return
        trace = c.log_text()
        checks.expect(re.search(r"^BYE sip:", trace, re.M) is not None,
                      "wrong-pin: baresip's SIP trace holds the BYE chorusd sent")
        log = "\n".join(server.log_lines()[log_mark:])
        checks.expect('msg="PIN failed, hanging up"' in log, "wrong-pin: chorusd logged \"PIN failed, hanging up\"")
        checks.expect('msg="PIN accepted"' not in log, "wrong-pin: chorusd never accepted a PIN")
        wrong = log.count('msg="wrong PIN"')
        checks.expect(wrong == len(WRONG_PINS) - 1, f"wrong-pin: chorusd logged {wrong} wrong PINs before the last "
                                                    f"(need {len(WRONG_PINS) - 1})")
    finally:
        c.stop()
    h.expect_quiescent(server, checks, "wrong-pin")


def run_mute(baresip, server, rest, args, checks):
    print(f"--- mute: 440 Hz types *6 twice in room {OPEN_ROOM} while 700 Hz listens", flush=True)
    log_mark = len(server.log_lines())
    a = new_agent(baresip, args, "mute-440", 440)
    b = new_agent(baresip, args, "mute-700", 700)
    clock = ar.RecordingClock([a, b])
    try:
        if ar.dial(a, server, OPEN_ROOM, "mute 440 Hz", checks) is None:
            return
        joined = ar.dial(b, server, OPEN_ROOM, "mute 700 Hz", checks)
        if joined is None:
            return
        before = (joined + SETTLE_S, joined + SETTLE_S + MEASURE_S)
        ar.sleep_until(before[1])
        a.send_digits("*6", DIGIT_GAP_S)
        t_muted = wait_state(rest, OPEN_ROOM, a, "440 Hz after *6", checks, muted=True, audio_muted=True)
        if t_muted is None:
            print(chorusd_lines(server, log_mark), flush=True)
            return
        muted = (t_muted + SETTLE_S, t_muted + SETTLE_S + MEASURE_S)
        ar.sleep_until(muted[1])
        a.send_digits("*6", DIGIT_GAP_S)
        t_unmuted = wait_state(rest, OPEN_ROOM, a, "440 Hz after *6 again", checks, muted=False, audio_muted=False)
        if t_unmuted is None:
            return
        after = (t_unmuted + SETTLE_S, t_unmuted + SETTLE_S + MEASURE_S)
        ar.sleep_until(after[1] + 0.2)
        for agent, name in ((a, "440 Hz"), (b, "700 Hz")):
            ar.hang_up(agent, f"mute {name}", checks)
        clock.stop()
        rec_b, rec_a = ar.recording(b, clock), ar.recording(a, clock)
        compare("mute: B hears 440 Hz before *6 vs while A is muted", checks,
                rec_b.level_db(440, *before), rec_b.level_db(440, *muted), "the others stop hearing a muted caller")
        compare("mute: B hears 440 Hz after the second *6 vs while A was muted", checks,
                rec_b.level_db(440, *after), rec_b.level_db(440, *muted), "unmute brings it back")
        compare("mute: muted A still hears 700 Hz vs its own 440 Hz", checks,
                rec_a.level_db(700, *muted), rec_a.level_db(440, *muted), "mute is one-way")
    finally:
        clock.stop()
        a.stop()
        b.stop()
    h.expect_quiescent(server, checks, "mute")


def info_scenario(digits, hold_ms):
    """A sipp UAC scenario: INVITE (PCMU) → 200 → ACK, then one SIP INFO per digit (application/dtmf-relay,
    "Signal=D", each answered 200), then hold_ms in the call and BYE."""
    def message(text, retrans=True):  # an ACK has no response, so it is never retransmitted
        return ("  <send retrans=\"500\">" if retrans else "  <send>") + "\n    <![CDATA[\n" + text + \
            "\n    ]]>\n  </send>\n"
    common = ("      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
              "      Call-ID: [call_id]\n"
              "      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>\n"
              "      Max-Forwards: 70\n")
    in_dialog = ("      [routes]\n      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\n" + common)
    parts = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
             '<scenario name="PIN by SIP INFO">\n']
    parts.append(message(
        "      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
        "      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        "      To: <sip:[service]@[remote_ip]:[remote_port]>\n" + common +
        "      CSeq: 1 INVITE\n      Content-Type: application/sdp\n      Content-Length: [len]\n\n"
        "      v=0\n      o=sipp 53655765 1 IN IP[local_ip_type] [local_ip]\n      s=-\n"
        "      c=IN IP[media_ip_type] [media_ip]\n      t=0 0\n      m=audio [media_port] RTP/AVP 0\n"
        "      a=rtpmap:0 PCMU/8000\n"))
    parts.append('  <recv response="100" optional="true"/>\n  <recv response="180" optional="true"/>\n'
                 '  <recv response="183" optional="true"/>\n  <recv response="200" rrs="true"/>\n')
    parts.append(message("      ACK [next_url] SIP/2.0\n      Via: SIP/2.0/[transport] [local_ip]:[local_port];"
                         "branch=[branch]\n" + in_dialog + "      CSeq: 1 ACK\n      Content-Length: 0\n", retrans=False))
    parts.append('  <pause milliseconds="1000"/>\n')
    for number, digit in enumerate(digits, start=2):
        parts.append(message(
            "      INFO [next_url] SIP/2.0\n      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            + in_dialog + f"      CSeq: {number} INFO\n      Content-Type: application/dtmf-relay\n"
            "      Content-Length: [len]\n\n" f"      Signal={digit}\n      Duration=160\n"))
        parts.append('  <recv response="200"/>\n  <pause milliseconds="300"/>\n')
    parts.append(f'  <pause milliseconds="{hold_ms}"/>\n')
    parts.append(message(
        "      BYE [next_url] SIP/2.0\n      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        + in_dialog + f"      CSeq: {len(digits) + 2} BYE\n      Content-Length: 0\n"))
    parts.append('  <recv response="200"/>\n</scenario>\n')
    return "".join(parts)


def run_info(baresip, server, rest, args, checks):
    print(f"--- info: sipp types {GUEST_PIN}# as SIP INFO (application/dtmf-relay) in room {PIN_ROOM}", flush=True)
    sipp = shutil.which("sipp")
    if not sipp:
        print("    SKIP info: `sipp` is not installed (Debian package sip-tester)", flush=True)
        return
    folder = os.path.join(args.output_dir, "info")
    os.makedirs(folder, exist_ok=True)
    scenario = os.path.join(folder, "pin_by_info.xml")
    with open(scenario, "w") as f:
        f.write(info_scenario(GUEST_PIN + "#", INFO_HOLD_MS))
    media_lo, _ = h.free_port_range(4)
    cmd = [sipp, f"127.0.0.1:{server.sip_port}", "-sf", scenario, "-s", PIN_ROOM, "-m", "1", "-i", "127.0.0.1",
           "-p", str(h.free_port()), "-mi", "127.0.0.1", "-mp", str(media_lo), "-nostdin",
           "-timeout", f"{INFO_TIMEOUT_S}s", "-timeout_error", "-trace_msg", "-message_file",
           os.path.join(folder, "messages.log"), "-trace_err", "-error_file", os.path.join(folder, "errors.log")]
    log_mark = len(server.log_lines())
    proc = h.spawn(cmd, os.path.join(folder, "screen.log"), cwd=folder)
    try:
        def listed(**wanted):
            items = [i for i in rest.participants(PIN_ROOM) if "sipp@" in i.get("caller_id", "")]
            return items[0] if items and all(items[0].get(k) == v for k, v in wanted.items()) else None
        try:
            h.poll_until(lambda: listed(admitted=False), STATE_TIMEOUT_S, "sipp held in PIN entry", 0.1)
            checks.expect(True, "info: sipp's call is held in PIN entry (REST admitted false)")
            h.poll_until(lambda: listed(admitted=True, moderator=False), INFO_TIMEOUT_S / 2,
                         "sipp admitted as a guest", 0.1)
            checks.expect(True, f"info: {GUEST_PIN}# by SIP INFO admitted sipp as a guest (REST admitted true)")
        except h.Failure as e:
            checks.expect(False, f"info: {e}")
        try:
            code = proc.wait(timeout=INFO_TIMEOUT_S + 10)
        except subprocess.TimeoutExpired:
            code = "killed"
        checks.expect(code == 0, f"info: sipp's scenario (every INFO answered 200, then BYE 200) ended with {code} "
                                 f"(logs in {folder})")
        log = "\n".join(server.log_lines()[log_mark:])
        digits = log.count('msg="dtmf (INFO)"')
        checks.expect(digits == len(GUEST_PIN) + 1, f"info: chorusd logged {digits} INFO digits "
                                                    f"(need {len(GUEST_PIN) + 1})")
    finally:
        h.stop_process(proc)
    h.expect_quiescent(server, checks, "info")



def make_rooms(rest, checks):
    """audiopin (pin, then moderator_pin by PATCH with If-Match) and audioopen, over REST."""
    client = rest.client
    reply = client.request("POST", "/v1/rooms", {"id": PIN_ROOM, "name": "audio PIN test", "pin": GUEST_PIN})
    if not checks.expect(reply.status == 201, f"POST /v1/rooms {PIN_ROOM} with a pin: 201 ({reply.describe()[:200]})"):
        raise h.Failure("the PIN room could not be made")
    etag = reply.header("etag")
    reply = client.request("PATCH", f"/v1/rooms/{PIN_ROOM}", {"moderator_pin": MODERATOR_PIN},
                           headers={"If-Match": etag})
    checks.expect(reply.status == 200 and reply.json().get("moderator_pin") in (None, MODERATOR_PIN),
                  f"PATCH /v1/rooms/{PIN_ROOM} moderator_pin with If-Match {etag}: 200 ({reply.describe()[:200]})")
    if reply.status != 200:
        raise h.Failure("the moderator PIN could not be set")
    reply = client.request("POST", "/v1/rooms", {"id": OPEN_ROOM, "name": "audio open test"})
    if not checks.expect(reply.status == 201, f"POST /v1/rooms {OPEN_ROOM}: 201 ({reply.describe()[:200]})"):
        raise h.Failure("the open room could not be made")


def body(args):
    baresip = h.require_binary("baresip", "baresip-core")
    h.require_binary("sox", "sox")
    cases = [c for c in CASES if not args.only or c == args.only]
    if not cases:
        raise h.Failure(f"--only {args.only}: no such case ({', '.join(CASES)})")
    require_modules("g711.so", "aufile.so", "sndfile.so", "ctrl_tcp.so", "menu.so", "account.so")
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    rest = ar.Rest(server)
    runners = {"right-pin": run_right_pin, "wrong-pin": run_wrong_pin, "mute": run_mute, "info": run_info}
    try:
        make_rooms(rest, checks)
        for case in cases:
            runners[case](baresip, server, rest, args, checks)
    finally:
        rest.close()
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help="run one case: " + ", ".join(CASES))
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "to keep baresip on loopback")


if __name__ == "__main__":
    sys.exit(main())
