"""Drive baresip (a real SIP user agent, Debian baresip-core 1.0.0) from a test.

One `BaresipAgent` is one baresip process with its own config folder (`-f DIR`): a 16-bit PCM tone
made with sox as its microphone (aufile), optional recording of what it hears (sndfile, `snd_path`),
an auto-answer account on free loopback ports, and a ctrl_tcp listener through which the test sends
commands and reads events. ctrl_tcp frames JSON as netstrings ("LEN:JSON,").

Everything started here goes through chorus_harness.spawn(), so it is stopped by PID at exit.
"""

import glob
import json
import os
import re
import socket
import subprocess
import time

import chorus_harness as h

START_TIMEOUT_S = 20.0
MODULE_PATH = "/usr/lib/baresip/modules"
# Audio codecs an agent may be limited to: the account's audio_codecs entry (name/srate/channels as the
# module registers it; without them baresip looks for NAME/8000/1), the module that provides it, and the
# rate and channels of its microphone WAV (baresip's aufile refuses a file that differs from the codec's).
CODECS = {"PCMU": ("PCMU", "g711.so", 8000, 1), "PCMA": ("PCMA", "g711.so", 8000, 1),
          "G722": ("G722/16000/1", "g722.so", 16000, 1), "opus": ("opus/48000/2", "opus.so", 48000, 2)}


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

    def drain(self, quiet_s=0.05, max_reads=50):
        """Read every event already sent (until quiet_s passes without data, at most max_reads reads), so
        that a `since` taken afterwards starts after them."""
        for _ in range(max_reads):
            before = (len(self.buf), len(self.events), len(self.responses))
            self._pump(quiet_s)
            if (len(self.buf), len(self.events), len(self.responses)) == before:
                return

    def wait_event(self, kind, timeout_s, since=0, stop_on=()):
        """The first event of type kind after index since; Failure on timeout. An event whose type is in
        stop_on ends the wait early (it is returned, so the caller can report it)."""
        def seen():
            self._pump(0.1)
            return next((e for e in self.events[since:] if e.get("type") == kind or e.get("type") in stop_on),
                        None)
        return h.poll_until(seen, timeout_s, f"baresip event {kind}")

    def close(self):
        self.sock.close()


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def make_tone(path, freq_hz, seconds=60, rate=8000, channels=1):
    """A 16-bit sine WAV (baresip's aufile cannot read 32-bit samples)."""
    subprocess.run(["sox", "-n", "-r", str(rate), "-b", "16", "-c", str(channels), path, "synth", str(seconds), "sine",
                    str(freq_hz), "vol", "0.5"], check=True, timeout=60)
    return path


def source_format(codecs):
    """(codec, rate, channels) of the microphone WAV an agent limited to codecs (first one counts) needs."""
    first = codecs.split(",")[0].strip()
    if first not in CODECS:
        raise ValueError(f"codec {first!r} is not one of {', '.join(CODECS)}")
    return first, CODECS[first][2], CODECS[first][3]


def require_modules(*names):
    """Skip when a baresip module file is missing."""
    for name in names:
        if not os.path.exists(os.path.join(MODULE_PATH, name)):
            raise h.Skip(f"baresip module {MODULE_PATH}/{name} is missing (Debian package baresip-core)")


