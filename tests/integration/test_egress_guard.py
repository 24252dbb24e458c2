#!/usr/bin/env python3
"""Issue 12, egress: what chorusd reaches out to, and bounded events — attacked on a real chorusd.

Runs in a loopback-only network namespace (unshare -n) where 198.51.100.7 (TEST-NET-2) and the
host's DNS server address are put on lo, so every address the test uses is local and nothing leaves.
chorusd runs with --dial-out-allow "127.0.0.5,slow.invalid" and webhooks to private addresses NOT
allowed (the harness allows both for other tests).

- Allow-list: dial-out to 198.51.100.7 (not listed) and to 127.0.0.1 / 127.0.0.2 (loopback, not
  listed) get 403 problem+json type egress-refused naming the reason, and a UDP listener on each
  target counts zero datagrams. 127.0.0.5, listed explicitly, gets 202 and its listener receives
  the INVITE (unanswered: Timer B ends it, 408): listing is what opens loopback, and the listeners
  do hear chorusd.
- Scope: an API key with conferences:moderate only gets 403 insufficient_scope; calls:dial_out may.
- DNS off the control loop: "slow.invalid" is looked up through the host's resolv.conf server
  address, where a silent UDP socket reads the query and never answers. The POST answers 202 at
  once; while the lookup is pending (the query was read, no participant.dial_failed yet) /healthz
  answers 200 and a SIP OPTIONS answers 200; then the dial fails with participant.dial_failed
  (504, no DNS answer within --dial-out-dns-timeout).
- Webhooks: http://127.0.0.1:PORT/ and http://10.1.2.3/ are refused 403 egress-refused at
  registration; http://192.0.2.10/ (public) is accepted.
- Bounded events: a caller whose From display name is 1,000 bytes joins room 1000;
  participant.joined carries a display_name of at most 128 bytes ending in "…".
Each part fails without its defence (checked by disabling it once).
"""

import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

TEST = "test_egress_guard"
OUTSIDE_IP = "198.51.100.7"  # TEST-NET-2 (RFC 5737), put on lo in the namespace
ALLOWED_LOOPBACK = "127.0.0.5"
DNS_TIMEOUT_MS = 3000
ROOM = "1000"


def resolver_addresses():
    """IPv4 nameservers of /etc/resolv.conf (glibc's default is 127.0.0.1 when none is listed)."""
    servers = []
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    servers.append(parts[1])
    except OSError:
        pass
    return servers or ["127.0.0.1"]


