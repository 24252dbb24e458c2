#!/usr/bin/env python3
"""SIP flooding and amplification (issue 12, "Per-source limits"), attacking chorusd over loopback.

`flood`: sipp floods INVITEs from 127.0.0.3 (`-r 500`): chorusd logs `sip_source_blocked
source=127.0.0.3` once, and from then on that address gets nothing at all (an OPTIONS from it goes
unanswered), while a second caller, sipp's uac at 127.0.0.2, completes >= 99 % of its calls, is
never blocked, and chorusd counts the block (status line `sip_sources_blocked`).

`amplification`: a raw UDP socket per source (127.0.1.1 .. 127.0.1.200, so the rate limit does not
simply silence them) sends OPTIONS, REGISTER and an INVITE with SDP to an unknown room; every
datagram that comes back is counted over a bounded wait longer than 64*T1 (so any Timer G
retransmission would be seen). Per method: exactly one response per request, and response bytes /
request bytes <= 1 for OPTIONS and REGISTER, <= 3 for INVITE. Then 20 more sources (127.0.2.x)
each send one INVITE to a real room, which answers 200 with SDP and would, by RFC 3261 alone,
retransmit it ten times and end with a BYE: since none of them ever ACKs, chorusd sends each at most
3 times the bytes it received, and no BYE at all. The figures are printed.

Only 127.0.0.1 (the harness's own probes) is trusted; `--only flood|amplification` runs one case.
"""

import csv
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_sip_flood"
ATTACKER = "127.0.0.3"
CALLER = "127.0.0.2"
GOOD_CALLS = 100
GOOD_RATE = 5        # calls/s: 3 requests a call (INVITE, ACK, BYE), well under 30 messages/s
FLOOD_RATE = 500     # calls/s from the attacker
FLOOD_CALLS = 2000
SOURCES = 200        # amplification: one socket per source address
AMPLIFICATION_WAIT_S = 10.0  # > 64*T1 (6.4 s at the harness's T1 of 100 ms)
ROOM_SOURCES = 20    # amplification: forged INVITEs to a room that answers them
ROOM = "1000"


def sipp_cmd(sipp, server, local_ip, folder, args, timeout_s):
    media_lo, _ = h.free_port_range(4)
    return [sipp, f"127.0.0.1:{server.sip_port}", "-s", "1000", "-i", local_ip, "-p", str(h.free_port()),
            "-mi", local_ip, "-mp", str(media_lo), "-nostdin", "-aa", "-timeout", f"{timeout_s}s",
            "-trace_stat", "-stf", os.path.join(folder, "stats.csv"), "-fd", "1",
            "-trace_err", "-error_file", os.path.join(folder, "errors.log")] + args


def sipp_totals(folder):
    """(successful, failed) from the last line of sipp's statistics file."""
    path = os.path.join(folder, "stats.csv")
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except FileNotFoundError:
        return None
    if len(rows) < 2:
        return None
    header, last = rows[0], rows[-1]
    try:
        return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])
    except (ValueError, IndexError):
        return None


def options_from(source_ip, server_port, timeout_s):
    """The status of the answer to one OPTIONS sent from source_ip, or None when nothing comes."""
    peer = h.UdpPeer(host=source_ip)
    try:
        via = f"SIP/2.0/UDP {source_ip}:{peer.port};branch={h.new_branch()};rport"
        peer.send(h.build_request("OPTIONS", f"sip:probe@127.0.0.1:{server_port}", via=via,
                                  from_=f"<sip:probe@{source_ip}>;tag={h.new_token()}", to="<sip:probe@127.0.0.1>",
                                  call_id=h.new_token("flood-probe-"), cseq=1), ("127.0.0.1", server_port))
        deadline = h.Deadline(timeout_s)
        while not deadline.expired():
            msg = peer.recv(deadline.remaining())
            if msg is not None and msg.is_response:
                return msg.code
        return None
    finally:
        peer.close()


def blocked_lines(server, source):
    return [line for line in server.log_lines()
            if "msg=sip_source_blocked" in line and f"source={source}" in line.split("comp=security", 1)[-1]]


