#!/usr/bin/env python3
"""PIN brute force (issue 12, "PINs"): a guesser on many parallel calls is locked out after the configured
number of wrong PINs across those calls, the right PIN from another source still works, and a silent caller
is hung up when PIN entry times out.

A room `pinguard` with a 6-digit PIN is made over REST (admin token). The callers are plain SIP UAs written
here (UDP, one socket per call): INVITE with a PCMU offer → 200 → ACK, digits as SIP INFO
(application/dtmf-relay "Signal=D", as Cisco/Polycom phones send them), every BYE from chorusd answered 200.
Cases (`--only NAME` runs one; each has its own chorusd):

  guesser   chorusd with --pin-max-failures 3. 20 calls from 127.0.0.1 are answered first, then each types
            one wrong PIN (000000#), the 20 guesses interleaved digit by digit so they arrive together.
            Exactly 3 guesses are checked (status pin_failures = 3, not 20), one lockout starts
            (pin_lockouts = 1) with the fail2ban log line `comp=security msg=pin_lockout room=pinguard
            source=127.0.0.1 failures=3`, and every call from 127.0.0.1 whose guess was not checked is hung up
            by chorusd (BYE) with "PIN entry refused" logged for it. A new call from 127.0.0.1 with the right
            PIN is hung up too (its digits are not checked). Then a call from 127.0.0.2 (Linux routes all of
            127/8 on lo) types the right PIN and is admitted (REST admitted true), and is not hung up.
  silent    chorusd with --pin-entry-timeout 2. A call from 127.0.0.3 types nothing: chorusd hangs it up (BYE)
            and logs "PIN entry timed out" (status pin_timeouts = 1, pin_failures = 0).
After each case chorusd returns to zero transactions, dialogs and media ports.

Without the defence (no PinGuard) the guesser's 20 guesses would all be checked (pin_failures = 20) and the
calls after the third would be re-prompted instead of hung up; without the timeout the silent call stays up.

The script re-executes itself under `unshare -n` with only loopback (so 127.0.0.2 and .3 are ours alone);
where that is not permitted it skips (77).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
from rest_client import RestClient, read_admin_token  # noqa: E402

TEST = "test_pin_guard"
ROOM, RIGHT_PIN, WRONG_PIN = "pinguard", "482915", "000000"
GUESSER, OWNER, SILENT = "127.0.0.1", "127.0.0.2", "127.0.0.3"
CALLS = 20
MAX_FAILURES = 3
ENTRY_TIMEOUT_S = 2
ANSWER_TIMEOUT_S = 10.0
RESPONSE_TIMEOUT_S = 5.0
BYE_TIMEOUT_S = 20.0  # "goodbye" is about a second; the bound is generous
STATE_TIMEOUT_S = 10.0
CASES = ("guesser", "silent")


def respond(request, code, reason):
    """A response to a request from chorusd (Via, From, To, Call-ID, CSeq copied)."""
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {v}" for v in request.all("via")]
    lines += [f"From: {request.get('from')}", f"To: {request.get('to')}", f"Call-ID: {request.call_id}",
              f"CSeq: {request.get('cseq')}", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Caller:
    """One call over its own UDP socket bound to `host`: answer, digits by INFO, chorusd's BYE answered."""

    def __init__(self, server, host, label):
        self.server_addr = ("127.0.0.1", server.sip_port)
        self.peer = h.UdpPeer(host=host)
        self.label = label
        self.ok = None
        self.cseq = 1
        self.hung_up_by_server = False
        self.call_id = h.new_token("pin-")

    def close(self):
        self.peer.close()

    def _handle_request(self, msg):
        """chorusd's own requests in the dialog: BYE ends the call; anything else is answered 200."""
        if msg.is_response or msg.method is None:
            return
        self.peer.send(respond(msg, 200, "OK"), self.server_addr)
        if msg.method == "BYE" and msg.call_id == self.call_id:
            self.hung_up_by_server = True

    def _wait_response(self, cseq, method, timeout_s):
        """The final response to our request (cseq, method), answering chorusd's requests meanwhile."""
        deadline = h.Deadline(timeout_s)
        for _ in range(1000):
            msg = self.peer.recv(deadline.remaining())
            if msg is None:
                return None
            if not msg.is_response:
                self._handle_request(msg)
            elif msg.cseq == (cseq, method) and msg.code is not None and msg.code >= 200:
                return msg
            if deadline.expired():
                return None
        return None

    def dial(self):
        """INVITE → 200 → ACK; True when answered."""
        via = f"SIP/2.0/UDP {self.peer.host}:{self.peer.port};branch={h.new_branch()};rport"
        invite = h.build_request(
            "INVITE", f"sip:{ROOM}@127.0.0.1:{self.server_addr[1]}", via=via,
            from_=f"<sip:{self.label}@{self.peer.host}>;tag={h.new_token()}", to=f"<sip:{ROOM}@127.0.0.1>",
            call_id=self.call_id, cseq=1, contact=f"<sip:{self.label}@{self.peer.host}:{self.peer.port}>",
            body=h.sdp_offer(self.peer.host, self.peer.port + 2))
        self.peer.send(invite, self.server_addr)
        final = self._wait_response(1, "INVITE", ANSWER_TIMEOUT_S)
        if final is None or final.code != 200:
            return False
        self.ok = final
        self.peer.send(h.in_dialog_request("ACK", final, self.peer, 1), self.server_addr)
        return True

    def send_digit(self, digit):
        """One INFO digit; its final status (481 once the call has ended), None when nothing came."""
        if self.ok is None or self.hung_up_by_server:
            return None
        self.cseq += 1
        via = f"SIP/2.0/UDP {self.peer.host}:{self.peer.port};branch={h.new_branch()};rport"
        info = h.build_request("INFO", self.ok.contact_uri(), via=via, from_=self.ok.get("from"), to=self.ok.get("to"),
                               call_id=self.call_id, cseq=self.cseq, body=f"Signal={digit}\r\nDuration=160\r\n".encode(),
                               content_type="application/dtmf-relay")
        self.peer.send(info, self.server_addr)
        final = self._wait_response(self.cseq, "INFO", RESPONSE_TIMEOUT_S)
        return final.code if final is not None else None

    def wait_hung_up(self, timeout_s):
        """True once chorusd's BYE for this call came (answering whatever else it sends)."""
        deadline = h.Deadline(timeout_s)
        for _ in range(1000):
            if self.hung_up_by_server:
                return True
            msg = self.peer.recv(min(0.5, deadline.remaining()))
            if msg is not None and not msg.is_response:
                self._handle_request(msg)
            if deadline.expired():
                return self.hung_up_by_server
        return self.hung_up_by_server

    def hang_up(self):
        """Our BYE, when the call is still up."""
        if self.ok is None or self.hung_up_by_server:
            return
        self.cseq += 1
        self.peer.send(h.in_dialog_request("BYE", self.ok, self.peer, self.cseq), self.server_addr)
        self._wait_response(self.cseq, "BYE", RESPONSE_TIMEOUT_S)