class UdpCounter:
    """A UDP socket that counts what it receives and never answers."""

    def __init__(self, host, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()
        self.received = []
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stopped:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.received.append(data)

    def count(self):
        with self.lock:
            return len(self.received)

    def first_lines(self):
        with self.lock:
            return [d.split(b"\r\n", 1)[0].decode("latin-1") for d in self.received]

    def stop(self):
        self.stopped = True
        self.thread.join(timeout=2)
        self.sock.close()


def dial(api, target, token=...):
    return api.post(f"/v1/conferences/{ROOM}/participants", {"to": target}, token=token)


def events_of(stream, kind):
    out = []
    for e in stream.snapshot():
        if e.get("event") == kind:
            try:
                out.append(json.loads(e["data"])["data"])
            except (ValueError, KeyError):
                pass
    return out


def allow_list(server, api, checks):
    targets = {
        "outside": UdpCounter(OUTSIDE_IP),
        "loopback": UdpCounter("127.0.0.1"),
        "loopback2": UdpCounter("127.0.0.2"),
    }
    listed = UdpCounter(ALLOWED_LOOPBACK)
    try:
        for name, listener in targets.items():
            reply = dial(api, f"sip:victim@{listener.host}:{listener.port}")
            body = reply.json() if reply.content_type.startswith("application/problem+json") else {}
            checks.expect(reply.status == 403 and body.get("type", "").endswith("/egress-refused"),
                          f"dial-out to {listener.host} ({name}) is 403 egress-refused: {reply.describe()}")
            checks.expect(listener.host in body.get("detail", ""),
                          f"the 403 names the reason: {body.get('detail')!r}")
        reply = dial(api, f"sip:callee@{ALLOWED_LOOPBACK}:{listed.port}")
        checks.expect(reply.status == 202, f"dial-out to {ALLOWED_LOOPBACK}, listed explicitly, is 202: {reply.describe()}")
        h.poll_until(lambda: listed.count() > 0, 10, f"the INVITE at {ALLOWED_LOOPBACK}")
        # The refused targets had all this time to receive something: they got nothing.
        for name, listener in targets.items():
            checks.expect(listener.count() == 0,
                          f"no datagram reached {listener.host}:{listener.port} ({name}): {listener.first_lines()}")
        checks.expect(any(line.startswith("INVITE ") for line in listed.first_lines()),
                      f"the listed target received the INVITE: {listed.first_lines()[:3]}")
    finally:
        for listener in list(targets.values()) + [listed]:
            listener.stop()


def scopes(server, api, checks):
    moderator = api.post("/v1/api-keys", {"name": "moderator", "scopes": ["conferences:moderate"]})
    dialer = api.post("/v1/api-keys", {"name": "dialer", "scopes": ["calls:dial_out"]})
    if not checks.expect(moderator.status == 201 and dialer.status == 201,
                         f"API keys created: {moderator.describe()} / {dialer.describe()}"):
        return
    listed = UdpCounter(ALLOWED_LOOPBACK)
    try:
        target = f"sip:callee@{ALLOWED_LOOPBACK}:{listed.port}"
        reply = dial(api, target, token=moderator.json()["token"])
        checks.expect(reply.status == 403 and "insufficient_scope" in (reply.header("www-authenticate") or ""),
                      f"conferences:moderate alone cannot dial out (403 insufficient_scope): {reply.describe()}")
        reply = dial(api, target, token=dialer.json()["token"])
        checks.expect(reply.status == 202, f"calls:dial_out may: {reply.describe()}")
        h.poll_until(lambda: listed.count() > 0, 10, "the INVITE of the calls:dial_out key's dial")
    finally:
        listed.stop()


def slow_dns(server, api, stream, dns_servers, checks):
    silent = [UdpCounter(ip, 53) for ip in dns_servers]
    try:
        reply = dial(api, "sip:callee@slow.invalid")
        checks.expect(reply.status == 202, f"dial-out to a name answers 202 before any DNS answer: {reply.describe()}")
        h.poll_until(lambda: sum(s.count() for s in silent) > 0, 10, "the DNS query at the silent server")
        # The lookup is pending now. Both must answer before it ends (no dial_failed yet).
        api_probe = rc.RestClient(server.http_port, token=None, timeout_s=30)
        health = api_probe.get("/healthz", token=None)
        api_probe.close()
        options = h.options_probe(server.sip_port, "UDP", timeout_s=30)
        failed_meanwhile = events_of(stream, "participant.dial_failed")
        checks.expect(health.status == 200, f"/healthz answers during the lookup: {health.status}")
        checks.expect(options == 200, f"SIP OPTIONS answers 200 during the lookup: {options}")
        checks.expect(not failed_meanwhile,
                      f"... and both answered while the lookup was still pending: {failed_meanwhile}")

        def failed():
            return [e for e in events_of(stream, "participant.dial_failed") if e.get("to") == "sip:callee@slow.invalid"]
        h.poll_until(failed, 30, "participant.dial_failed for sip:callee@slow.invalid")
        event = failed()[0]
        checks.expect(event.get("status") == 504,
                      f"the dial fails 504 (no DNS answer in time): {event.get('status')} {event.get('reason')!r}")
    finally:
        for s in silent:
            s.stop()


def webhooks(server, api, checks):
    receiver = rc.WebhookReceiver()
    try:
        for url in (receiver.url, "http://10.1.2.3/hook", "http://[::1]:8081/hook", "http://169.254.169.254/"):
            reply = api.post("/v1/webhooks", {"url": url, "event_types": ["*"]})
            body = reply.json() if reply.content_type.startswith("application/problem+json") else {}
            checks.expect(reply.status == 403 and body.get("type", "").endswith("/egress-refused"),
                          f"webhook at {url} refused 403 egress-refused: {reply.describe()}")
        reply = api.post("/v1/webhooks", {"url": "http://192.0.2.10/hook", "event_types": ["room.updated"]})
        checks.expect(reply.status == 201, f"a webhook at a public address is accepted: {reply.describe()}")
        if reply.status == 201:
            api.delete(f"/v1/webhooks/{reply.json()['id']}")
        checks.expect(not receiver.snapshot(), "the private receiver got nothing")
    finally:
        receiver.stop()


def long_display_name(server, stream, checks):
    peer = h.UdpPeer()
    name = "A" * 600 + "\u00e9" * 200  # 1,000 bytes of UTF-8
    try:
        call_id = h.new_token("egress-")
        via = f"SIP/2.0/UDP {peer.host}:{peer.port};branch={h.new_branch()};rport"
        offer = h.sdp_offer("127.0.0.1", h.free_port())
        invite = h.build_request("INVITE", f"sip:{ROOM}@127.0.0.1:{server.sip_port}", via=via,
                                 from_=f"\"{name}\" <sip:longname@127.0.0.1>;tag={h.new_token()}",
                                 to=f"<sip:{ROOM}@127.0.0.1>", call_id=call_id, cseq=1,
                                 contact=f"<sip:longname@{peer.host}:{peer.port}>", body=offer)
        checks.expect(len(invite) < 4000, f"the INVITE is {len(invite)} bytes")
        peer.send(invite, ("127.0.0.1", server.sip_port))
        ok, _ = h.wait_final(peer, 10, lambda m: m.call_id == call_id)
        if not checks.expect(ok is not None and ok.code == 200, f"the long-named caller is answered 200: {ok and ok.code}"):
            return

        def joined():
            return [e for e in events_of(stream, "participant.joined") if e.get("caller_id", "").startswith("sip:longname@")]
        h.poll_until(joined, 10, "participant.joined for the long-named caller")
        shown = joined()[0].get("display_name", "")
        size = len(shown.encode())
        checks.expect(size <= 128 and shown.endswith("\u2026"),
                      f"participant.joined carries the display name bounded: {size} bytes, ends {shown[-3:]!r}")
        h.ack_and_bye(peer, ("127.0.0.1", server.sip_port), ok)
    finally:
        peer.close()


def body(args):
    checks = h.Checks()
    dns_servers = [ip for ip in resolver_addresses() if ":" not in ip]
    if not dns_servers:
        raise h.Skip("/etc/resolv.conf names only IPv6 DNS servers; the silent server is IPv4")
    server = h.Chorusd(args.chorusd, args.output_dir, dial_out_allow=f"{ALLOWED_LOOPBACK},slow.invalid",
                       webhook_allow_private=False,
                       extra_args=["--dial-out-dns-timeout", str(DNS_TIMEOUT_MS)]).start()
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    stream = rc.EventStream(server.http_port, api.token)
    if not stream.ok:
        raise h.Failure(f"GET /v1/events: {stream.status_line}")
    try:
        allow_list(server, api, checks)
        scopes(server, api, checks)
        slow_dns(server, api, stream, dns_servers, checks)
        webhooks(server, api, checks)
        long_display_name(server, stream, checks)
    finally:
        stream.close()
        api.close()
    h.expect_quiescent(server, checks)
    h.expect_clean_stop(server, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    setup = [f"ip addr add {OUTSIDE_IP}/32 dev lo"]
    for ip in resolver_addresses():
        if ":" not in ip and not ip.startswith("127."):
            setup.append(f"ip addr add {ip}/32 dev lo")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "for the silent DNS server and outside addresses",
                                   extra_setup=" && ".join(setup))


if __name__ == "__main__":
    sys.exit(main())
