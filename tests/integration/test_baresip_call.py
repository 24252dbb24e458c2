#!/usr/bin/env python3
"""baresip (a real SIP user agent, Debian baresip-core) calls room 1000 and sends a 440 Hz tone from a WAV.

Case 1 (caller hangs up): baresip dials sip:1000@127.0.0.1:PORT; its ctrl_tcp interface reports
CALL_ESTABLISHED and chorusd's status shows the dialog; baresip hangs up (BYE); chorusd returns to no
transactions, dialogs or media ports.
Case 2 (server hangs up): baresip dials again; chorusd gets SIGTERM, must BYE the call and exit within
its drain time (its last status line: no dialogs, no participants); baresip must report the call
closed by the peer (CALL_CLOSED "Connection reset by peer", and the BYE in its SIP trace).

baresip is driven through ctrl_tcp: JSON commands and events framed as netstrings ("LEN:JSON,").
"""

import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_baresip_call"
START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 20.0
SERVER_EXIT_TIMEOUT_S = 10.0  # chorusd promises 5 s


class BaresipControl:
    """A ctrl_tcp connection: send commands, collect events."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.events = []
        self.responses = {}
        self.sequence = 0

    def _pump(self, timeout_s):
        """Read what is there (up to timeout_s) and decode every complete netstring."""
        self.sock.settimeout(max(0.001, timeout_s))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        if not chunk:
            raise h.Failure("baresip closed its ctrl_tcp connection")
        self.buf += chunk
        for _ in range(1000):
            length, colon, rest = self.buf.partition(b":")
            if not colon or not length.isdigit() or len(rest) < int(length) + 1:
                return
            payload, self.buf = rest[:int(length)], rest[int(length) + 1:]
            message = json.loads(payload)
            if message.get("event"):
                self.events.append(message)
                print(f"    baresip event {message.get('type')} {message.get('param', '')}", flush=True)
            elif message.get("response"):
                self.responses[message.get("token")] = message

    def command(self, name, params=None, timeout_s=10.0):
        self.sequence += 1
        token = f"cmd{self.sequence}"
        request = {"command": name, "token": token}
        if params is not None:
            request["params"] = params
        data = json.dumps(request).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data + b",")
        reply = h.poll_until(lambda: self._pump(0.1) or self.responses.get(token), timeout_s,
                             f"baresip's answer to {name}")
        if not reply.get("ok"):
            raise h.Failure(f"baresip refused {name} {params}: {reply}")
        return reply

    def wait_event(self, kind, timeout_s, since=0):
        def seen():
            self._pump(0.1)
            return next((e for e in self.events[since:] if e.get("type") == kind), None)
        return h.poll_until(seen, timeout_s, f"baresip event {kind}")

    def close(self):
        self.sock.close()


def write_config(folder, tone, sip_port, ctrl_port, rtp_lo, rtp_hi):
    with open(os.path.join(folder, "config"), "w") as f:
        f.write(f"""poll_method\tepoll
