#!/usr/bin/env python3
"""SIP over WebSocket (RFC 7118) against a running chorusd (`--ws-port`), with a minimal RFC 6455 client
written here from the standard library (ws_peer.py), as a browser running JsSIP would speak it.

Cases, in order:
  call        one WebSocket connection, upgraded with subprotocol `sip` and the Origin of chorusd's own
              page (http://127.0.0.1:<http_port>, allowed by default): OPTIONS -> 200; INVITE to the echo
              room sip:9196@127.0.0.1 with an audio-only RTP/AVP PCMU offer -> 200 with an SDP answer
              (m=audio inside --rtp-ports, Contact ;transport=ws) -> ACK -> BYE -> 200, every request
              with a `.invalid` Via host (RFC 7118 §5.2), every answer over the same connection.
  attacks     garbage bytes instead of HTTP: closed, never a 101; a TCP connection that never
              upgrades: closed by the handshake deadline (10 s); subprotocol `chat`, and none: 400;
              a foreign Origin: 403; plain HTTP GET: 426; a 70 KiB frame after a good upgrade: close
              frame 1009 (RFC 6455 §7.4.1). chorusd logs each refusal by reason.
  after       chorusd still answers OPTIONS over WebSocket, then shows no connections, transactions,
              dialogs or media ports.
  wss         a second chorusd with --tls-cert/--tls-key (a self-signed certificate for IP 127.0.0.1
              made with the openssl CLI; the case is left out, and says so, where openssl is missing)
              and --wss-port: a client verifying that certificate upgrades over TLS and gets 200 to
              OPTIONS with Via SIP/2.0/WSS.
"""

import os
import shutil
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
from ws_peer import WsPeer, read_http_answer, wait_closed  # noqa: E402

TEST = "test_sip_websocket"
ANSWER_TIMEOUT_S = 10.0
HANDSHAKE_DEADLINE_S = 10.0  # sip::TransportConfig::handshake_timeout's default
TOO_BIG = 70 * 1024          # over the 64 KiB WebSocket message limit


def via(peer):
    return f"SIP/2.0/WS {peer.host};branch={h.new_branch()}"


def own_origin(server):
    return f"http://127.0.0.1:{server.http_port}"


def options(peer, server):
    return h.build_request("OPTIONS", f"sip:127.0.0.1:{server.ws_port};transport=ws", via=via(peer),
                           from_=f"<sip:probe@{peer.host}>;tag={h.new_token()}", to="<sip:127.0.0.1>",
                           call_id=h.new_token("ws-probe-"), cseq=1, extra=[("Accept", "application/sdp")])


def options_status(peer, server):
    request = options(peer, server)
    call_id = h.parse_sip(request).call_id
    peer.send_text(request)
    final, _ = h.wait_final(peer, ANSWER_TIMEOUT_S, lambda m: m.call_id == call_id)
    return final.code if final else None


def in_dialog(method, ok, peer, cseq):
    return h.build_request(method, ok.contact_uri(), via=via(peer), from_=ok.get("from"), to=ok.get("to"),
                           call_id=ok.call_id, cseq=cseq)


