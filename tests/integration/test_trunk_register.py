#!/usr/bin/env python3
"""Issue 15, SIP trunks: Chorus registers to Kamailio and takes a DID's calls through it.

Kamailio (Debian `kamailio`) plays the provider: a registrar with digest authentication
(auth + auth_db over a db_text database written in the test's temp dir, one subscriber
4930123456 / its password; registrar with max_expires 40) that routes INVITEs for the DID
4930123456 to the Contact registered for it (usrloc lookup). The test creates a trunk through
POST /v1/trunks (registration to Kamailio, inbound "from_registration", German numbering) and
gives room 1000 the dial-in number 030123456. Then:
  1. Chorus's first REGISTER is challenged (401, no credentials) and the next one, with
     credentials, is saved: Kamailio's log shows both, and GET /v1/trunks/{id} says registered;
     the trunk.registration_changed event is on the event log.
  2. A refresh comes before the granted 40 s run out (Chorus refreshes at 10 s: 40 − 30).
  3. A caller → Kamailio (R-URI sip:4930123456@kamailio) → Chorus (R-URI = our Contact user, To =
     the DID) is answered 200 and listed in conference 1000; BYE ends it.
  4. DELETE /v1/trunks/{id} withdraws the binding: a REGISTER with Expires: 0 reaches Kamailio.
Skips (77) without kamailio.
"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402
import scale_out_rig as rig  # noqa: E402

TEST = "test_trunk_register"
DID = "4930123456"
PASSWORD = "trunk-s3cret"

KAMAILIO_CFG = r"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
listen=udp:127.0.0.1:{port}
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "db_text.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("auth_db", "db_url", "text://{db}")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 20)
modparam("registrar", "max_expires", 40)
modparam("registrar", "default_expires", 40)

request_route {{
  if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
  if (is_method("REGISTER")) {{
    if (!auth_check("$fd", "subscriber", "1")) {{
      xlog("L_NOTICE", "TRUNKTEST register challenged cseq=$cs\n");
      auth_challenge("$fd", "0");
      exit;
    }}
    xlog("L_NOTICE", "TRUNKTEST register authorized cseq=$cs expires=$hdr(Expires) contact=$ct\n");
    if (!save("location")) sl_reply_error();
    exit;
  }}
  if (has_totag()) {{
    if (loose_route()) {{ t_relay(); exit; }}
    if (is_method("ACK")) {{ if (t_check_trans()) t_relay(); exit; }}
    sl_send_reply("404", "Not here");
    exit;
  }}
  if (is_method("INVITE") && $rU == "{did}") {{
    if (!lookup("location")) {{ sl_send_reply("404", "Not Registered"); exit; }}
    xlog("L_NOTICE", "TRUNKTEST routing the DID to $ru\n");
    record_route();
    t_relay();
    exit;
  }}
  if (is_method("CANCEL")) {{ if (t_check_trans()) t_relay(); exit; }}
  sl_send_reply("404", "No Such DID");
}}
"""