def case_flood(args, sipp, checks):
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-flood").start()
    flood_dir = os.path.join(args.output_dir, "flood-attacker")
    good_dir = os.path.join(args.output_dir, "flood-caller")
    os.makedirs(flood_dir, exist_ok=True)
    os.makedirs(good_dir, exist_ok=True)
    flood = h.spawn(sipp_cmd(sipp, server, ATTACKER, flood_dir,
                             ["-sn", "uac", "-r", str(FLOOD_RATE), "-m", str(FLOOD_CALLS)], 20),
                    os.path.join(flood_dir, "screen.log"), cwd=flood_dir)
    try:
        h.poll_until(lambda: blocked_lines(server, ATTACKER), 15.0,
                     f"chorusd to log sip_source_blocked for {ATTACKER}")
        print(f"    blocked: {blocked_lines(server, ATTACKER)[0]}")
        # The good caller runs while the flood is still going.
        good = h.spawn(sipp_cmd(sipp, server, CALLER, good_dir,
                                ["-sn", "uac", "-r", str(GOOD_RATE), "-m", str(GOOD_CALLS)], 60),
                       os.path.join(good_dir, "screen.log"), cwd=good_dir)
        try:
            code = good.wait(timeout=120)
        except Exception:  # noqa: BLE001 - any way it does not end is a failure, reported below
            h.stop_process(good)
            code = "killed"
    finally:
        h.stop_process(flood)
    totals = sipp_totals(good_dir)
    checks.expect(totals is not None, f"sipp at {CALLER} wrote its statistics (exit code {code})")
    if totals:
        ok, failed = totals
        rate = ok / GOOD_CALLS
        print(f"    caller {CALLER}: {ok} of {GOOD_CALLS} calls succeeded, {failed} failed, during a "
              f"{FLOOD_RATE} calls/s flood from {ATTACKER}")
        checks.expect(rate >= 0.99, f"the second caller completes >= 99 % of its calls ({ok}/{GOOD_CALLS})")
    checks.expect(len(blocked_lines(server, ATTACKER)) >= 1, f"one sip_source_blocked line for {ATTACKER}")
    checks.expect(not blocked_lines(server, CALLER), f"{CALLER} is never blocked")
    # The block lasts sip_block_seconds (60 s): the attacker gets nothing, not even a response.
    checks.expect(options_from(ATTACKER, server.sip_port, 2.0) is None,
                  f"an OPTIONS from the blocked {ATTACKER} gets no answer at all")
    checks.expect(options_from(CALLER, server.sip_port, 2.0) == 200, f"an OPTIONS from {CALLER} still gets 200")
    status = server.status()
    print(f"    counters: sip_sources_blocked={status.get('sip_sources_blocked')} "
          f"sip_blocked_messages={status.get('sip_blocked_messages')} "
          f"sip_source_call_limit_rejections={status.get('sip_source_call_limit_rejections')} "
          f"sip_stateless_responses={status.get('sip_stateless_responses')}")
    checks.expect(status.get("sip_sources_blocked", 0) >= 1, "the block is counted (sip_sources_blocked)")
    checks.expect(status.get("sip_blocked_messages", 0) > 0, "the dropped messages are counted")
    h.expect_quiescent(server, checks, "flood")
    server.stop()


def scanner_requests(index, port, server_port):
    """What a scanner sends from one source: OPTIONS, REGISTER, INVITE with SDP to an unknown room."""
    ip = f"127.0.1.{index + 1}"
    out = []
    for method, user in (("OPTIONS", "100"), ("REGISTER", "100"), ("INVITE", "no-such-room-4711")):
        via = f"SIP/2.0/UDP {ip}:{port};branch={h.new_branch()};rport"
        extra = [("User-Agent", "friendly-scanner"), ("Accept", "application/sdp")]
        if method == "REGISTER":
            extra.append(("Expires", "3600"))
        body = h.sdp_offer(ip, 40000) if method == "INVITE" else b""
        out.append((method, h.build_request(
            method, f"sip:{user}@127.0.0.1:{server_port}", via=via, from_=f"\"{user}\" <sip:{user}@{ip}>;tag={index}",
            to=f"\"{user}\" <sip:{user}@{ip}>", call_id=h.new_token("scan-"), cseq=1,
            contact=f"<sip:{user}@{ip}:{port}>", extra=extra, body=body)))
    return out


def room_invite(index, port, server_port):
    """A forged INVITE to a room that exists: the room answers it 200 with SDP."""
    ip = f"127.0.2.{index + 1}"
    via = f"SIP/2.0/UDP {ip}:{port};branch={h.new_branch()};rport"
    return h.build_request(
        "INVITE", f"sip:{ROOM}@127.0.0.1:{server_port}", via=via, from_=f"<sip:victim@{ip}>;tag=r{index}",
        to=f"<sip:{ROOM}@127.0.0.1>", call_id=h.new_token("forged-"), cseq=1, contact=f"<sip:victim@{ip}:{port}>",
        extra=[], body=h.sdp_offer(ip, 40000))


def drain(socks, received, deadline_s):
    """Reads what comes back until 50 ms pass with nothing pending, or deadline_s; counts datagrams
    and bytes per CSeq method into `received`. Returns how many were not responses of ours."""
    strays = 0
    deadline = h.Deadline(deadline_s)
    while not deadline.expired():
        ready, _, _ = select.select(socks, [], [], min(0.05, deadline.remaining()))
        if not ready:
            return strays
        for sock in ready:
            data, _ = sock.recvfrom(65535)
            msg = h.parse_sip(data)
            method = msg.cseq[1] if msg is not None and msg.cseq else None
            if method in received:
                received[method][0] += 1
                received[method][1] += len(data)
            else:
                strays += 1
    return strays


