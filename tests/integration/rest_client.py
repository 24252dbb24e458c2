"""A small REST client for chorusd's HTTP API (standard library only), shared by the test_rest_*.py scripts.

`RestClient` keeps one keep-alive connection (http.client) and answers `Reply` values; it retries only
what is safe to retry: a 429 (the request was refused before it ran, RFC 6585 §4) after its Retry-After,
and an idempotent request whose keep-alive connection the server had closed. A POST that fails mid-way
is never retried: whether it ran is unknown (the durability test counts on that).

`EventStream` reads Server-Sent Events (WHATWG HTML §9.2) from GET /v1/events on its own thread.
`WebhookReceiver` is a loopback http.server that records each POST and answers 204.
`verify_webhook_signature` checks a Standard Webhooks signature (HMAC-SHA256, v1).
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import socket
import threading
import time

PROBLEM_TYPE = "application/problem+json"


def read_admin_token(data_dir):
    """The admin token chorusd generated into its data dir (mode 0600) at first start."""
    with open(os.path.join(data_dir, "admin-token")) as f:
        return f.read().strip()


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower(), "")

    @property
    def content_type(self):
        return self.header("content-type").split(";")[0].strip().lower()

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def is_problem(self, status):
        """The status is `status` and the body an RFC 9457 problem with that status."""
        if self.status != status or self.content_type != PROBLEM_TYPE:
            return False
        try:
            problem = self.json()
        except ValueError:
            return False
        return problem.get("status") == status and bool(problem.get("type")) and bool(problem.get("title"))

    def describe(self):
        return f"{self.status} {self.content_type} {self.body[:300]!r}"


class RestClient:
    """One keep-alive connection to 127.0.0.1:port; `token` is sent as Bearer unless a call says otherwise."""

    MAX_429_RETRIES = 60
    IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")

    def __init__(self, port, token=None, timeout_s=15.0):
        self.port = port
        self.token = token
        self.timeout_s = timeout_s
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        return self.conn

    def _once(self, method, path, body, headers):
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.getheader("connection", "").lower() == "close" or response.will_close:
            self.close()
        return Reply(response.status, response.getheaders(), data)

    def request(self, method, path, body=None, *, token=..., headers=None, content_type=None):
        """One request; body may be a dict/list (sent as JSON), bytes or str. token=None sends no
        Authorization; token=... uses the client's."""
        token = self.token if token is ... else token
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            content_type = content_type or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if body is not None:
            all_headers["Content-Type"] = content_type or "application/json"
        for _ in range(self.MAX_429_RETRIES):
            fresh = self.conn is None
            try:
                reply = self._once(method, path, body, all_headers)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # Perhaps a keep-alive connection the server had closed while idle: an idempotent request
                # is sent once more on a new one. A POST or PATCH may have run (RFC 9110 §9.2.2): raise.
                if fresh or method not in self.IDEMPOTENT:
                    raise
                continue
            if reply.status != 429:
                return reply
            time.sleep(min(5.0, max(0.2, float(reply.header("retry-after") or 1))))
        raise RuntimeError(f"{method} {path}: still 429 after {self.MAX_429_RETRIES} tries")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def get_once(self, path):
        """One GET with the client's token and no retry on 429 (request() waits those out)."""
        return self._once("GET", path, None, {"Authorization": f"Bearer {self.token}"} if self.token else {})

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def metrics(self, prefix=""):
        """{name: value} of the unlabelled samples of GET /metrics (public, Prometheus text format) whose
        name starts with `prefix`; empty when /metrics does not answer 200."""
        reply = self.request("GET", "/metrics", token=None)
        values = {}
        for line in (reply.body.decode("utf-8", "replace") if reply.status == 200 else "").splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#") and "{" not in parts[0] and parts[0].startswith(prefix):
                try:
                    values[parts[0]] = float(parts[1])
                except ValueError:
                    pass
        return values

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def expect(self, status, method, path, body=None, **kw):
        """The reply, which must have `status` (AssertionError with the exchange otherwise)."""
        reply = self.request(method, path, body, **kw)
        if reply.status != status:
            raise AssertionError(f"{method} {path} {body!r}: expected {status}, got {reply.describe()}")
        return reply

    def list_all(self, path, limit=200):
        """Every item of a paged collection (items + next_page_token), following the tokens."""
        items, token = [], None
        for _ in range(100000):
            sep = "&" if "?" in path else "?"
            page = self.expect(200, "GET", f"{path}{sep}limit={limit}" + (f"&page_token={token}" if token else ""))
            body = page.json()
            items += body["items"]
            token = body.get("next_page_token")
            if not token:
                return items
        raise AssertionError(f"{path}: paging did not end")


# ---------------------------------------------------------------------------------------------
# Server-Sent Events.

class EventStream:
    """GET /v1/events on a raw socket; a thread parses events into `events` ({id, event, data})."""

    def __init__(self, port, token, path="/v1/events", timeout_s=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.events = []
        self.error = None
        self.lock = threading.Lock()
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                   f"Authorization: Bearer {token}\r\n\r\n")
        self.sock.sendall(request.encode())
        self.file = self.sock.makefile("rb")
        self.status_line = self.file.readline().decode("latin-1").strip()
        self.headers = {}
        for _ in range(200):
            line = self.file.readline().decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.sock.settimeout(None)  # the reader blocks; close() ends it
        self.thread = threading.Thread(target=self._read, daemon=True)
        if self.ok:
            self.thread.start()

    @property
    def ok(self):
        return self.status_line.split()[1:2] == ["200"] and \
            self.headers.get("content-type", "").startswith("text/event-stream")

    def _body_lines(self):
        """Lines of the body, undoing chunked transfer coding (RFC 9112 §7.1)."""
        if not self.chunked:
            for line in self.file:
                yield line
            return
        pending = b""
        for _ in range(10 ** 9):
            size_line = self.file.readline()
            if not size_line:
                return
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            pending += self.file.read(size)
            self.file.readline()  # the CRLF after the chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line + b"\n"

    def _read(self):
        current = {}
        try:
            for raw in self._body_lines():
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if not line:
                    if "data" in current:
                        with self.lock:
                            self.events.append(current)
                    current = {}
                    continue
                if line.startswith(":"):
                    continue  # a comment (keep-alive)
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                current[field] = current[field] + "\n" + value if field == "data" and "data" in current else value
        except (OSError, ValueError) as e:
            self.error = e

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self.thread.is_alive():
            self.thread.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# Webhooks.

class WebhookReceiver:
    """http.server on 127.0.0.1:<free port>; records (headers, body) of every POST and answers 204."""

    def __init__(self):
        self.deliveries = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def snapshot(self):
        with self.lock:
            return list(self.deliveries)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def verify_webhook_signature(secret, headers, body):
    """Standard Webhooks: `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` entries over
    "{webhook-id}.{webhook-timestamp}.{body}", keyed with the base64 after "whsec_". True if one matches."""
    if not secret.startswith("whsec_"):
        return False
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers.get('webhook-id', '')}.{headers.get('webhook-timestamp', '')}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in headers.get("webhook-signature", "").split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False
