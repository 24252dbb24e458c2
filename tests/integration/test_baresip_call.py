#!/usr/bin/env python3
"""baresip (a real SIP user agent, Debian baresip-core) calls room 1000 and sends a 440 Hz tone from a WAV.

Case 1 (caller hangs up): baresip dials sip:1000@127.0.0.1:PORT; its ctrl_tcp interface reports
CALL_ESTABLISHED and chorusd's status shows the dialog; baresip hangs up (BYE); chorusd returns to no
transactions, dialogs or media ports.
Case 2 (server hangs up): baresip dials again; chorusd gets SIGTERM, must BYE the call and exit within
its drain time (its last status line: no dialogs, no participants); baresip must report the call
closed by the peer (CALL_CLOSED "Connection reset by peer", and the BYE in its SIP trace).

baresip is driven through ctrl_tcp: JSON commands and events framed as netstrings ("LEN:JSON,").
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
from baresip_agent import BaresipAgent, read_text  # noqa: E402

TEST = "test_baresip_call"
CALL_TIMEOUT_S = 20.0
SERVER_EXIT_TIMEOUT_S = 10.0  # chorusd promises 5 s


def dial(control, server, checks, label):
    since = len(control.events)
    control.command("dial", f"sip:1000@127.0.0.1:{server.sip_port}")
    established = control.wait_event("CALL_ESTABLISHED", CALL_TIMEOUT_S, since)
    checks.expect(established is not None, f"{label}: baresip reports the call established")
    status = h.poll_until(lambda: (lambda s: s if s.get("dialogs", 0) >= 1 else None)(server.status()),
                          CALL_TIMEOUT_S, "chorusd's status to show the dialog")
    checks.expect(status["dialogs"] == 1, f"{label}: chorusd counts one dialog ({status})")
    return since


def caller_hangs_up(control, server, checks):
    print("--- case 1: baresip dials room 1000, then hangs up", flush=True)
    dial(control, server, checks, "case 1")
    since = len(control.events)
    control.command("hangup")
    closed = control.wait_event("CALL_CLOSED", CALL_TIMEOUT_S, since)
    checks.expect(closed is not None, f"case 1: baresip closed the call ({closed.get('param')})")
    try:
        server.wait_quiescent()
        checks.expect(True, "case 1: chorusd back to no transactions, dialogs or media ports")
    except h.Failure as e:
        checks.expect(False, f"case 1: {e}")


def server_hangs_up(control, server, baresip_log, checks):
    print("--- case 2: baresip dials room 1000, then chorusd gets SIGTERM and must BYE the call", flush=True)
    dial(control, server, checks, "case 2")
    since = len(control.events)
    trace_before = len(read_text(baresip_log))
    server.proc.send_signal(15)
    try:
        code = server.proc.wait(timeout=SERVER_EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        code = None
    checks.expect(code == 0, f"case 2: chorusd exited with 0 within {SERVER_EXIT_TIMEOUT_S:.0f} s after SIGTERM "
                  f"(got {code})")
    closed = control.wait_event("CALL_CLOSED", CALL_TIMEOUT_S, since)
    reason = closed.get("param", "")
    checks.expect("peer" in reason.lower(), f"case 2: baresip saw the call closed by the remote side ({reason!r})")
    trace = read_text(baresip_log)[trace_before:]
    checks.expect("BYE sip:" in trace, "case 2: baresip's SIP trace shows the BYE it received")
    finals = [h.parse_logfmt(line) for line in server.log_lines() if "msg=status" in line]
    final = finals[-1] if finals else {}
    # A BYE's client transaction may still be in Completed (Timer K, RFC 3261 §17.1.2.2) at exit: not checked.
    checks.expect(final.get("dialogs") == "0" and final.get("participants") == "0",
                  f"case 2: chorusd's last status before exit has no dialogs and no participants ({final})")


def body(args):
    baresip = h.require_binary("baresip", "baresip-core")
    h.require_binary("sox", "sox")
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    agent = BaresipAgent(baresip, os.path.join(args.output_dir, "baresip"), tone_hz=440).start()
    try:
        caller_hangs_up(agent.control, server, checks)
        server_hangs_up(agent.control, server, agent.log, checks)
    finally:
        agent.stop()
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