def case_amplification(args, checks):
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-amplification").start()
    sent = {m: [0, 0] for m in ("OPTIONS", "REGISTER", "INVITE")}      # requests, bytes
    received = {m: [0, 0] for m in ("OPTIONS", "REGISTER", "INVITE")}  # datagrams, bytes
    socks = []
    strays = 0
    room_sent, room_received, room_socks, room_strays = [0, 0], {"INVITE": [0, 0]}, [], 0
    try:
        for i in range(SOURCES):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((f"127.0.1.{i + 1}", 0))
            socks.append(sock)
            for method, data in scanner_requests(i, sock.getsockname()[1], server.sip_port):
                sock.sendto(data, ("127.0.0.1", server.sip_port))
                sent[method][0] += 1
                sent[method][1] += len(data)
            # A source at a time, so the kernel's socket buffers (not chorusd) never drop a request;
            # the answers are read as they come (the wait ends at the first 50 ms of silence).
            strays += drain(socks, received, 2.0)
        for i in range(ROOM_SOURCES):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((f"127.0.2.{i + 1}", 0))
            room_socks.append(sock)
            data = room_invite(i, sock.getsockname()[1], server.sip_port)
            sock.sendto(data, ("127.0.0.1", server.sip_port))
            room_sent[0] += 1
            room_sent[1] += len(data)
            room_strays += drain(room_socks, room_received, 2.0)
        # Then long enough for any retransmission timer (Timer G/J, the 2xx's, 64*T1) to show itself,
        # and for the unACKed calls to end (a BYE would be a stray here).
        deadline = h.Deadline(AMPLIFICATION_WAIT_S)
        while not deadline.expired():
            strays += drain(socks, received, deadline.remaining())
            room_strays += drain(room_socks, room_received, deadline.remaining())
            time.sleep(min(0.2, max(0.0, deadline.remaining())))
    finally:
        for sock in socks + room_socks:
            sock.close()
    print(f"    {'method':9} {'requests':>8} {'bytes in':>9} {'responses':>9} {'bytes out':>9} {'factor':>6}")
    for method, bound in (("OPTIONS", 1.0), ("REGISTER", 1.0), ("INVITE", 3.0)):
        requests, bytes_in = sent[method]
        responses, bytes_out = received[method]
        factor = bytes_out / bytes_in if bytes_in else 0.0
        print(f"    {method:9} {requests:8} {bytes_in:9} {responses:9} {bytes_out:9} {factor:6.2f}")
        checks.expect(responses == requests,
                      f"{method}: one response per request, no retransmission ({responses} for {requests})")
        checks.expect(factor <= bound, f"{method}: amplification {factor:.2f} <= {bound}")
    checks.expect(strays == 0, f"no datagram that is not a response to one of ours ({strays})")
    (requests, bytes_in), (responses, bytes_out) = room_sent, room_received["INVITE"]
    factor = bytes_out / bytes_in if bytes_in else 0.0
    print(f"    {'INVITE (room ' + ROOM + ', answered 200, never ACKed)':9} {requests:8} {bytes_in:9} {responses:9} "
          f"{bytes_out:9} {factor:6.2f}")
    checks.expect(responses >= requests, f"INVITE to room {ROOM}: each answered ({responses} for {requests})")
    checks.expect(factor <= 3.0, f"INVITE to room {ROOM}: amplification {factor:.2f} <= 3 (2xx budget)")
    checks.expect(room_strays == 0, f"INVITE to room {ROOM}: no BYE or other request to the forged sources "
                                    f"({room_strays})")
    h.expect_quiescent(server, checks, "amplification")
    checks.expect((server.last_status or {}).get("sip_2xx_retransmissions_withheld", 0) > 0,
                  "the withheld 2xx copies are counted (sip_2xx_retransmissions_withheld)")
    server.stop()


def body(args):
    checks = h.Checks()
    cases = [args.only] if args.only else ["flood", "amplification"]
    for name in cases:
        if name == "flood":
            sipp = h.require_binary("sipp", "sip-tester")
            print(f"--- flood: sipp -r {FLOOD_RATE} from {ATTACKER}; a caller at {CALLER} keeps calling", flush=True)
            case_flood(args, sipp, checks)
        elif name == "amplification":
            print(f"--- amplification: OPTIONS, REGISTER, INVITE (unknown room) from {SOURCES} sources; "
                  f"INVITE to room {ROOM} from {ROOM_SOURCES}", flush=True)
            case_amplification(args, checks)
        else:
            raise h.Failure(f"unknown case {name}; known: flood, amplification")
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help="run one case: flood, amplification")
    return h.run(TEST, body, parser=parser)


if __name__ == "__main__":
    sys.exit(main())
