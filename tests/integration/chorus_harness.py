"""Shared machinery of the integration tests: start and stop chorusd, talk SIP, bound every wait.

Every test script is run by ctest as `python3 SCRIPT --chorusd PATH --source-dir DIR --shared-dir DIR`
and exits 0 (pass), 1 (fail) or 77 (skip). `run()` gives each script that contract: it parses the
arguments, makes the output folder, turns Skip/Failure into exit codes, and stops every process the
test started (by PID, SIGTERM then SIGKILL) whatever happens.

No test depends on timing to pass: every wait polls with a generous bound and fails with what it saw.
"""

import argparse
import atexit
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
READY_TIMEOUT_S = 20.0
STATUS_TIMEOUT_S = 5.0
STOP_GRACE_S = 10.0


class Skip(Exception):
    """The test cannot run here (a peer is missing, ../shared is absent): exit 77."""


class Failure(Exception):
    """The test ran and the server did not do what it must: exit 1."""


# ---------------------------------------------------------------------------------------------
# Network namespaces: tests whose inputs name foreign addresses run where only loopback exists.

def only_loopback():
    """True when this process's network namespace has no interface but lo."""
    try:
        return {name for _, name in socket.if_nameindex()} == {"lo"}
    except OSError:
        return False


def enter_loopback_netns(args, script, why, extra_setup=""):
    """Re-execute `script` under `unshare -n` with lo up (then `extra_setup`, a shell command run in
    the new namespace), keeping the PID — exec all the way down — so ctest's signals still reach the
    test. Returns at once when already there (args.in_netns, set by the re-executed run). Skip when
    unshare is missing or not permitted; `why` says what the namespace is for."""
    if args.in_netns:
        if not only_loopback():
            raise Failure("--in-netns was given but this namespace has interfaces besides lo")
        return
    if only_loopback() and not extra_setup:
        return
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip:
        raise Skip(f"`unshare` and `ip` (util-linux, iproute2) are needed {why}")
    setup = "ip link set lo up" + (f" && {extra_setup}" if extra_setup else "")
    probe = subprocess.run([unshare, "-n", "--", "sh", "-c", setup], capture_output=True, timeout=30)
    if probe.returncode != 0:
        raise Skip(f"unshare -n is not permitted here: {probe.stderr.decode(errors='replace').strip()}")
    sys.stdout.flush()
    os.execv(unshare, [unshare, "-n", "--", "sh", "-c", setup + ' && exec "$0" "$@"',
                       sys.executable, os.path.abspath(script)] + sys.argv[1:] + ["--in-netns"])


# ---------------------------------------------------------------------------------------------
# Processes: everything started through spawn() is stopped by PID at exit.

_children = []


def read_log_lines(path):
    """A process's log file as text lines (undecodable bytes replaced); [] before it exists."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []


def spawn(cmd, log_path, cwd=None, env=None, stdin=subprocess.DEVNULL):
    """Start cmd with stdout+stderr appended to log_path; it is stopped at exit if still running."""
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=log, stderr=subprocess.STDOUT,
                                cwd=cwd, env=env, start_new_session=True)
    finally:
        log.close()
    _children.append(proc)
    return proc


def track(proc):
    """Stop proc (a Popen started elsewhere, e.g. with pipes) at exit like spawn()ed ones."""
    _children.append(proc)
    return proc


def stop_process(proc, grace_s=STOP_GRACE_S):
    """SIGTERM by PID, SIGKILL after grace_s; returns the exit code."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=grace_s)
    return proc.returncode


def _stop_all_children():
    for proc in reversed(_children):
        try:
            stop_process(proc)
        except Exception:  # cleanup must go on for the others
            traceback.print_exc()


atexit.register(_stop_all_children)


def _exit_on_signal(signum, _frame):
    # ctest's timeout or ^C: unwind through finally blocks and atexit so children are stopped.
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------
# Waiting: one deadline type, one polling loop.