def start_server(args, name, extra):
    server = h.Chorusd(args.chorusd, args.output_dir, name=name, rtp_ports=2 * (CALLS + 8), extra_args=extra).start()
    rest = RestClient(server.http_port, read_admin_token(server.data_dir))
    rest.expect(201, "POST", "/v1/rooms", {"id": ROOM, "name": "PIN guard", "pin": RIGHT_PIN})
    return server, rest


def log_has(server, *words):
    return [line for line in server.log_lines() if all(w in line for w in words)]


def admitted(rest, caller):
    reply = rest.get(f"/v1/conferences/{ROOM}/participants")
    if reply.status != 200:
        return None
    for item in reply.json().get("items", []):
        if f"@{caller.peer.host}" in item.get("caller_id", "") and caller.label in item.get("caller_id", ""):
            return item.get("admitted")
    return None


def run_guesser(args, checks):
    print(f"--- guesser: {CALLS} parallel calls from {GUESSER} guess {WRONG_PIN}#, then the right PIN from {OWNER}",
          flush=True)
    server, rest = start_server(args, "chorusd-guesser",
                                ["--pin-max-failures", str(MAX_FAILURES), "--pin-entry-timeout", "300"])
    callers = [Caller(server, GUESSER, f"guesser{i}") for i in range(CALLS)]
    late = owner = None
    try:
        answered = sum(1 for c in callers if c.dial())
        if not checks.expect(answered == CALLS, f"guesser: {answered}/{CALLS} calls answered before any guess"):
            return
        for digit in WRONG_PIN + "#":  # interleaved: the 20 guesses arrive together
            for caller in callers:
                caller.send_digit(digit)
        status = h.poll_until(lambda: (lambda s: s if s.get("pin_lockouts", 0) >= 1 else None)(server.status()),
                              STATE_TIMEOUT_S, "a PIN lockout in the status line", 0.2)
        checks.expect(status.get("pin_failures") == MAX_FAILURES,
                      f"guesser: {status.get('pin_failures')} wrong PINs were checked across {CALLS} calls "
                      f"(must be {MAX_FAILURES}: the rest are refused unchecked)")
        checks.expect(status.get("pin_lockouts") == 1, f"guesser: one lockout (got {status.get('pin_lockouts')})")
        lines = log_has(server, "comp=security", "msg=pin_lockout", f"room={ROOM}", f"source={GUESSER}",
                        f"failures={MAX_FAILURES}", "until=")
        checks.expect(len(lines) == 1, f"guesser: one fail2ban line `msg=pin_lockout ... source={GUESSER}` "
                                       f"(got {len(lines)})")
        checks.expect(not log_has(server, "digit=") and not log_has(server, RIGHT_PIN),
                      "guesser: no digit and no PIN in chorusd's log")
        # Every call whose guess was not checked, and the one whose guess locked the source out, gets BYE.
        refused = callers[MAX_FAILURES - 1:]
        hung = sum(1 for c in refused if c.wait_hung_up(BYE_TIMEOUT_S))
        checks.expect(hung == len(refused), f"guesser: chorusd hung up {hung}/{len(refused)} locked-out calls")
        for caller in refused:
            if not log_has(server, "PIN entry refused", f"call_id={caller.call_id}"):
                checks.expect(False, f"guesser: no 'PIN entry refused' logged for {caller.call_id}")
                break
        # A new call from the locked-out source is refused even with the right PIN.
        late = Caller(server, GUESSER, "late")
        if checks.expect(late.dial(), "guesser: a new call from the locked-out source is answered (then told)"):
            for digit in RIGHT_PIN + "#":
                late.send_digit(digit)
            checks.expect(late.wait_hung_up(BYE_TIMEOUT_S),
                          "guesser: the locked-out source's new call is hung up, right PIN or not")
            checks.expect(not log_has(server, "PIN accepted", f"call_id={late.call_id}"),
                          "guesser: the locked-out source's right PIN was not checked")
        # The owner, from another address, still gets in with the right PIN.
        owner = Caller(server, OWNER, "owner")
        if checks.expect(owner.dial(), f"guesser: the owner's call from {OWNER} is answered"):
            for digit in RIGHT_PIN + "#":
                owner.send_digit(digit)
            try:
                h.poll_until(lambda: admitted(rest, owner) is True, STATE_TIMEOUT_S, "the owner admitted", 0.1)
                checks.expect(True, f"guesser: the right PIN from {OWNER} admits the owner during the lockout")
            except h.Failure:
                checks.expect(False, f"guesser: the owner from {OWNER} was not admitted "
                                     f"(REST admitted {admitted(rest, owner)})")
            checks.expect(not owner.hung_up_by_server, "guesser: the owner was not hung up")
    finally:
        for caller in callers + [c for c in (late, owner) if c is not None]:
            caller.hang_up()
            caller.close()
        rest.close()
    h.expect_quiescent(server, checks, "guesser")
    server.stop()