class BaresipAgent:
    """One baresip process in folder (config, accounts, tone, log, recordings).

    modules: extra `module` lines (g711, aufile, account, menu, ctrl_tcp are always loaded);
    account_params: appended to the account line (e.g. ";mediaenc=srtp-mand");
    codecs: the account's audio_codecs, comma-separated names from CODECS ("PCMU", "G722", "opus");
            their modules are loaded and the microphone WAV is made at the first one's clock rate;
    source_wav: a WAV to use as the microphone instead of a tone_hz sine (16-bit, the rate and channels
                `source_format()` gives);
    record: load sndfile.so and write what is heard to folder/rec/dump-*-dec.wav (and what is sent,
            before encoding, to dump-*-enc.wav);
    extra_config: more config lines (e.g. "jitter_buffer_delay\t1-5");
    net_address: the address baresip binds media to and puts in its SDP (`net_interface`)."""

    def __init__(self, binary, folder, *, tone_hz=440, modules=(), account_params="", record=False,
                 rtp_port_count=10, net_address="127.0.0.1", codecs="PCMU", source_wav=None, extra_config=()):
        self.binary = binary
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        names = [c.strip() for c in codecs.split(",") if c.strip()]
        unknown = [c for c in names if c not in CODECS]
        if not names or unknown:
            raise ValueError(f"codecs {codecs!r}: each must be one of {', '.join(CODECS)}")
        self.codecs = ",".join(CODECS[c][0] for c in names)
        codec_modules = [CODECS[c][1] for c in names if CODECS[c][1] != "g711.so"]
        self.tone_hz = tone_hz
        self.tone = source_wav or make_tone(os.path.join(folder, "tone.wav"), tone_hz, 60, *source_format(codecs)[1:])
        self.extra_config = list(extra_config)
        self.modules = list(dict.fromkeys(codec_modules + list(modules))) + (["sndfile.so"] if record else [])
        self.account_params = account_params
        self.rec_dir = os.path.join(folder, "rec") if record else None
        self.sip_port = h.free_consecutive_ports(2)  # baresip listens for TLS on its SIP port + 1
        self.ctrl_port = h.free_port(udp=False)
        self.rtp_lo, self.rtp_hi = h.free_port_range(rtp_port_count)
        self.net_address = net_address
        self.log = os.path.join(folder, "baresip.log")
        self.proc = None
        self.control = None

    def config_text(self):
        lines = ["poll_method\tepoll", f"sip_listen\t127.0.0.1:{self.sip_port}", f"net_interface\t{self.net_address}",
                 f"rtp_ports\t{self.rtp_lo}-{self.rtp_hi}", f"audio_source\taufile,{self.tone}",
                 "audio_player\taufile,/dev/null", "audio_alert\taufile,/dev/null",
                 f"module_path\t{MODULE_PATH}", "module\tg711.so", "module\taufile.so"]
        lines += [f"module\t{m}" for m in self.modules]
        if self.rec_dir:
            lines.append(f"snd_path\t{self.rec_dir}")
        lines += self.extra_config
        lines += ["module_tmp\taccount.so", "module_app\tmenu.so", "module_app\tctrl_tcp.so",
                  f"ctrl_tcp_listen\t127.0.0.1:{self.ctrl_port}"]
        return "\n".join(lines) + "\n"

    def account_line(self):
        return f"<sip:tester@127.0.0.1:{self.sip_port}>;regint=0;answermode=auto;audio_codecs={self.codecs}" \
               f"{self.account_params}\n"

    def start(self):
        if self.rec_dir:
            os.makedirs(self.rec_dir, exist_ok=True)
        with open(os.path.join(self.folder, "config"), "w") as f:
            f.write(self.config_text())
        with open(os.path.join(self.folder, "accounts"), "w") as f:
            f.write(self.account_line())
        self.proc = h.spawn([self.binary, "-f", self.folder, "-s", "-t", "300"], self.log, cwd=self.folder)

        def up():
            if self.proc.poll() is not None:
                raise h.Failure(f"baresip exited with {self.proc.returncode}:\n{self.log_text()[-2000:]}")
            return h.can_connect(self.ctrl_port)
        h.poll_until(up, START_TIMEOUT_S, "baresip's ctrl_tcp listener", 0.2)
        self.control = BaresipControl(self.ctrl_port)
        return self

    def log_text(self):
        try:
            return read_text(self.log)
        except FileNotFoundError:
            return ""

    def module_errors(self):
        """Log lines where baresip reports a module it could not load ("dl: mod: ..." from the loader,
        "module X.so: <error>" from baresip)."""
        return [line for line in self.log_text().splitlines()
                if "dl: mod:" in line or re.search(r"module [\w.-]+\.so: ", line)]

    def send_digits(self, digits, gap_s=0.3):
        """Type digits (0-9, *, #, A-D) on the call: menu's `sndcode` presses and releases each key, and
        baresip sends it as RFC 4733 telephone-events on the negotiated payload type. gap_s between keys."""
        for digit in digits:
            self.control.command("sndcode", digit)
            time.sleep(gap_s)

    def recordings(self, kind="dec"):
        """Paths of the dump-*-<kind>.wav files sndfile wrote, oldest first."""
        if not self.rec_dir:
            return []
        return sorted(glob.glob(os.path.join(self.rec_dir, f"dump-*-{kind}.wav")), key=os.path.getmtime)

    def stop(self):
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.proc is not None:
            return h.stop_process(self.proc)
        return None