def call(server, checks):
    peer = WsPeer.connect(server.ws_port, origin=own_origin(server))
    try:
        answer = peer.handshake
        checks.expect(peer.upgraded and answer.headers.get("sec-websocket-protocol") == "sip",
                      f"call: upgraded with subprotocol sip (got {answer.status if answer else 'nothing'}, "
                      f"{answer.headers.get('sec-websocket-protocol') if answer else ''})")
        if not peer.upgraded:
            return
        checks.expect(options_status(peer, server) == 200, "call: OPTIONS over WebSocket -> 200")

        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a real port for the offer; never read
        rtp.bind(("127.0.0.1", 0))
        try:
            call_id, tag = h.new_token("ws-call-"), h.new_token()
            invite = h.build_request("INVITE", "sip:9196@127.0.0.1", via=via(peer),
                                     from_=f"<sip:tester@{peer.host}>;tag={tag}", to="<sip:9196@127.0.0.1>",
                                     call_id=call_id, cseq=1, contact=f"<sip:tester@{peer.host};transport=ws>",
                                     body=h.sdp_offer("127.0.0.1", rtp.getsockname()[1]))
            peer.send_text(invite)
            ok, _ = h.wait_final(peer, ANSWER_TIMEOUT_S, lambda m: m.call_id == call_id)
            checks.expect(ok is not None and ok.code == 200,
                          f"call: INVITE to the echo room -> 200 (got {ok.summary() if ok else 'nothing'})")
            if ok is None or ok.code != 200:
                return
            port = h.sdp_audio_port(ok.body)
            checks.expect(port is not None and server.rtp_lo <= port <= server.rtp_hi,
                          f"call: the 200 carries an SDP answer with m=audio inside --rtp-ports (port {port})")
            checks.expect(";transport=ws" in (ok.get("contact") or "").lower(),
                          f"call: the 200's Contact names transport=ws ({ok.get('contact')})")
            peer.send_text(in_dialog("ACK", ok, peer, 1))
            peer.send_text(in_dialog("BYE", ok, peer, 2))
            bye, _ = h.wait_final(peer, ANSWER_TIMEOUT_S, lambda m: m.call_id == call_id and m.cseq == (2, "BYE"))
            checks.expect(bye is not None and bye.code == 200,
                          f"call: BYE -> 200 over the same connection (got {bye.summary() if bye else 'nothing'})")
        finally:
            rtp.close()
    finally:
        peer.close()


def refused_upgrade(server, checks, label, expected_status, **connect):
    peer = WsPeer.connect(server.ws_port, **connect)
    answer = peer.handshake
    got = answer.status if answer else None
    closed = wait_closed(peer.sock, 5.0)
    peer.sock.close()
    checks.expect(got == expected_status and closed,
                  f"attacks: {label} -> {expected_status} and closed (got {got}, closed {closed})")


def attacks(server, checks):
    silent = socket.create_connection(("127.0.0.1", server.ws_port), timeout=5)  # never upgrades
    silent_deadline = h.Deadline(HANDSHAKE_DEADLINE_S + 5.0)

    garbage = socket.create_connection(("127.0.0.1", server.ws_port), timeout=5)
    garbage.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n")
    answer, _ = read_http_answer(garbage, 5.0)
    closed = answer is None and wait_closed(garbage, 5.0)
    garbage.close()
    checks.expect(closed, f"attacks: garbage bytes -> closed without an upgrade "
                          f"(answer {answer.status if answer else None})")

    refused_upgrade(server, checks, "subprotocol chat", 400, subprotocol="chat", origin=own_origin(server))
    refused_upgrade(server, checks, "no subprotocol", 400, subprotocol=None)
    refused_upgrade(server, checks, "a foreign Origin", 403, origin="https://evil.example.net")

    plain = socket.create_connection(("127.0.0.1", server.ws_port), timeout=5)
    plain.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.ws_port}\r\n\r\n".encode())
    answer, _ = read_http_answer(plain, 5.0)
    closed = wait_closed(plain, 5.0)
    plain.close()
    checks.expect(answer is not None and answer.status == 426 and closed,
                  f"attacks: plain HTTP GET -> 426 and closed (got {answer.status if answer else None})")

    big = WsPeer.connect(server.ws_port)
    if checks.expect(big.upgraded, "attacks: a client without Origin (a SIP UA) is upgraded"):
        body = b"x" * TOO_BIG
        request = h.build_request("MESSAGE", "sip:9196@127.0.0.1", via=via(big), from_=f"<sip:a@{big.host}>;tag=1",
                                  to="<sip:9196@127.0.0.1>", call_id=h.new_token(), cseq=1, body=body,
                                  content_type="text/plain")
        big.send_text(request)
        message = big.recv_message(ANSWER_TIMEOUT_S)
        checks.expect(message is None and big.close_code == 1009,
                      f"attacks: a 70 KiB frame -> close code 1009 (got {big.close_code}, message {message})")
    big.sock.close()

    closed = wait_closed(silent, silent_deadline.remaining())
    silent.close()
    checks.expect(closed, f"attacks: a connection that never upgrades is closed within "
                          f"{HANDSHAKE_DEADLINE_S + 5.0:.0f} s")

    # The socket closes a moment before the drop is logged: poll for the lines.
    for reason in ("ws_not_http", "ws_no_sip_subprotocol", "ws_origin_refused", "ws_not_upgrade",
                   "ws_message_too_big", "ws_handshake_timeout"):
        try:
            h.poll_until(lambda: any(f"reason={reason}" in line for line in server.log_lines()), 5.0,
                         f"reason={reason} in chorusd's log")
            checks.expect(True, f"attacks: chorusd logs the refusal reason={reason}")
        except h.Failure as e:
            checks.expect(False, f"attacks: {e}")