def run_silent(args, checks):
    print(f"--- silent: a caller from {SILENT} types nothing; --pin-entry-timeout {ENTRY_TIMEOUT_S}", flush=True)
    server, rest = start_server(args, "chorusd-silent", ["--pin-entry-timeout", str(ENTRY_TIMEOUT_S)])
    caller = Caller(server, SILENT, "silent")
    try:
        if not checks.expect(caller.dial(), "silent: the call is answered"):
            return
        checks.expect(caller.wait_hung_up(ENTRY_TIMEOUT_S + BYE_TIMEOUT_S),
                      "silent: chorusd hangs up the caller who never typed its PIN")
        checks.expect(bool(log_has(server, "PIN entry timed out", f"call_id={caller.call_id}")),
                      "silent: chorusd logged 'PIN entry timed out' for the call")
        status = server.status()
        checks.expect(status.get("pin_timeouts") == 1 and status.get("pin_failures") == 0,
                      f"silent: status pin_timeouts 1 and pin_failures 0 (got {status.get('pin_timeouts')}, "
                      f"{status.get('pin_failures')})")
    finally:
        caller.hang_up()
        caller.close()
        rest.close()
    h.expect_quiescent(server, checks, "silent")
    server.stop()


def body(args):
    names = [args.only] if args.only else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise h.Failure(f"unknown case {unknown}; known: {', '.join(CASES)}")
    checks = h.Checks()
    for name in names:
        {"guesser": run_guesser, "silent": run_silent}[name](args, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help=f"run one case: {', '.join(CASES)}")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "so that 127.0.0.2 and 127.0.0.3 are callers of ours")


if __name__ == "__main__":
    sys.exit(main())
