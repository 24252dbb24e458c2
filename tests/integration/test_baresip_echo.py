#!/usr/bin/env python3
"""baresip (a real SIP user agent, Debian baresip-core 1.0.0) calls the echo room (sip:9196@...) and must
hear its own tone back, decrypted, over each media security baresip offers.

Each case is a fresh baresip (auto-answer account, PCMU only, a sox-made 16-bit WAV as microphone,
sndfile recording what it hears) making one call to sip:9196@127.0.0.1:PORT:
  sdes      440 Hz, RTP/SAVP with a=crypto (RFC 4568): `mediaenc=srtp-mand`, module srtp.so.
  dtls-ice  700 Hz, UDP/TLS/RTP/SAVPF, DTLS-SRTP (RFC 5763/5764) after ICE checks (RFC 8445) against
            chorusd's ICE-lite answer: `mediaenc=dtls_srtp;medianat=ice`, modules dtls_srtp.so, ice.so.
  plain     550 Hz, RTP/AVP: the baseline.
For each: ctrl_tcp reports CALL_ESTABLISHED; chorusd's status line (SIGUSR1) shows media_packets_out
grow by >= 150 (3 s of 20 ms packets echoed); baresip hangs up; the recording of what baresip decoded
(dump-*-dec.wav) has its dominant frequency within 2 % of the tone sent and is audible (> -40 dBFS)
for >= 2 s (media_checks.py); chorusd returns to zero transactions, dialogs and media ports.
dtls-ice also needs media_dtls_connected and media_stun_answered to have grown by >= 1.
media_dropped_replay must not grow, media_dropped_auth by at most baresip's two plaintext RTCP
pinhole pings (dtls-ice: not at all over 3 s of echo once both components' handshakes are done, since
what arrives before the second one finishes depends on timing); the other media_dropped_* counters are printed for diagnosis. dtls-ice also has
`openssl s_client -dtls1_2` send ClientHellos to the call's port from an address ICE never validated:
they must be dropped and counted (media_dropped_dtls_unvalidated) while the echo goes on. On a failure the relevant baresip and chorusd log lines are printed too.

baresip would put the machine's non-loopback address into its SDP, so the script re-executes itself in
a private network namespace (`unshare -n`, like test_conformance.py) whose only interface is lo.
baresip's ICE never gathers loopback host candidates, so lo there also gets 198.51.100.2/32
(TEST-NET-2, existing only inside the namespace) and the dtls-ice case binds baresip's media to it;
the other cases use 127.0.0.1. Where unshare is not permitted, or baresip, sox or a module is missing,
the test skips (77).
`--only NAME` runs one case.
"""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import media_checks  # noqa: E402
import rest_client  # noqa: E402
from baresip_agent import BaresipAgent, require_modules  # noqa: E402

TEST = "test_baresip_echo"
ECHO_ROOM = "9196"
CALL_TIMEOUT_S = 20.0
MEDIA_TIMEOUT_S = 30.0
RECORDING_TIMEOUT_S = 10.0
MIN_PACKETS_ECHOED = 150
MIN_AUDIBLE_S = 2.0  # of the 3 s those packets carry
FREQ_TOLERANCE = 0.02
# baresip's ICE skips loopback host candidates, so the namespace also gives lo this address (TEST-NET-2,
# RFC 5737): it exists only inside the namespace, and the dtls-ice case binds baresip's media to it.
ICE_HOST_ADDRESS = "198.51.100.2"
DROP_COUNTERS = ("media_dropped_auth", "media_dropped_replay", "media_dropped_source",
                 "media_dropped_dtls_unvalidated", "media_dropped_malformed")


# What baresip logs when each module has registered itself.
REGISTERED = {"srtp.so": "mediaenc: srtp", "dtls_srtp.so": "mediaenc: dtls_srtp", "ice.so": "medianat: ice",
              "sndfile.so": "aufilt: sndfile"}