def after(server, checks):
    peer = WsPeer.connect(server.ws_port, origin=own_origin(server))
    try:
        checks.expect(peer.upgraded and options_status(peer, server) == 200,
                      "after: chorusd still answers OPTIONS over WebSocket")
    finally:
        peer.close()
    try:
        status = h.poll_until(lambda: (lambda s: s if s.get("connections") == 0 else None)(server.status()),
                              10.0, "no connections left")
        checks.expect(True, f"after: no connections left ({status.get('connections')})")
    except h.Failure as e:
        checks.expect(False, f"after: {e}; last status {server.last_status}")
    h.expect_quiescent(server, checks, "after")


def self_signed_certificate(folder):
    """(cert.pem, key.pem) for IP 127.0.0.1, or None without the openssl CLI."""
    if not shutil.which("openssl"):
        return None
    cert, key = os.path.join(folder, "wss-cert.pem"), os.path.join(folder, "wss-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def wss(args, checks):
    pair = self_signed_certificate(args.output_dir)
    if pair is None:
        print("  note wss: not run, the openssl CLI is missing (Debian package openssl)")
        return
    cert, key = pair
    wss_port = h.free_port(udp=False)
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-wss",
                       extra_args=["--tls-cert", cert, "--tls-key", key, "--wss-port", str(wss_port)]).start()
    h.poll_until(lambda: h.can_connect(wss_port), 10, f"the WSS listener on port {wss_port}")
    context = ssl.create_default_context(cafile=cert)  # check_hostname on: the SAN must be 127.0.0.1
    peer = WsPeer.connect(wss_port, tls_context=context)
    try:
        request = h.build_request("OPTIONS", f"sip:127.0.0.1:{wss_port};transport=wss",
                                  via=f"SIP/2.0/WSS {peer.host};branch={h.new_branch()}",
                                  from_=f"<sip:probe@{peer.host}>;tag={h.new_token()}", to="<sip:127.0.0.1>",
                                  call_id=h.new_token("wss-"), cseq=1)
        if peer.upgraded:
            peer.send_text(request)
        final, _ = h.wait_final(peer, ANSWER_TIMEOUT_S) if peer.upgraded else (None, [])
        checks.expect(final is not None and final.code == 200 and "SIP/2.0/WSS" in (final.top_via() or ""),
                      f"wss: a verifying client upgrades over TLS and OPTIONS -> 200 "
                      f"(got {final.summary() if final else 'nothing'})")
    finally:
        peer.close()
    h.expect_quiescent(server, checks, "wss")
    h.expect_clean_stop(server, checks)


def body(args):
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    h.poll_until(lambda: h.can_connect(server.ws_port), 10, f"the WebSocket listener on port {server.ws_port}")
    call(server, checks)
    attacks(server, checks)
    after(server, checks)
    h.expect_clean_stop(server, checks)
    wss(args, checks)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
