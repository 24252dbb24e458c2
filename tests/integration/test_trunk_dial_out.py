#!/usr/bin/env python3
"""Issue 15, dial-out through a SIP trunk: located by DNS SRV, failing over, answering a 407.

The provider's name, provider.test, is served by dnsmasq (Debian `dnsmasq-base`) on a loopback
port given to chorusd as --sip-dns-servers: no NAPTR, and _sip._udp.provider.test has two SRV
records, priority 10 → a.provider.test (a UDP port where the test listens and never answers: the
first target is down) and priority 20 → b.provider.test (Kamailio). Kamailio plays the provider's
proxy: an INVITE to a number must carry Proxy-Authorization for its subscriber (auth_db over
db_text; without it, 407), then it is relayed to the callee, sipp answering 180/200 and taking the
BYE. chorusd runs with the harness's T1 of 100 ms, so the silent first target costs Timer B (64 × T1 = 6.4 s).

POST /v1/trunks makes the trunk (target host provider.test, outbound credentials, German numbering,
caller-ID 4930111222), then POST /v1/conferences/1000/participants {"to": "030 999888", "trunk"}:
  1. the first INVITE reaches a.provider.test's port (RFC 3263 §4: SRV priority order);
  2. after its Timer B the same call goes to Kamailio (RFC 3263 §4.3 failover), which challenges
     it 407; the INVITE again, with Proxy-Authorization, is relayed (Kamailio logs both);
  3. the callee gets sip:+4930999888@provider.test (E.164 from the trunk's numbering) with the
     trunk's caller-ID in P-Asserted-Identity, answers, and the participant joins; DELETE ends it
     with a BYE the callee answers (sipp's scenario exits 0 only then);
  4. /metrics counts the DNS lookup.
Skips (77) without kamailio, dnsmasq or sipp.
"""
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import kamailio_provider as kp  # noqa: E402
import rest_client as rc  # noqa: E402
from test_dial_out import start_callee, wait_callee  # noqa: E402

TEST = "test_trunk_dial_out"
USER = "4930111222"
PASSWORD = "dial-0ut-s3cret"
CALLED = "030 999888"
CALLED_E164 = "+4930999888"

PROVIDER_ROUTE = r"""
  if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
  if (has_totag()) {{
    if (loose_route()) {{ t_relay(); exit; }}
    if (is_method("ACK")) {{ if (t_check_trans()) t_relay(); exit; }}
    sl_send_reply("404", "Not here");
    exit;
  }}
  if (is_method("CANCEL")) {{ if (t_check_trans()) t_relay(); exit; }}
  if (is_method("INVITE")) {{
    if (!proxy_authorize("$fd", "subscriber")) {{
      xlog("L_NOTICE", "TRUNKTEST invite challenged ruri=$ru\n");
      proxy_challenge("$fd", "0");
      exit;
    }}
    consume_credentials();
    xlog("L_NOTICE", "TRUNKTEST invite authorized ruri=$ru pai=$hdr(P-Asserted-Identity)\n");
    record_route();
    $du = "sip:127.0.0.1:{callee_port}";
    t_relay();
    exit;
  }}
  sl_send_reply("404", "Nothing here");
"""


class SilentTarget:
    """The first SRV target, down: a UDP port that takes datagrams and never answers."""

    def __init__(self):
        self.port = h.free_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.invites = []
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data, _ = self.sock.recvfrom(65535)
            except OSError:
                continue
            if data.startswith(b"INVITE "):
                self.invites.append(data.split(b"\r\n", 1)[0].decode(errors="replace"))

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def start_dnsmasq(binary, outdir, silent_port, kamailio_port):
    port = h.free_port()
    cmd = [binary, "--keep-in-foreground", "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
           "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--user=root",
           f"--srv-host=_sip._udp.provider.test,a.provider.test,{silent_port},10,0",
           f"--srv-host=_sip._udp.provider.test,b.provider.test,{kamailio_port},20,0",
           "--host-record=a.provider.test,127.0.0.1", "--host-record=b.provider.test,127.0.0.1",
           "--log-queries"]
    proc = h.spawn(cmd, os.path.join(outdir, "dnsmasq.log"))
    h.poll_until(lambda: not h._can_bind(port, socket.SOCK_DGRAM) or proc.poll() is not None, 10, "dnsmasq")
    if proc.poll() is not None:
        raise h.Failure(f"dnsmasq did not start: {os.path.join(outdir, 'dnsmasq.log')}")
    return proc, port


