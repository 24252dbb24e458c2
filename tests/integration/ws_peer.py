"""A minimal RFC 6455 WebSocket client for SIP over WebSocket (RFC 7118), standard library only.

`WsPeer.connect(port, ...)` opens a TCP (or TLS) connection and sends the opening handshake
(RFC 6455 §4.1) offering the `sip` subprotocol; `handshake` then holds the server's answer (status,
headers, body). Once upgraded, `send_text()` / `send_frame()` write masked client frames (§5.3),
`recv_message()` reassembles data frames and answers pings, and `recv()` returns the next SIP message
parsed by chorus_harness.parse_sip. A close frame from the server is answered, its code kept in
`close_code`, and the socket closed, so a server that fails the connection (1009, 1002) sees an
orderly end. Every read is bounded by a timeout.
"""

import base64
import hashlib
import os
import socket
import struct

import chorus_harness as h

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HttpAnswer:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # {lower-case name: value}
        self.body = body


def read_http_answer(sock, timeout_s, first=b""):
    """The HTTP response head (and a Content-Length body) from sock; None when the server closed or
    timed out before a whole head arrived. Returns (answer, bytes left over after it)."""
    buf = first
    deadline = h.Deadline(timeout_s)
    while b"\r\n\r\n" not in buf:
        if deadline.expired():
            return None, buf
        sock.settimeout(max(0.001, deadline.remaining()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return None, buf
        except OSError:
            chunk = b""
        if not chunk:
            return None, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None, buf
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length and not deadline.expired():
        sock.settimeout(max(0.001, deadline.remaining()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, OSError):
            break
        if not chunk:
            break
        rest += chunk
    return HttpAnswer(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, rest[:length]), rest[length:]


def wait_closed(sock, timeout_s):
    """Reads and discards until the server closes (True) or timeout_s passes (False)."""
    deadline = h.Deadline(timeout_s)
    while not deadline.expired():
        sock.settimeout(max(0.001, deadline.remaining()))
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except OSError:  # reset counts as closed
            return True
    return False


class WsPeer:
    transport = "WS"

    def __init__(self, sock, handshake, leftover):
        self.sock = sock
        self.handshake = handshake
        self.buf = leftover
        self.close_code = None
        self.closed = False
        # RFC 7118 §5.2: a browser does not know its address, so its Via names an invalid host.
        self.host = h.new_token() + ".invalid"

    @classmethod
    def connect(cls, port, *, subprotocol="sip", origin=None, host="127.0.0.1", timeout_s=5.0, tls_context=None,
                extra_headers=()):
        sock = socket.create_connection((host, port), timeout=timeout_s)
        if tls_context is not None:
            sock = tls_context.wrap_socket(sock, server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET / HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if subprotocol is not None:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        if origin is not None:
            lines.append(f"Origin: {origin}")
        lines += [f"{n}: {v}" for n, v in extra_headers]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer, leftover = read_http_answer(sock, timeout_s)
        peer = cls(sock, answer, leftover)
        if answer is not None and answer.status == 101:
            expected = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
            if answer.headers.get("sec-websocket-accept") != expected:
                raise h.Failure(f"101 with a wrong Sec-WebSocket-Accept: {answer.headers}")
        return peer

    @property
    def upgraded(self):
        return self.handshake is not None and self.handshake.status == 101

    # ---- frames (RFC 6455 §5.2)

    def send_frame(self, opcode, payload, fin=True):
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)  # §5.3: every client frame is masked
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, data):
        self.send_frame(OP_TEXT, data if isinstance(data, bytes) else data.encode())

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            if deadline.expired():
                return None
            self.sock.settimeout(max(0.001, deadline.remaining()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_frame(self, deadline):
        head = self._read_exact(2, deadline)
        if head is None:
            return None
        fin, opcode, masked, n = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
        if n == 126:
            ext = self._read_exact(2, deadline)
            n = struct.unpack("!H", ext)[0] if ext else None
        elif n == 127:
            ext = self._read_exact(8, deadline)
            n = struct.unpack("!Q", ext)[0] if ext else None
        if n is None:
            return None
        mask = self._read_exact(4, deadline) if masked else b""
        payload = self._read_exact(n, deadline) if n else b""
        if payload is None or mask is None:
            return None
        if masked:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(fin), opcode, payload

    def recv_message(self, timeout_s):
        """(opcode, payload) of the next data message, or None (timeout, or the server closed: see
        close_code). Pings are answered with pongs on the way (§5.5.2)."""
        deadline = h.Deadline(timeout_s)
        parts, first_opcode = [], None
        while True:
            frame = self._read_frame(deadline)
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                self.closed = True
                self.sock.close()
                return None
            if first_opcode is None:
                first_opcode = opcode
            parts.append(payload)
            if fin:
                return first_opcode, b"".join(parts)

    def recv(self, timeout_s):
        """The next SIP message (chorus_harness.SipMessage), or None."""
        message = self.recv_message(timeout_s)
        if message is None:
            return None
        return h.parse_sip(message[1]) or h.SipMessage("<unparsable>", [], b"", message[1])

    def send(self, data, addr=None):
        self.send_text(data)

    def close(self):
        """An orderly close (§7.1.2): our close frame, the server's answer, then the socket."""
        if self.closed:
            return
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", 1000))
            self.recv_message(2.0)
        except OSError:
            pass
        self.closed = True
        self.sock.close()