class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def remaining(self):
        return max(0.0, self.end - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.end


def poll_until(probe, timeout_s, what, interval_s=0.1):
    """Call probe() until it returns something truthy; Failure after timeout_s."""
    deadline = Deadline(timeout_s)
    last = None
    for _ in range(int(timeout_s / interval_s) + 2):
        last = probe()
        if last:
            return last
        if deadline.expired():
            break
        time.sleep(min(interval_s, deadline.remaining()))
    raise Failure(f"timed out after {timeout_s:.1f} s waiting for {what}")


class Checks:
    """Collects failed expectations so one run reports all of them."""

    def __init__(self):
        self.failures = []

    def expect(self, condition, message):
        print(f"  {'ok  ' if condition else 'FAIL'} {message}", flush=True)
        if not condition:
            self.failures.append(message)
        return bool(condition)


# ---------------------------------------------------------------------------------------------
# Environment checks.

def require_binary(name, package):
    path = shutil.which(name)
    if not path:
        raise Skip(f"`{name}` is not installed (Debian package {package}); scripts/install-deps.sh installs it")
    return path


def require_shared(shared_dir, *parts):
    path = os.path.join(shared_dir, *parts)
    if not os.path.exists(path):
        raise Skip(f"{path} is absent (the shared test data lives beside the repository as ../shared)")
    return path


# ---------------------------------------------------------------------------------------------
# Ports.

_handed_out = set()


def _can_bind(port, kind):
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port(udp=True, tcp=True):
    """A loopback port free for the wanted protocols now (and not handed out before by this process)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port in _handed_out:
            continue
        if (not udp or _can_bind(port, socket.SOCK_DGRAM)) and (not tcp or _can_bind(port, socket.SOCK_STREAM)):
            _handed_out.add(port)
            return port
    raise Failure("no free loopback port found in 200 tries")


def free_consecutive_ports(count):
    """LO such that LO .. LO+count-1 are all free for UDP and TCP now (baresip takes its SIP port + 1 for TLS)."""
    for _ in range(100):
        lo = free_port()
        ports = range(lo + 1, lo + count)
        if all(p not in _handed_out and _can_bind(p, socket.SOCK_DGRAM) and _can_bind(p, socket.SOCK_STREAM)
               for p in ports):
            _handed_out.update(ports)
            return lo
    raise Failure(f"no {count} consecutive free loopback ports found in 100 tries")


def can_connect(port, host="127.0.0.1"):
    """True when a TCP connection to host:port is accepted now."""
    try:
        socket.create_connection((host, port), timeout=1.0).close()
        return True
    except OSError:
        return False


def free_port_range(count):
    """LO, HI such that every UDP port in [LO, HI] is free now."""
    for _ in range(100):
        lo = random.randrange(20000, 60000 - count, 2)
        ports = range(lo, lo + count)
        if any(p in _handed_out for p in ports):
            continue
        if all(_can_bind(p, socket.SOCK_DGRAM) for p in ports):
            _handed_out.update(ports)
            return lo, lo + count - 1
    raise Failure(f"no free range of {count} UDP ports found in 100 tries")


# ---------------------------------------------------------------------------------------------
# logfmt (`ts=... level=info comp=server msg=ready key="a b"`).

_LOGFMT = re.compile(r'([A-Za-z0-9_.\-]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_logfmt(line):
    fields = {}
    for key, value in _LOGFMT.findall(line):
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        fields[key] = value
    return fields


# ---------------------------------------------------------------------------------------------
# SIP messages: a lenient model, enough to match answers to requests and build ACK/BYE.

COMPACT_NAMES = {"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
                 "c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to",
                 "v": "via", "o": "event", "r": "refer-to", "x": "session-expires", "u": "allow-events"}


class SipMessage:
    def __init__(self, start_line, headers, body, raw):
        self.start_line = start_line
        self.headers = headers  # [(canonical lower-case name, value)] in order, folded lines joined
        self.body = body
        self.raw = raw

    @property
    def is_response(self):
        return self.start_line.startswith("SIP/")

    @property
    def code(self):
        parts = self.start_line.split(None, 2)
        if self.is_response and len(parts) >= 2 and parts[1].isdigit():
            return int(parts[1])
        return None

    @property
    def method(self):
        return None if self.is_response else self.start_line.split(None, 1)[0] if self.start_line.strip() else ""

    @property
    def request_uri(self):
        parts = self.start_line.split()
        return parts[1] if len(parts) >= 3 and not self.is_response else None

    def all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def get(self, name):
        values = self.all(name)
        return values[0] if values else None

    @property
    def call_id(self):
        value = self.get("call-id")
        return value.strip() if value is not None else None

    @property
    def cseq(self):
        """(number, METHOD) or None."""
        m = re.match(r"\s*(\d+)\s+(\S+)", self.get("cseq") or "")
        return (int(m.group(1)), m.group(2)) if m else None

    def top_via(self):
        """The first Via value (first header, first comma-separated element), raw."""
        first = self.get("via")
        return first.split(",")[0].strip() if first is not None else None

    def contact_uri(self):
        value = self.get("contact")
        if not value:
            return None
        m = re.search(r"<([^>]*)>", value)
        return m.group(1) if m else value.split(";")[0].strip()

    def summary(self):
        return self.start_line[:80]


def parse_sip(data):
    """SipMessage from bytes (the first message only), or None when there is no header block."""
    end = data.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end, sep = data.find(b"\n\n"), 2
        if end < 0:
            return None
    lines = re.split(rb"\r?\n", data[:end])
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    headers = []
    for line in lines[1:]:
        text = line.decode("utf-8", "replace")
        if text[:1] in (" ", "\t") and headers:  # RFC 3261 §7.3.1: folded continuation line
            name, value = headers[-1]
            headers[-1] = (name, value + " " + text.strip())
            continue
        name, colon, value = text.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        headers.append((COMPACT_NAMES.get(name, name), value.strip()))
    body = data[end + sep:]
    msg = SipMessage(lines[0].decode("utf-8", "replace").rstrip("\r"), headers, body, data)
    length = content_length(msg)
    if length is not None and 0 <= length <= len(body):
        msg.body = body[:length]
    return msg


def content_length(msg):
    values = msg.all("content-length")
    if len(values) != 1 or not re.fullmatch(r"\s*-?\d+\s*", values[0]):
        return None
    return int(values[0])


def split_stream(buf):
    """(one framed message, rest) from a stream buffer per RFC 3261 §18.3, or (None, buf) if incomplete.

    Leading CRLFs (keep-alives) are skipped; a message without a usable Content-Length is taken to end
    at its header block."""
    stripped = buf.lstrip(b"\r\n")
    end = stripped.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    head = parse_sip(stripped[:end + 4])
    length = content_length(head) if head else None
    total = end + 4 + max(0, length or 0)
    if len(stripped) < total:
        return None, buf
    return stripped[:total], stripped[total:]


def new_token(prefix=""):
    return prefix + "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))


def new_branch():
    return "z9hG4bK" + new_token()


def build_request(method, uri, *, via, from_, to, call_id, cseq, contact=None, extra=(), body=b"",
                  content_type="application/sdp"):
    """Bytes of a request. via is the whole Via value; extra is [(name, value)]."""
    lines = [f"{method} {uri} SIP/2.0", f"Via: {via}", "Max-Forwards: 70", f"From: {from_}", f"To: {to}",
             f"Call-ID: {call_id}", f"CSeq: {cseq} {method}"]
    if contact:
        lines.append(f"Contact: {contact}")
    lines += [f"{n}: {v}" for n, v in extra]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sdp_offer(ip, port, direction="sendrecv", version=1):
    return (f"v=0\r\no=tester 4711 {version} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na={direction}\r\n").encode()


def sdp_audio_port(body):
    m = re.search(rb"^m=audio (\d+) ", body, re.M)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# Peers: one UDP socket, or one stream (TCP/TLS) connection, each reading whole SIP messages.

class UdpPeer:
    transport = "UDP"

    def __init__(self, port=0, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()

    def send(self, data, addr):
        self.sock.sendto(data, addr)

    def recv(self, timeout_s):
        """The next datagram parsed, or None after timeout_s. Unparsable datagrams are returned raw."""
        self.sock.settimeout(max(0.001, timeout_s))
        try:
            data, _ = self.sock.recvfrom(65535)
        except (socket.timeout, ConnectionRefusedError):
            return None
        return parse_sip(data) or SipMessage("<unparsable>", [], b"", data)

    def close(self):
        self.sock.close()


class StreamPeer:
    """A TCP or TLS connection (sock is already connected); recv() frames by Content-Length."""

    def __init__(self, sock, transport="TCP"):
        self.sock = sock
        self.transport = transport
        self.buf = b""
        self.closed = False
        self.host, self.port = sock.getsockname()[:2] if sock is not None else ("127.0.0.1", 9)

    @classmethod
    def connect(cls, port, host="127.0.0.1", timeout_s=5.0):
        return cls(socket.create_connection((host, port), timeout=timeout_s))

    def send(self, data, addr=None):
        self.sock.sendall(data)

    def _read(self, timeout_s):
        """Some bytes; b"" when the peer closed; None on timeout."""
        self.sock.settimeout(max(0.001, timeout_s))
        try:
            return self.sock.recv(65535)
        except socket.timeout:
            return None
        except OSError:  # reset, broken pipe, TLS alert
            return b""

    def recv(self, timeout_s):
        deadline = Deadline(timeout_s)
        for _ in range(10000):
            frame, self.buf = split_stream(self.buf)
            if frame is not None:
                return parse_sip(frame)
            if self.closed or deadline.expired():
                return None
            chunk = self._read(deadline.remaining())
            if chunk is None:
                return None
            if not chunk:
                self.closed = True
            self.buf += chunk
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def wait_final(peer, timeout_s, accept=lambda m: True):
    """(final response, [other messages seen]) from peer, skipping 1xx; final is None on timeout."""
    deadline = Deadline(timeout_s)
    others = []
    for _ in range(1000):
        msg = peer.recv(deadline.remaining())
        if msg is None:
            return None, others
        if msg.is_response and msg.code is not None and msg.code >= 200 and accept(msg):
            return msg, others
        others.append(msg)
        if deadline.expired():
            break
    return None, others


def in_dialog_request(method, ok, peer, cseq, uri=None, body=b"", extra=()):
    """A request inside the dialog a 2xx to our INVITE made (From/To/Call-ID from it, URI = its Contact)."""
    via = f"SIP/2.0/{peer.transport} {peer.host}:{peer.port};branch={new_branch()};rport"
    return build_request(method, uri or ok.contact_uri(), via=via, from_=ok.get("from"), to=ok.get("to"),
                         call_id=ok.call_id, cseq=cseq, body=body, extra=extra)


def ack_for_failure(invite, final):
    """RFC 3261 §17.1.1.3: the ACK to a non-2xx final belongs to the INVITE transaction (same Via)."""
    return build_request("ACK", invite.request_uri, via=invite.top_via(), from_=invite.get("from"),
                         to=final.get("to"), call_id=invite.call_id, cseq=final.cseq[0] if final.cseq else 1)


def file_has(path, text):
    """Whether the file (a peer's log) holds text yet; False while it does not exist."""
    try:
        with open(path, "rb") as f:
            return text.encode() in f.read()
    except FileNotFoundError:
        return False


def invite_answered(peer, server_addr, uri, call_id, user, body, timeout_s, display=None, label=""):
    """INVITE uri from `user` over peer (UDP) with body as its offer, then ACK its 200 (RFC 3261
    §13.2.2.4) and return it; a non-2xx final is ACKed in its transaction (§17.1.1.3) and raised as a
    Failure, as is no final response within timeout_s. `label` prefixes the messages."""
    via = f"SIP/2.0/UDP 127.0.0.1:{peer.port};branch={new_branch()};rport"
    from_ = (f'"{display}" ' if display else "") + f"<sip:{user}@127.0.0.1>;tag={new_token()}"
    request = build_request("INVITE", uri, via=via, from_=from_, to=f"<{uri}>", call_id=call_id, cseq=1,
                            contact=f"<sip:{user}@127.0.0.1:{peer.port}>", body=body)
    peer.send(request, server_addr)
    final, _ = wait_final(peer, timeout_s, lambda m: m.call_id == call_id)
    if final is None:
        raise Failure(f"{label}no final response to the INVITE to {uri} within {timeout_s:.0f} s")
    if final.code != 200:
        peer.send(ack_for_failure(parse_sip(request), final), server_addr)
        raise Failure(f"{label}INVITE to {uri} got {final.summary()}, expected 200")
    peer.send(in_dialog_request("ACK", final, peer, 1), server_addr)
    return final


def ack_and_bye(peer, server_addr, ok, timeout_s=5.0):
    """ACK a 2xx to INVITE (RFC 3261 §13.2.2.4), then BYE the dialog; the BYE's final response or None."""
    number = ok.cseq[0] if ok.cseq else 1
    peer.send(in_dialog_request("ACK", ok, peer, number), server_addr)
    bye = in_dialog_request("BYE", ok, peer, number + 1)
    call_id = ok.call_id
    peer.send(bye, server_addr)
    final, _ = wait_final(peer, timeout_s, lambda m: m.call_id == call_id and m.cseq == (number + 1, "BYE"))
    return final


def options_request(peer, server_port, uri=None):
    via = f"SIP/2.0/{peer.transport} {peer.host}:{peer.port};branch={new_branch()};rport"
    return build_request("OPTIONS", uri or f"sip:127.0.0.1:{server_port}", via=via,
                         from_=f"<sip:probe@{peer.host}>;tag={new_token()}", to=f"<sip:127.0.0.1:{server_port}>",
                         call_id=new_token("probe-"), cseq=1, extra=[("Accept", "application/sdp")])


def options_probe(server_port, transport="UDP", timeout_s=3.0):
    """Final status code of an OPTIONS to the server (None when nothing came back)."""
    try:
        if transport == "UDP":
            peer = UdpPeer()
        else:
            peer = StreamPeer.connect(server_port, timeout_s=timeout_s)
    except OSError:
        return None
    try:
        request = options_request(peer, server_port)
        call_id = parse_sip(request).call_id
        peer.send(request, ("127.0.0.1", server_port))
        final, _ = wait_final(peer, timeout_s, lambda m: m.call_id == call_id)
        return final.code if final else None
    except OSError:
        return None
    finally:
        peer.close()


# ---------------------------------------------------------------------------------------------
# chorusd.

class Chorusd:
    """One chorusd on free loopback ports in its own data dir; its stderr goes to outdir/name.log."""

    def __init__(self, binary, outdir, *, t1_ms=100, rtp_ports=200, extra_args=(), name="chorusd", data_dir=None,
                 trusted_sources="127.0.0.1", dial_out_allow="127.0.0.1", webhook_allow_private=True):
        """data_dir: an existing data dir to reuse (a restart on the same store); default a fresh one.
        trusted_sources: --sip-trusted-sources. The tests' own peers use 127.0.0.1 and send faster
        than one caller may (loads, torture runs), so it is exempt from the SIP per-source limits;
        other loopback addresses (127.0.0.2, .3, ...) are limited as any caller is. "" trusts none.
        dial_out_allow, webhook_allow_private: the tests' callees and webhook receivers are on
        loopback, which chorusd refuses by default (issue 12); they are allowed explicitly here, and
        test_egress_guard passes "" / False to show the refusals."""
        self.binary = binary
        self.outdir = outdir
        self.t1_ms = t1_ms
        self.log_path = os.path.join(outdir, f"{name}.log")
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"{name}-data-", dir=outdir)
        self.sip_port = free_port()
        self.sips_port = free_port(udp=False)
        self.ws_port = free_port(udp=False)
        self.wss_port = free_port(udp=False)  # only bound when a certificate is configured
        self.http_port = free_port(udp=False)
        self.rtp_lo, self.rtp_hi = free_port_range(rtp_ports)
        self.extra_args = list(extra_args)
        self.trusted_sources = trusted_sources
        self.dial_out_allow = dial_out_allow
        self.webhook_allow_private = webhook_allow_private
        self.proc = None
        self.last_status = None

    def command(self):
        return [self.binary, "--data-dir", self.data_dir, "--bind", "127.0.0.1", "--public-ip", "127.0.0.1",
                "--sip-port", str(self.sip_port), "--sips-port", str(self.sips_port),
                "--ws-port", str(self.ws_port), "--wss-port", str(self.wss_port), "--http-port", str(self.http_port),
                "--rtp-ports", f"{self.rtp_lo}-{self.rtp_hi}", "--workers", "1",
                "--log-level", "debug", "--sip-t1", str(self.t1_ms)] + \
            (["--sip-trusted-sources", self.trusted_sources] if self.trusted_sources else []) + \
            (["--dial-out-allow", self.dial_out_allow] if self.dial_out_allow else []) + \
            (["--webhook-allow-private", "true"] if self.webhook_allow_private else []) + self.extra_args

    def start(self):
        with open(self.log_path, "ab") as log:
            log.write(("# " + " ".join(self.command()) + "\n").encode())
        self.proc = spawn(self.command(), self.log_path, cwd=self.outdir)
        self.wait_ready()
        return self

    def log_lines(self):
        return read_log_lines(self.log_path)

    def tail(self, n=30):
        return "\n".join(self.log_lines()[-n:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _must_be_alive(self, doing):
        if not self.alive():
            raise Failure(f"chorusd exited (code {self.proc.returncode}) while {doing}; log tail:\n{self.tail()}")

    def wait_ready(self, timeout_s=READY_TIMEOUT_S):
        """The `msg=ready` line is logged AND an OPTIONS over UDP is answered 200."""
        def probe():
            self._must_be_alive("starting")
            if not any("msg=ready" in line for line in self.log_lines()):
                return False
            return options_probe(self.sip_port, "UDP", timeout_s=1.0) == 200
        try:
            poll_until(probe, timeout_s, "chorusd to log msg=ready and answer OPTIONS with 200", 0.2)
        except Failure as e:
            raise Failure(f"{e}\nlog tail:\n{self.tail()}") from None

    def _status_lines(self):
        return [line for line in self.log_lines() if "msg=status" in line and "comp=server" in line]

    def status(self, timeout_s=STATUS_TIMEOUT_S):
        """SIGUSR1, then the next `msg=status` line parsed into {field: int}."""
        self._must_be_alive("asked for its status")
        seen = len(self._status_lines())
        os.kill(self.proc.pid, signal.SIGUSR1)

        def newer():
            lines = self._status_lines()
            return lines[seen] if len(lines) > seen else None
        line = poll_until(newer, timeout_s, "the msg=status line after SIGUSR1", 0.05)
        fields = parse_logfmt(line)
        self.last_status = {k: int(v) for k, v in fields.items() if v.lstrip("-").isdigit()}
        return self.last_status

    def wait_quiescent(self, t1_ms=None):
        """Poll status() until transactions, dialogs and media ports are all 0.

        Normally that is 64*T1 after the last message (Timers J and L). The bound allows the worst
        legitimate case: a 2xx never ACKed ends its call with a BYE at 64*T1 (RFC 3261 §13.3.1.4),
        and when the peer is already gone that BYE's transaction runs Timer F (another 64*T1) and
        then Timer K (T4, 5 s): 128*T1 + T4, plus 5 s of slack. Polling returns as soon as it is 0.
        """
        t1_ms = t1_ms or self.t1_ms
        keys = ("server_transactions", "client_transactions", "dialogs", "media_ports")
        bound = 128 * t1_ms / 1000.0 + 5.0 + 5.0
        deadline = Deadline(bound)
        status = None
        for _ in range(int(bound / 0.25) + 4):
            status = self.status()
            missing = [k for k in keys if k not in status]
            if missing:
                raise Failure(f"status line lacks {missing}: {status}")
            if all(status[k] == 0 for k in keys):
                return status
            if deadline.expired():
                break
            time.sleep(min(0.25, deadline.remaining()))
        raise Failure(f"chorusd not quiescent after {bound:.1f} s; last status: {status}")

    def stop(self, grace_s=STOP_GRACE_S):
        """SIGTERM (chorusd BYEs every dialog and exits within 5 s), SIGKILL after grace_s."""
        if self.proc is None:
            return None
        return stop_process(self.proc, grace_s)


# ---------------------------------------------------------------------------------------------
# The script contract.

def default_output_dir(chorusd, test_name):
    """build*/test-output/<test>/ when chorusd lives in build*/bin, a fresh temp dir otherwise."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(chorusd)))
    if os.path.basename(os.path.dirname(os.path.abspath(chorusd))) == "bin" and \
            os.path.basename(build).startswith("build"):
        path = os.path.join(build, "test-output", test_name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path
    return tempfile.mkdtemp(prefix=f"chorus-{test_name}-")


def arg_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--chorusd", required=True, help="path of the chorusd binary")
    parser.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    parser.add_argument("--shared-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
    parser.add_argument("--output-dir", help="where logs go (default: build*/test-output/<test>/)")
    return parser


def expect_quiescent(server, checks, label=""):
    """The end of every test's calls: chorusd is still running (Failure if it died) and goes back to
    no transactions, dialogs or media ports (a check). `label` prefixes the check's text."""
    prefix = f"{label}: " if label else ""
    if not server.alive():
        raise Failure(f"{prefix}chorusd died; log tail:\n{server.tail()}")
    try:
        server.wait_quiescent()
        checks.expect(True, f"{prefix}chorusd back to no transactions, dialogs or media ports")
    except Failure as e:
        checks.expect(False, f"{prefix}{e}")


def expect_clean_stop(server, checks):
    """Stops chorusd with SIGTERM and checks it exits 0."""
    code = server.stop()
    checks.expect(code == 0, f"chorusd exits 0 on SIGTERM (got {code})")


def run_in_loopback_netns(test_name, body, parser, script, why, extra_setup=""):
    """run() for a test that must run in a loopback-only network namespace: `parser` (from
    arg_parser, with the test's own options) gets --in-netns, then the script re-executes itself
    under `unshare -n` (enter_loopback_netns, `why` and `extra_setup` as there) and runs body."""
    parser.add_argument("--in-netns", action="store_true", help="already inside the private namespace")
    args, _ = parser.parse_known_args()
    try:
        enter_loopback_netns(args, script, why, extra_setup)
    except Skip as e:
        print(f"SKIP: {e}")
        return EXIT_SKIP
    except Failure as e:
        print(f"FAIL: {e}")
        return EXIT_FAIL
    return run(test_name, body, parser=parser)


def run(test_name, body, description="", parser=None, argv=None):
    """Parse arguments, run body(args) and exit 0/1/77. body raises Skip or Failure, or returns a list
    of failure strings (empty = pass)."""
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    parser = parser or arg_parser(description)
    args = parser.parse_args(argv)
    code = EXIT_FAIL
    args.chorusd = os.path.abspath(args.chorusd)  # processes run with cwd = the output folder
    args.shared_dir = os.path.abspath(args.shared_dir)
    try:
        if not os.access(args.chorusd, os.X_OK):
            raise Failure(f"--chorusd {args.chorusd} is not an executable file")
        args.output_dir = args.output_dir or default_output_dir(args.chorusd, test_name)
        print(f"[{test_name}] output: {args.output_dir}", flush=True)
        failures = body(args) or []
        for failure in failures:
            print(f"FAIL: {failure}")
        code = EXIT_FAIL if failures else EXIT_PASS
    except Skip as e:
        print(f"SKIP: {e}")
        code = EXIT_SKIP
    except Failure as e:
        print(f"FAIL: {e}")
        code = EXIT_FAIL
    except Exception:
        traceback.print_exc()
        code = EXIT_FAIL
    finally:
        _stop_all_children()
    if code == EXIT_FAIL and getattr(args, "output_dir", None):
        print(f"[{test_name}] logs kept in {args.output_dir}")
    elif code == EXIT_PASS:
        print(f"[{test_name}] PASS")
    sys.stdout.flush()
    return code