sip_listen\t127.0.0.1:{sip_port}
net_interface\t127.0.0.1
rtp_ports\t{rtp_lo}-{rtp_hi}
audio_source\taufile,{tone}
audio_player\taufile,/dev/null
audio_alert\taufile,/dev/null
module_path\t/usr/lib/baresip/modules
module\tg711.so
module\taufile.so
module_tmp\taccount.so
module_app\tmenu.so
module_app\tctrl_tcp.so
ctrl_tcp_listen\t127.0.0.1:{ctrl_port}
""")
    with open(os.path.join(folder, "accounts"), "w") as f:
        f.write(f"<sip:tester@127.0.0.1:{sip_port}>;regint=0;answermode=auto;audio_codecs=PCMU\n")


def start_baresip(baresip, outdir):
    folder = os.path.join(outdir, "baresip")
    os.makedirs(folder, exist_ok=True)
    tone = os.path.join(folder, "tone.wav")
    # 16-bit PCM: baresip's aufile cannot read 32-bit samples.
    subprocess.run(["sox", "-n", "-r", "8000", "-b", "16", "-c", "1", tone, "synth", "60", "sine", "440", "vol", "0.5"],
                   check=True, timeout=60)
    sip_port = h.free_consecutive_ports(2)  # baresip listens for TLS on its SIP port + 1
    ctrl_port = h.free_port(udp=False)
    rtp_lo, rtp_hi = h.free_port_range(10)
    write_config(folder, tone, sip_port, ctrl_port, rtp_lo, rtp_hi)
    log = os.path.join(folder, "baresip.log")
    proc = h.spawn([baresip, "-f", folder, "-s", "-t", "300"], log, cwd=folder)

    def up():
        if proc.poll() is not None:
            raise h.Failure(f"baresip exited with {proc.returncode}:\n{read_text(log)[-2000:]}")
        return h.can_connect(ctrl_port)
    h.poll_until(up, START_TIMEOUT_S, "baresip's ctrl_tcp listener", 0.2)
    return proc, BaresipControl(ctrl_port), log


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def dial(control, server, checks, label):
    since = len(control.events)
    control.command("dial", f"sip:1000@127.0.0.1:{server.sip_port}")
    established = control.wait_event("CALL_ESTABLISHED", CALL_TIMEOUT_S, since)
    checks.expect(established is not None, f"{label}: baresip reports the call established")
    status = h.poll_until(lambda: (lambda s: s if s.get("dialogs", 0) >= 1 else None)(server.status()),
                          CALL_TIMEOUT_S, "chorusd's status to show the dialog")
    checks.expect(status["dialogs"] == 1, f"{label}: chorusd counts one dialog ({status})")
    return since


def caller_hangs_up(control, server, checks):
    print("--- case 1: baresip dials room 1000, then hangs up", flush=True)
    dial(control, server, checks, "case 1")
    since = len(control.events)
    control.command("hangup")
    closed = control.wait_event("CALL_CLOSED", CALL_TIMEOUT_S, since)
    checks.expect(closed is not None, f"case 1: baresip closed the call ({closed.get('param')})")
    try:
        server.wait_quiescent()
        checks.expect(True, "case 1: chorusd back to no transactions, dialogs or media ports")
    except h.Failure as e:
        checks.expect(False, f"case 1: {e}")


def server_hangs_up(control, server, baresip_log, checks):
    print("--- case 2: baresip dials room 1000, then chorusd gets SIGTERM and must BYE the call", flush=True)
    dial(control, server, checks, "case 2")
    since = len(control.events)
    trace_before = len(read_text(baresip_log))
    server.proc.send_signal(15)
    try:
        code = server.proc.wait(timeout=SERVER_EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        code = None
    checks.expect(code == 0, f"case 2: chorusd exited with 0 within {SERVER_EXIT_TIMEOUT_S:.0f} s after SIGTERM "
                  f"(got {code})")
    closed = control.wait_event("CALL_CLOSED", CALL_TIMEOUT_S, since)
    reason = closed.get("param", "")
    checks.expect("peer" in reason.lower(), f"case 2: baresip saw the call closed by the remote side ({reason!r})")
    trace = read_text(baresip_log)[trace_before:]
    checks.expect("BYE sip:" in trace, "case 2: baresip's SIP trace shows the BYE it received")
    finals = [h.parse_logfmt(line) for line in server.log_lines() if "msg=status" in line]
    final = finals[-1] if finals else {}
    # A BYE's client transaction may still be in Completed (Timer K, RFC 3261 §17.1.2.2) at exit: not checked.
    checks.expect(final.get("dialogs") == "0" and final.get("participants") == "0",
                  f"case 2: chorusd's last status before exit has no dialogs and no participants ({final})")


def body(args):
    baresip = h.require_binary("baresip", "baresip-core")
    h.require_binary("sox", "sox")
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir).start()
    proc, control, log = start_baresip(baresip, args.output_dir)
    try:
        caller_hangs_up(control, server, checks)
        server_hangs_up(control, server, log, checks)
    finally:
        control.close()
        h.stop_process(proc)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
