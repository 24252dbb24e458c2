#!/usr/bin/env python3
"""sipp (Debian sip-tester) drives calls into one chorusd; every scenario must end with sipp's exit code 0
(all calls succeeded), then chorusd must return to no transactions, dialogs or media ports.

Scenarios: sipp's own `uac` (INVITE with SDP, 200, ACK, BYE) for the basic call, the loads and the
lossy run; the XML files in tests/integration/sipp/ for the rest (each file says what it proves).
`--only NAME` runs one case.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_sipp"
SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")

# name -> (sipp arguments, global timeout in s, what it proves)
CASES = {
    "basic_call": (["-sn", "uac", "-m", "1"], 60,
                   "INVITE with SDP, 200, ACK, BYE to room 1000"),
    "invite_no_sdp": (["-sf", "invite_no_sdp.xml", "-m", "1"], 60,
                      "INVITE without SDP: the 200 carries the offer, the ACK the answer"),
    "cancel": (["-sf", "cancel.xml", "-m", "1"], 60,
               "CANCEL after the first provisional: either RFC-correct outcome of the race"),
    "reinvite_hold": (["-sf", "reinvite_hold.xml", "-m", "1"], 60,
                      "re-INVITE sendonly answered recvonly, then sendrecv answered sendrecv"),
    "options": (["-sf", "options.xml", "-m", "1"], 60,
                "OPTIONS out of dialog answered 200 with Allow, Accept and Supported"),
    "session_timer": (["-sf", "session_timer.xml", "-m", "1"], 60,
                      "Session-Expires in the 200 and in the 200 to the refreshing re-INVITE"),
    "load_udp": (["-sn", "uac", "-m", "100", "-r", "20"], 60, "100 calls at 20 calls/s over UDP"),
    "load_tcp": (["-sn", "uac", "-m", "100", "-r", "20", "-t", "t1"], 60, "100 calls at 20 calls/s over TCP"),
    # sipp retransmits every 500 ms doubling (its own T1, not chorusd's) up to 5 times for an INVITE and
    # 7 for others, so a call that loses several messages in a row needs tens of seconds: a wide bound.
    "lossy_udp": (["-sn", "uac", "-m", "100", "-r", "20", "-lost", "10"], 180,
                  "100 calls with 10% of messages dropped by sipp: retransmissions recover every call"),
}


# Cases whose server runs on sipp's own T1 (see body()).
SIPP_T1_MS = 500
SIPP_T1_CASES = {"lossy_udp"}


def run_sipp(sipp, server, name, args, timeout_s, outdir):
    """Run one sipp scenario against server; (exit code, folder with its logs)."""
    folder = os.path.join(outdir, name)
    os.makedirs(folder, exist_ok=True)
    media_lo, _ = h.free_port_range(4)
    cmd = [sipp, f"127.0.0.1:{server.sip_port}", "-s", "1000", "-i", "127.0.0.1", "-p", str(h.free_port()),
           "-mi", "127.0.0.1", "-mp", str(media_lo), "-nostdin", "-aa",
           "-timeout", f"{timeout_s}s", "-timeout_error",
           "-trace_err", "-error_file", os.path.join(folder, "errors.log"),
           "-trace_msg", "-message_file", os.path.join(folder, "messages.log"),
           "-trace_logs", "-log_file", os.path.join(folder, "logs.log")] + args
    if "-sf" in args:
        cmd[cmd.index("-sf") + 1] = os.path.join(SCENARIO_DIR, args[args.index("-sf") + 1])
    with open(os.path.join(folder, "command.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    proc = h.spawn(cmd, os.path.join(folder, "screen.log"), cwd=folder)
    try:
        code = proc.wait(timeout=timeout_s + 30)
    except subprocess.TimeoutExpired:
        h.stop_process(proc)
        code = "killed (did not end within its -timeout + 30 s)"
    return code, folder


def show(path, limit=3000):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def body(args):
    sipp = h.require_binary("sipp", "sip-tester")
    names = [args.only] if args.only else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise h.Failure(f"unknown case {unknown}; known: {', '.join(CASES)}")
    checks = h.Checks()
    fast = h.Chorusd(args.chorusd, args.output_dir).start()
    for name in names:
        sipp_args, timeout_s, what = CASES[name]
        print(f"--- {name}: {what}", flush=True)
        server = fast
        if name in SIPP_T1_CASES:
            # Under loss, sipp retransmits on its own T1 (500 ms) for up to ~20 s; a server on the
            # short test T1 would end its transactions (64*T1) first and answer the late
            # retransmission 481. RFC 3261 assumes one T1 on both sides, so this server uses sipp's.
            server = h.Chorusd(args.chorusd, args.output_dir, t1_ms=SIPP_T1_MS, name=f"chorusd-{name}").start()
        code, folder = run_sipp(sipp, server, name, sipp_args, timeout_s, args.output_dir)
        outcome = show(os.path.join(folder, "logs.log")).strip()
        if outcome:
            print("    " + outcome.replace("\n", "\n    "))
        if not checks.expect(code == 0, f"{name}: sipp exit code {code} (0 = every call succeeded)"):
            print(f"    sipp errors ({folder}/errors.log):\n{show(os.path.join(folder, 'errors.log'))}")
            print(f"    sipp screen:\n{show(os.path.join(folder, 'screen.log'), 2500)}")
        h.expect_quiescent(server, checks, name)
        if server is not fast:
            server.stop()
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help=f"run one case: {', '.join(CASES)}")
    return h.run(TEST, body, parser=parser)


if __name__ == "__main__":
    sys.exit(main())