def write_db(folder):
    """A db_text database: the version table and one subscriber (auth_db's table version 7)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "version"), "w") as f:
        f.write("table_name(string) table_version(int) \nsubscriber:7\n")
    with open(os.path.join(folder, "subscriber"), "w") as f:
        f.write("id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) \n")
        f.write(f"1:{DID}:127.0.0.1:{PASSWORD}:::\n")


class Kamailio:
    def __init__(self, binary, outdir):
        self.binary = binary
        self.port = h.free_port()
        self.dir = tempfile.mkdtemp(prefix="kamailio-trunk-", dir=outdir)
        self.log_path = os.path.join(outdir, "kamailio.log")
        write_db(os.path.join(self.dir, "db"))
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(KAMAILIO_CFG.format(port=self.port, db=os.path.join(self.dir, "db"), did=DID))
        self.proc = None

    def start(self):
        check = h.spawn([self.binary, "-f", self.cfg, "-c"], self.log_path)
        if check.wait(timeout=30) != 0:
            raise h.Failure(f"kamailio -c refuses the test's config: {self.log_path}")
        self.proc = h.spawn([self.binary, "-f", self.cfg, "-Y", self.dir, "-DD", "-E", "-m", "64", "-M", "8"],
                            self.log_path)
        h.poll_until(self.listening, 10.0, "Kamailio listening")
        return self

    def listening(self):
        return h.options_probe(self.port, timeout_s=0.5) is not None

    def lines(self, marker):
        return [line for line in h.read_log_lines(self.log_path) if marker in line]

    def stop(self):
        if self.proc:
            h.stop_process(self.proc)


def body(args):
    kamailio_bin = h.require_binary("kamailio", "kamailio")
    os.makedirs(args.output_dir, exist_ok=True)
    checks = h.Checks()
    kamailio = Kamailio(kamailio_bin, args.output_dir).start()
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-trunk").start()
    h.poll_until(lambda: h.can_connect(server.http_port), 10.0, "the HTTP port")
    api = rc.RestClient(server.http_port, rc.read_admin_token(server.data_dir))
    try:
        room = api.get("/v1/rooms/1000")
        api.expect(200, "PATCH", "/v1/rooms/1000", {"dial_in_number": "030123456"},
                   headers={"If-Match": room.header("ETag")})
        created = api.expect(201, "POST", "/v1/trunks", {
            "name": "kamailio",
            "targets": [{"host": "127.0.0.1", "port": kamailio.port}],
            "registration": {"username": DID, "password": PASSWORD, "expires": 60, "contact_user": "chorus-trunk"},
            "inbound": {"from_registration": True},
            "numbering": {"country_code": "49"}}).json()
        trunk = created["id"]
        checks.expect(created["registration"]["password_set"] is True and PASSWORD not in json.dumps(created),
                      "the answer shows password_set, not the password")

        def status():
            return api.get(f"/v1/trunks/{trunk}").json()["registration"]["status"]
        registered_at = time.monotonic()
        h.poll_until(lambda: status()["state"] == "registered", 10.0, "the trunk registered")
        checks.expect(status()["expires_at"] is not None, f"registered until {status()['expires_at']}")
        challenged = kamailio.lines("register challenged")
        authorized = kamailio.lines("register authorized")
        checks.expect(len(challenged) >= 1 and len(authorized) >= 1,
                      f"Kamailio challenged ({len(challenged)}) then saved ({len(authorized)}) the REGISTER")
        # 2. The refresh: granted 40 s (max_expires), so Chorus refreshes at 10 s.
        h.poll_until(lambda: len(kamailio.lines("register authorized")) >= 2, 20.0, "a refresh before expiry")
        checks.expect(time.monotonic() - registered_at < 40, "the refresh came before the 40 s ran out")
        # 3. A call to the DID through Kamailio lands in room 1000.
        call = rig.ProxiedCall(kamailio.port, DID, timeout_s=10.0)
        try:
            code = call.invite()
            checks.expect(code == 200, f"the DID's call through Kamailio is answered 200 (got {code})")
            if code == 200:
                listed = api.get("/v1/conferences/1000/participants").json().get("items", [])
                checks.expect(len(listed) == 1, f"one participant in conference 1000 ({len(listed)})")
                checks.expect(call.bye() == 200, "BYE through Kamailio is answered 200")
        finally:
            call.close()
        # 4. Deleting the trunk withdraws the binding.
        api.expect(204, "DELETE", f"/v1/trunks/{trunk}")
        withdrawn = h.poll_until(
            lambda: [line for line in kamailio.lines("register authorized") if "expires=0 " in line], 10.0,
            "REGISTER with Expires: 0")
        checks.expect(len(withdrawn) == 1, f"the binding was withdrawn with Expires: 0 ({len(withdrawn)} REGISTER)")
    finally:
        api.close()
        h.expect_clean_stop(server, checks)
        kamailio.stop()
    return checks.failures


if __name__ == "__main__":
    parser = h.arg_parser(__doc__.splitlines()[0])
    sys.exit(h.run(TEST, body, parser=parser))