class Case:
    def __init__(self, name, tone_hz, modules, account_params, required_growth, net_address="127.0.0.1"):
        self.name = name
        self.net_address = net_address
        self.tone_hz = tone_hz
        self.modules = modules
        self.account_params = account_params
        self.required_growth = required_growth  # {status counter: minimum growth during the call}


CASES = [
    Case("sdes", 440, ["srtp.so"], ";mediaenc=srtp-mand", {}),
    Case("dtls-ice", 700, ["dtls_srtp.so", "ice.so"], ";mediaenc=dtls_srtp;medianat=ice",
         {"media_dtls_connected": 1, "media_stun_answered": 1}, net_address=ICE_HOST_ADDRESS),
    Case("plain", 550, [], "", {}),
]


def counter(status, key):
    return status.get(key, 0)


def growth(before, after, key):
    return counter(after, key) - counter(before, key)


def baresip_lines(agent, words=("error", "fail", "warn", "dtls", "srtp", "ice", "stun", "488", "media", "crypto")):
    """Lines of baresip's log worth quoting when a case fails (its SIP trace is long)."""
    lines = [line for line in agent.log_text().splitlines() if any(w in line.lower() for w in words)]
    return "\n".join("      baresip| " + line for line in lines[-40:])


def chorusd_lines(server, first_line):
    """chorusd's log lines since first_line that are about media or not debug."""
    lines = server.log_lines()[first_line:]
    picked = [line for line in lines if "msg=status" not in line
              and ("level=debug" not in line or "comp=media" in line or "comp=sdp" in line)]
    return "\n".join("      chorusd| " + line for line in picked[-40:])


def wait_recording(agent):
    """The dec.wav sndfile wrote for the call, once it holds more than its header."""
    def ready():
        files = agent.recordings("dec")
        return files[-1] if files and os.path.getsize(files[-1]) > 44 else None
    return h.poll_until(ready, RECORDING_TIMEOUT_S, f"a dump-*-dec.wav in {agent.rec_dir}", 0.2)


def check_tone(agent, case, checks):
    try:
        path = wait_recording(agent)
    except h.Failure as e:
        checks.expect(False, f"{case.name}: {e}")
        return
    freq = media_checks.dominant_frequency(path)
    off = abs(freq - case.tone_hz) / case.tone_hz if freq is not None else 1.0
    checks.expect(off <= FREQ_TOLERANCE, f"{case.name}: what baresip heard back peaks at "
                  f"{'none (silent)' if freq is None else f'{freq:.1f} Hz'}, sent {case.tone_hz} Hz "
                  f"({off * 100:.1f} % off, allowed {FREQ_TOLERANCE * 100:.0f} %; {path})")
    audible = media_checks.audible_seconds(path)
    checks.expect(audible >= MIN_AUDIBLE_S, f"{case.name}: the echo was audible for {audible:.1f} s of "
                  f"{media_checks.duration_s(path):.1f} s recorded (need {MIN_AUDIBLE_S:.0f} s)")
    print(f"    {case.name}: level at {case.tone_hz} Hz over the recording: "
          f"{media_checks.tone_energy_db(path, case.tone_hz):.1f} dBFS", flush=True)


def wait_echo(server, before):
    """Poll status until MIN_PACKETS_ECHOED more packets went out; returns the last status (may fall short)."""
    deadline = h.Deadline(MEDIA_TIMEOUT_S)
    status = server.status()
    for _ in range(int(MEDIA_TIMEOUT_S / 0.5) + 2):
        if growth(before, status, "media_packets_out") >= MIN_PACKETS_ECHOED or deadline.expired():
            break
        time.sleep(0.5)
        status = server.status()
    return status


