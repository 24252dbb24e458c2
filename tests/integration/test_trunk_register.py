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
  3. A sipp caller → Kamailio (R-URI sip:4930123456@kamailio) → Chorus (R-URI = our Contact user,
     To = the DID) is answered 200 and listed in conference 1000; its BYE ends it.
  4. DELETE /v1/trunks/{id} withdraws the binding: a REGISTER with Expires: 0 reaches Kamailio.
Skips (77) without kamailio or sipp.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import kamailio_provider as kp  # noqa: E402
import rest_client as rc  # noqa: E402
import scale_out_rig as rig  # noqa: E402

TEST = "test_trunk_register"
DID = "4930123456"
PASSWORD = "trunk-s3cret"

PROVIDER_ROUTE = r"""
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
"""


def body(args):
    kamailio_bin = h.require_binary("kamailio", "kamailio")
    os.makedirs(args.output_dir, exist_ok=True)
    checks = h.Checks()
    kamailio = kp.KamailioProvider(kamailio_bin, args.output_dir, PROVIDER_ROUTE,
                                   [(DID, "127.0.0.1", PASSWORD)]).start(did=DID)
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
        # 3. A sipp caller dials the DID through Kamailio (sipp/room_call.xml: INVITE, 200, ACK, a
        # 4 s hold, BYE along the Record-Route) and is a participant of conference 1000 meanwhile.
        sipp_bin = h.require_binary("sipp", "sip-tester")
        caller = rig.SippRooms(sipp_bin, args.source_dir, args.output_dir, "did-caller", kamailio.port, [DID],
                               rate=1, hold_ms=4000, timeout_s=30).start()
        try:
            listed = h.poll_until(lambda: api.get("/v1/conferences/1000/participants").json().get("items", []),
                                  15.0, "the DID's caller in conference 1000")
            checks.expect(len(listed) == 1, f"one participant in conference 1000 ({len(listed)})")
        finally:
            successful, failed, code, _ = caller.wait()
        checks.expect(successful == 1 and failed == 0 and code == 0,
                      f"sipp's call to the DID: answered, ACKed, held and ended with BYE ({successful} ok, "
                      f"{failed} failed, exit {code})")
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
