#!/usr/bin/env python3
"""RFC 4475 / RFC 5118 torture messages against a running chorusd, over UDP and over TCP.

Every file of <shared>/conformance/EXPECTED.tsv is sent as it is: over UDP as one datagram from a socket
bound at the port its top Via names (5060 when none; RFC 3261 §18.2.2 sends the answer there), and over
TCP on a connection of its own (the answer is read on that connection; an answer that arrives over UDP
at the Via port instead is accepted and marked). The final response must meet the expectation; after
every file an OPTIONS probe must still get 200. INVITEs that were accepted are ACKed and BYEd; failed
ones get their ACK. The messages name foreign hosts, so the test runs in a network namespace that has
only loopback (it re-executes itself under `unshare -n`).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_conformance"
TCP_IDLE_TIMEOUT_S = 3
FINAL_TIMEOUT_S = 5.0
DROP_WAIT_S = 2.0
TRAILING_WAIT_S = 1.0
SLICE_S = 0.05


class Case:
    def __init__(self, rel, expect, why, data):
        self.rel, self.expect, self.why, self.data = rel, expect, why, data
        self.messages = split_file(data)
        self.main = h.parse_sip(self.messages[0]) if self.messages else None


def split_file(data):
    """The messages a file holds, framed as a stream would be (dblreq.dat holds two)."""
    messages, rest = [], data
    for _ in range(10):
        frame, rest = h.split_stream(rest)
        if frame is None:
            if rest.strip(b"\r\n"):
                messages.append(rest.lstrip(b"\r\n"))
            break
        messages.append(frame)
        if not rest.strip(b"\r\n"):
            break
    return messages or [data]


def load_cases(conformance_dir):
    cases = []
    with open(os.path.join(conformance_dir, "EXPECTED.tsv"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            rel, expect, why = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            with open(os.path.join(conformance_dir, rel), "rb") as msg:
                cases.append(Case(rel, expect.strip(), why, msg.read()))
    return cases


def via_port(msg):
    """The sent-by port of the top Via (RFC 3261 §18.2.2), 5060 when it has none or cannot be read."""
    via = msg.top_via() if msg else None
    if not via:
        return 5060
    m = re.match(r"\s*SIP\s*/\s*[^/\s]+\s*/\s*\S+\s+([^;,]+)", via)
    sent_by = m.group(1).strip() if m else ""
    m = re.match(r"(\[[^\]]*\]|[^:\s]+)\s*(?::\s*(\d+))?", sent_by)
    port = int(m.group(2)) if m and m.group(2) else 5060
    return port if 0 < port < 65536 else 5060


def transaction_keys(msg):
    """Keys under which the server may take this message for a retransmission of an earlier one."""
    if msg is None or msg.is_response:
        return set()
    via = msg.top_via() or ""
    branch = re.search(r"branch\s*=\s*([^;,\s]+)", via)
    method = msg.cseq[1] if msg.cseq else msg.method
    method = "INVITE" if method == "ACK" else method
    return {("txn", branch.group(1) if branch else "", via_port(msg), method), ("cseq", msg.call_id, msg.cseq)}


def fixed_content_length(case):
    """RFC 5118's errata: some of its messages carry a wrong Content-Length; over a stream that would eat
    or leave bytes, so the TCP pass sends those with the length of the body they really have."""
    if not case.rel.startswith("rfc5118/") or case.main is None:
        return case.data, ""
    length = h.content_length(case.main)
    end = case.data.find(b"\r\n\r\n")
    body = case.data[end + 4:]
    if length is None or length == len(body):
        return case.data, ""
    head = re.sub(rb"(?im)^(content-length|l)([ \t]*:[ \t]*)-?\d+", lambda m: m.group(1) + m.group(2) +
                  str(len(body)).encode(), case.data[:end + 4], count=1)
    return head + body, f"Content-Length {length} -> {len(body)} (RFC 5118 errata)"


class Channel:
    """The primary peer the file went out on, plus (for TCP) a UDP socket at the Via port to notice an
    answer sent there instead."""

    def __init__(self, primary, fallback=None):
        self.peers = [(primary, "")] + ([(fallback, " (over UDP)")] if fallback else [])
        self.primary = primary

    def next(self, timeout_s):
        deadline = h.Deadline(timeout_s)
        for _ in range(int(timeout_s / SLICE_S) + 2):
            for peer, label in self.peers:
                msg = peer.recv(0.001)
                if msg is not None:
                    return msg, peer, label
            if deadline.expired() or getattr(self.primary, "closed", False):
                break
            time.sleep(min(SLICE_S, deadline.remaining()))
        return None, None, ""

    def close(self):
        for peer, _ in self.peers:
            peer.close()


class Runner:
    def __init__(self, server):
        self.server = server
        self.addr = ("127.0.0.1", server.sip_port)
        self.requests = {}  # Call-ID -> request, to ACK any INVITE final that arrives
        self.notes = []

    def answer_invite_final(self, final, peer):
        """ACK (and BYE after a 2xx) any final to an INVITE we sent, so nothing is left behind."""
        if not final.cseq or final.cseq[1] != "INVITE":
            return ""
        if 200 <= final.code < 300:
            bye = h.ack_and_bye(peer, self.addr, final)
            return "" if bye is not None and bye.code in (200, 481) else \
                f"BYE after 200 got {bye.code if bye else 'nothing'}"
        invite = self.requests.get(final.call_id)
        if invite is not None and invite.method == "INVITE":
            peer.send(h.ack_for_failure(invite, final), self.addr)
        return ""

    def exchange(self, case, transport, channel):
        """Send the file, wait for the outcome; (got, ok, note)."""
        main = case.main
        if case.expect == "drop":
            msg, _, label = channel.next(DROP_WAIT_S)
            return ("nothing", True, "") if msg is None else (msg.summary() + label, False, "")

        def ours(m):
            return m.call_id is None or main is None or main.call_id is None or m.call_id == main.call_id
        deadline = h.Deadline(FINAL_TIMEOUT_S + (TCP_IDLE_TIMEOUT_S + 10 if case.rel.endswith("clerr.dat") else 0))
        final, note = None, ""
        for _ in range(100):
            msg, peer, label = channel.next(deadline.remaining())
            if msg is None:
                break
            if msg.is_response and msg.code and msg.code >= 200:
                note = self.answer_invite_final(msg, peer) or note
                if ours(msg):
                    final = (msg, label)
                    break
        if final is None:
            closed = transport == "TCP" and channel.primary.closed
            got = "closed" if closed else "none"
            return got, judge(case, transport, None, closed), note
        msg, label = final
        return f"{msg.code}{label}", judge(case, transport, msg.code, False), note

    def drain_trailing(self, case, transport, channel):
        """dblreq.dat: over UDP the octets after the first message MUST be discarded (RFC 3261 §18.3);
        over TCP they are a second request whose answer must be ACKed."""
        if len(case.messages) < 2:
            return ""
        extra = ""
        deadline = h.Deadline(TRAILING_WAIT_S)
        for _ in range(20):
            msg, peer, _ = channel.next(deadline.remaining())
            if msg is None:
                break
            if msg.is_response and msg.code and msg.code >= 200 and msg.call_id != case.main.call_id:
                self.answer_invite_final(msg, peer)
                if transport == "UDP":
                    extra = f"answered the octets after the first message with {msg.code}"
        return extra

    def run_case(self, case, transport):
        for raw in case.messages:
            msg = h.parse_sip(raw)
            if msg is not None and msg.call_id:
                self.requests.setdefault(msg.call_id, msg)
        if case.main is not None and case.main.call_id:
            self.requests[case.main.call_id] = case.main
        port = via_port(case.main)
        data, note = (case.data, "") if transport == "UDP" else fixed_content_length(case)
        try:
            listener = h.UdpPeer(port)
        except OSError as e:
            return "harness", False, f"cannot bind UDP 127.0.0.1:{port}: {e}"
        try:
            if transport == "UDP":
                channel = Channel(listener)
                listener.send(data, self.addr)
            else:
                channel = Channel(h.StreamPeer.connect(self.server.sip_port), listener)
                channel.primary.send(data)
        except OSError as e:
            listener.close()
            return "send failed", False, str(e)
        try:
            got, ok, exchange_note = self.exchange(case, transport, channel)
            trailing = self.drain_trailing(case, transport, channel)
        finally:
            channel.close()
        if trailing:
            ok = False
        return got, ok, "; ".join(n for n in (note, exchange_note, trailing) if n)


def expectation(case, transport):
    """EXPECTED.tsv's outcome, except that over a stream a message without Content-Length is malformed
    (RFC 3261 §18.3, §20.14: stream transports MUST carry it), so 400 is allowed there too."""
    if transport != "UDP" and case.main is not None and not case.main.all("content-length") \
            and case.expect != "drop":
        return "either"
    return case.expect


def judge(case, transport, code, closed):
    expect = expectation(case, transport)
    if expect == "either":
        return True
    if case.rel.endswith("clerr.dat") and closed:
        return True  # over TCP the server waits for the rest of the body, then closes the idle connection
    if code is None:
        return False
    if expect == "not-400":
        return code != 400
    return str(code) in expect.split("|")


def run_pass(runner, cases, transport, rows, checks):
    server = runner.server
    seen = set()
    for case in cases:
        keys = transaction_keys(case.main)
        if keys & seen:
            # Same branch/sent-by/method or Call-ID/CSeq as an earlier file: the server would rightly take
            # it for a retransmission. Let the earlier transactions end first (RFC 3261 §17.2.3).
            settle(server, checks, f"before {case.rel} over {transport}")
            seen.clear()
        seen |= keys
        got, ok, note = runner.run_case(case, transport)
        probe = h.options_probe(server.sip_port, transport)
        expect = expectation(case, transport)
        if expect != case.expect:
            note = "; ".join(n for n in (note, "no Content-Length on a stream: 400 allowed") if n)
        rows.append((case.rel, transport, expect, got, "ok" if ok else "FAIL", note))
        checks.expect(ok, f"{case.rel} over {transport}: expected {expect}, got {got}"
                      + (f" ({note})" if note else ""))
        if not checks.expect(probe == 200, f"OPTIONS probe after {case.rel} over {transport} got {probe}"):
            if not server.alive():
                raise h.Failure(f"chorusd died after {case.rel} over {transport}:\n{server.tail()}")


def settle(server, checks, when):
    try:
        server.wait_quiescent()
    except h.Failure as e:
        checks.expect(False, f"{when}: {e}")


def print_table(rows):
    widths = [max(len(str(r[i])) for r in rows + [("file", "transport", "expected", "got", "", "")])
              for i in range(5)]
    header = ("file", "transport", "expected", "got", "verdict", "note")
    for row in [header] + rows:
        print("  ".join(str(v).ljust(widths[i]) if i < 5 else str(v) for i, v in enumerate(row)).rstrip())


def body(args):
    conformance = h.require_shared(args.shared_dir, "conformance", "EXPECTED.tsv")
    cases = load_cases(os.path.dirname(conformance))
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir,
                       extra_args=["--tcp-idle-timeout", str(TCP_IDLE_TIMEOUT_S)]).start()
    runner = Runner(server)
    rows = []
    for transport in ("UDP", "TCP"):
        print(f"--- {transport} pass ({len(cases)} files)", flush=True)
        run_pass(runner, cases, transport, rows, checks)
        settle(server, checks, f"after the {transport} pass")
    print_table(rows)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "to isolate the torture messages")


if __name__ == "__main__":
    sys.exit(main())