def inject_unvalidated_client_hello(server, case, checks, log_mark):
    """The CVE-2023-51443 class: mid-call, a real DTLS client (`openssl s_client -dtls1_2`) sends
    ClientHellos to chorusd's media port from an address ICE never validated. chorusd must drop and
    count them (media_dropped_dtls_unvalidated) and the echo must go on."""
    ports = [m.group(1) for line in server.log_lines()[log_mark:]
             for m in [re.search(r'msg="participant joined".* rtp_port=(\d+)', line)] if m]
    openssl = shutil.which("openssl")
    if not checks.expect(bool(ports) and openssl is not None,
                         f"{case.name}: chorusd logged the call's RTP port and openssl is installed"):
        return
    before = server.status()
    try:
        subprocess.run([openssl, "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{ports[-1]}",
                        "-use_srtp", "SRTP_AES128_CM_SHA1_80"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3)
    except subprocess.TimeoutExpired:
        pass  # it retransmits its ClientHello until it gives up; three seconds is plenty
    after = wait_echo(server, before)
    dropped = growth(before, after, "media_dropped_dtls_unvalidated")
    checks.expect(dropped >= 1, f"{case.name}: ClientHellos from an unvalidated address dropped and counted "
                                f"(media_dropped_dtls_unvalidated grew by {dropped})")
    checks.expect(growth(before, after, "media_packets_out") >= MIN_PACKETS_ECHOED,
                  f"{case.name}: the echo went on after the forged ClientHellos "
                  f"({growth(before, after, 'media_packets_out')} more packets)")
    checks.expect(growth(before, after, "media_dtls_connected") == 0,
                  f"{case.name}: no DTLS association with the intruder")


def check_rest_quality(server, case, checks, room):
    """The REST participant view carries the call's RTCP statistics (published by the media worker
    once a second): the echo room's one participant has received packets and lost none on loopback."""
    client = rest_client.RestClient(server.http_port, rest_client.read_admin_token(server.data_dir))
    try:
        def quality():
            reply = client.request("GET", f"/v1/conferences/{room}/participants")
            items = reply.json().get("items", []) if reply.status == 200 else []
            q = items[0].get("quality") if items else None
            return q if q and q.get("packets_received", 0) >= 50 else None
        q = h.poll_until(quality, 10, "the participant's RTCP quality in GET /v1/conferences/.../participants", 0.25)
        checks.expect(q["cumulative_lost"] == 0 and q["packets_sent"] > 0,
                      f"{case.name}: REST shows the call's quality: {q}")
    except h.Failure as e:
        checks.expect(False, f"{case.name}: {e}")
    finally:
        client.close()


def establish(agent, server, case, checks, log_mark, room):
    since = len(agent.control.events)
    agent.control.command("dial", f"sip:{room}@127.0.0.1:{server.sip_port}")
    try:
        event = agent.control.wait_event("CALL_ESTABLISHED", CALL_TIMEOUT_S, since, stop_on=("CALL_CLOSED",))
    except h.Failure as e:
        event = {"type": "none", "param": str(e)}
    ok = event.get("type") == "CALL_ESTABLISHED"
    if not checks.expect(ok, f"{case.name}: baresip reports the call established (got {event.get('type')} "
                         f"{event.get('param', '')!r})"):
        print(baresip_lines(agent), "\n", chorusd_lines(server, log_mark), flush=True)
    return ok


def hang_up(agent, case, checks):
    since = len(agent.control.events)
    agent.control.command("hangup")
    try:
        closed = agent.control.wait_event("CALL_CLOSED", CALL_TIMEOUT_S, since)
        checks.expect(True, f"{case.name}: baresip closed the call ({closed.get('param')})")
    except h.Failure as e:
        checks.expect(False, f"{case.name}: {e}")


def run_case(baresip, server, case, args, checks):
    print(f"--- {case.name}: baresip calls the echo room with a {case.tone_hz} Hz tone", flush=True)
    agent = BaresipAgent(baresip, os.path.join(args.output_dir, f"baresip-{case.name}"), tone_hz=case.tone_hz,
                         modules=case.modules, account_params=case.account_params, record=True,
                         net_address=case.net_address).start()
    log_mark = len(server.log_lines())
    try:
        modules = case.modules + ["sndfile.so"]
        log = {re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in agent.log_text().splitlines()}
        missing = [m for m in modules if REGISTERED[m] not in log]
        checks.expect(not missing and not agent.module_errors(), f"{case.name}: baresip loaded {modules} "
                      f"(not registered: {missing}; errors: {agent.module_errors()})")
        before = server.status()
        if establish(agent, server, case, checks, log_mark, args.room):
            after = wait_echo(server, before)
            echoed = growth(before, after, "media_packets_out")
            if not checks.expect(echoed >= MIN_PACKETS_ECHOED,
                                 f"{case.name}: chorusd sent {echoed} packets back within {MEDIA_TIMEOUT_S:.0f} s "
                                 f"(need {MIN_PACKETS_ECHOED}; media_packets_in grew "
                                 f"{growth(before, after, 'media_packets_in')})"):
                print(baresip_lines(agent), "\n", chorusd_lines(server, log_mark), flush=True)
            for key, minimum in case.required_growth.items():
                checks.expect(growth(before, after, key) >= minimum,
                              f"{case.name}: {key} grew by {growth(before, after, key)} (need >= {minimum}"
                              f"{'' if key in after else '; absent from the status line'})")
            print(f"    {case.name}: drops during the call: "
                  + " ".join(f"{k}={growth(before, after, k)}" for k in DROP_COUNTERS), flush=True)
            # A clean loopback call has nothing to replay. baresip sends one unprotected RTCP APP
            # "PING" pinhole packet per component at the start: before the keys exist it counts as
            # malformed, after them (DTLS can finish first) it fails SRTCP authentication — at most
            # one per component. With DTLS-SRTP each component has its own handshake (RFC 5764
            # §4.1.2 without rtcp-mux): baresip starts sending SRTP once its first one completes, and
            # what reaches chorusd before chorusd's end of the other one has keys fails
            # authentication too (how many depends on the two handshakes' timing: 4 in one CI run
            # beside a build). So the DTLS case's bound is on the echo's steady state: none at all.
            checks.expect(growth(before, after, "media_dropped_replay") == 0, f"{case.name}: media_dropped_replay "
                          f"grew by {growth(before, after, 'media_dropped_replay')} (need 0)")
            if "media_dtls_connected" in case.required_growth:
                steady = wait_echo(server, after)
                checks.expect(growth(after, steady, "media_dropped_auth") == 0,
                              f"{case.name}: media_dropped_auth grew by {growth(after, steady, 'media_dropped_auth')} "
                              f"over {growth(after, steady, 'media_packets_out')} packets echoed once both "
                              f"components were keyed (need 0; {growth(before, after, 'media_dropped_auth')} "
                              f"while the handshakes finished)")
            else:
                checks.expect(growth(before, after, "media_dropped_auth") <= 2,
                              f"{case.name}: media_dropped_auth grew by {growth(before, after, 'media_dropped_auth')} "
                              f"(at most baresip's 2 plaintext pings)")
            check_rest_quality(server, case, checks, "echo")
            if case.name == "dtls-ice":
                inject_unvalidated_client_hello(server, case, checks, log_mark)
            hang_up(agent, case, checks)
            check_tone(agent, case, checks)
    finally:
        agent.stop()
    h.expect_quiescent(server, checks, case.name)


def body(args):
    baresip = h.require_binary("baresip", "baresip-core")
    h.require_binary("sox", "sox")
    cases = [c for c in CASES if not args.only or c.name == args.only]
    if not cases:
        raise h.Failure(f"--only {args.only}: no such case ({', '.join(c.name for c in CASES)})")
    require_modules("g711.so", "aufile.so", "sndfile.so", "ctrl_tcp.so", "menu.so", "account.so",
                    *{m for c in cases for m in c.modules})
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    for case in cases:
        run_case(baresip, server, case, args, checks)
    return checks.failures


def main():
    parser = h.arg_parser(__doc__)
    parser.add_argument("--only", help="run one case: " + ", ".join(c.name for c in CASES))
    parser.add_argument("--room", default=ECHO_ROOM, help="room to call (default: the echo room; for diagnosis)")
    return h.run_in_loopback_netns(TEST, body, parser, __file__, "to keep baresip on loopback",
                                   extra_setup=f"ip addr add {ICE_HOST_ADDRESS}/32 dev lo")


if __name__ == "__main__":
    sys.exit(main())