def body(args):
    kamailio_bin = h.require_binary("kamailio", "kamailio")
    dnsmasq_bin = h.require_binary("dnsmasq", "dnsmasq-base")
    sipp_bin = h.require_binary("sipp", "sip-tester")
    os.makedirs(args.output_dir, exist_ok=True)
    checks = h.Checks()
    silent = SilentTarget()
    callee, callee_dir, callee_port = start_callee(sipp_bin, "dial_out_answer.xml", "callee", args.output_dir)
    provider = kp.KamailioProvider(kamailio_bin, args.output_dir, PROVIDER_ROUTE,
                                   [(USER, "provider.test", PASSWORD)]).start(callee_port=callee_port)
    dnsmasq, dns_port = start_dnsmasq(dnsmasq_bin, args.output_dir, silent.port, provider.port)
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-trunk-out",
                       extra_args=["--sip-dns-servers", f"127.0.0.1:{dns_port}"]).start()
    h.poll_until(lambda: h.can_connect(server.http_port), 10.0, "the HTTP port")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    try:
        trunk = api.expect(201, "POST", "/v1/trunks", {
            "name": "provider",
            "targets": [{"host": "provider.test"}],
            "outbound_credentials": {"username": USER, "password": PASSWORD},
            "numbering": {"country_code": "49"},
            "caller_id": USER}).json()["id"]
        reply = api.post("/v1/conferences/1000/participants", {"to": CALLED, "trunk": trunk})
        checks.expect(reply.status == 202, f"dial-out through the trunk: 202 ({reply.describe()[:200]})")
        pid = str(reply.json().get("id")) if reply.status == 202 else None
        h.poll_until(lambda: silent.invites, 10.0, "the INVITE at the first SRV target")
        checks.expect(f"INVITE sip:{CALLED_E164}@provider.test SIP/2.0" in silent.invites[0],
                      f"the first INVITE went to priority 10's target: {silent.invites[0]}")
        authorized = h.poll_until(lambda: provider.lines("invite authorized"), 30.0,
                                  "the INVITE at Kamailio with Proxy-Authorization")
        challenged = provider.lines("invite challenged")
        checks.expect(len(challenged) == 1, f"Kamailio challenged the first INVITE it got 407 ({len(challenged)})")
        checks.expect(f"ruri=sip:{CALLED_E164}@provider.test" in authorized[0],
                      f"the called number in E.164 from the trunk's numbering: {authorized[0]}")
        checks.expect(f"pai=<sip:{USER}@provider.test>" in authorized[0],
                      f"the trunk's caller-ID in P-Asserted-Identity: {authorized[0]}")
        listed = h.poll_until(
            lambda: [p for p in api.get("/v1/conferences/1000/participants").json().get("items", [])
                     if str(p.get("id")) == pid], 15.0, "the callee in conference 1000")
        checks.expect(len(listed) == 1, f"the callee joined conference 1000 as participant {pid}")
        checks.expect(api.delete(f"/v1/conferences/1000/participants/{pid}").status == 204, "DELETE: 204")
        code = wait_callee(callee, callee_dir)
        checks.expect(code == 0, f"sipp got the INVITE, the ACK and the BYE through Kamailio (exit code {code})")
        lookups = api.metrics("chorus_sip_dns_lookups_total")
        checks.expect(sum(lookups.values()) >= 1, f"the RFC 3263 lookup is counted ({lookups})")
    finally:
        api.close()
        h.expect_clean_stop(server, checks)
        for proc in (dnsmasq, callee):
            h.stop_process(proc)
        provider.stop()
        silent.stop()
    return checks.failures


if __name__ == "__main__":
    parser = h.arg_parser(__doc__.splitlines()[0])
    sys.exit(h.run(TEST, body, parser=parser))
