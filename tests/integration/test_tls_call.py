#!/usr/bin/env python3
"""A whole call over SIP/TLS (RFC 3261 §26.3.1 transport, RFC 5922 certificate check) with the server
certificate VERIFIED against a throwaway CA made here with the openssl CLI (SAN IP:127.0.0.1).

Cases:
  python_ssl_call   Python's ssl (OpenSSL) client, check_hostname on, server_hostname 127.0.0.1:
                    INVITE (SDP, Via SIP/2.0/TLS, Contact ;transport=tls) -> 200 whose m=audio port lies
                    within --rtp-ports -> ACK -> BYE -> 200.
  python_ssl_wrong_ca  the same client trusting another CA: the handshake must fail.
  s_client_call     `openssl s_client -verify_return_error -CAfile CA -verify_ip 127.0.0.1` carries the
                    same INVITE/ACK/BYE through its stdin/stdout.
  s_client_wrong_ca s_client trusting another CA must refuse the connection.
Then chorusd must return to no transactions, dialogs or media ports.
"""

import os
import select
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_tls_call"
CALL_TIMEOUT_S = 10.0
OPENSSL_TIMEOUT_S = 60


def openssl(args, cwd):
    run = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, timeout=OPENSSL_TIMEOUT_S)
    if run.returncode != 0:
        raise h.Failure(f"openssl {' '.join(args)} failed: {run.stderr.decode(errors='replace')}")


def make_ca(folder, name):
    """A self-signed CA certificate and key: (ca.pem, ca.key)."""
    cert, key = os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}.key")
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN=Chorus test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            folder)
    return cert, key


def make_server_cert(folder, ca_cert, ca_key):
    """A server certificate for IP 127.0.0.1 signed by the CA: (cert.pem, key.pem)."""
    key, csr, cert = (os.path.join(folder, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(folder, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", csr, "-subj", "/CN=127.0.0.1"], folder)
    openssl(["x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
             "-days", "2", "-extfile", ext], folder)
    return cert, key


def tls_connect(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)  # CERT_REQUIRED, check_hostname on
    raw = socket.create_connection(("127.0.0.1", port), timeout=CALL_TIMEOUT_S)
    try:
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    except BaseException:
        raw.close()
        raise


def invite_for(peer, server):
    uri = f"sip:1000@127.0.0.1:{server.sips_port};transport=tls"
    via = f"SIP/2.0/TLS {peer.host}:{peer.port};branch={h.new_branch()};rport"
    return h.build_request("INVITE", uri, via=via, from_=f"<sip:tls-tester@127.0.0.1>;tag={h.new_token()}",
                           to="<sip:1000@127.0.0.1>", call_id=h.new_token("tls-"), cseq=1,
                           contact=f"<sip:tls-tester@{peer.host}:{peer.port};transport=tls>",
                           body=h.sdp_offer("127.0.0.1", 40000))


def whole_call(peer, server, checks, label):
    """INVITE -> 200 (SDP port in range) -> ACK -> BYE -> 200 over an established TLS peer."""
    invite = invite_for(peer, server)
    call_id = h.parse_sip(invite).call_id
    peer.send(invite)
    ok, _ = h.wait_final(peer, CALL_TIMEOUT_S, lambda m: m.call_id == call_id)
    if not checks.expect(ok is not None and ok.code == 200,
                         f"{label}: INVITE over TLS answered 200 (got {ok.code if ok else 'nothing'})"):
        return
    port = h.sdp_audio_port(ok.body)
    checks.expect(port is not None and server.rtp_lo <= port <= server.rtp_hi,
                  f"{label}: 200's m=audio port {port} lies within --rtp-ports {server.rtp_lo}-{server.rtp_hi}")
    bye = h.ack_and_bye(peer, None, ok, CALL_TIMEOUT_S)
    checks.expect(bye is not None and bye.code == 200,
                  f"{label}: BYE over TLS answered 200 (got {bye.code if bye else 'nothing'})")


class SClientPeer(h.StreamPeer):
    """The plaintext side of `openssl s_client`: its stdin goes out over TLS, its stdout is what came in."""

    def __init__(self, proc):
        super().__init__(None, "TLS")
        self.proc = proc

    def send(self, data, addr=None):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _read(self, timeout_s):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        if not ready:
            return None
        return os.read(self.proc.stdout.fileno(), 65535)

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        h.stop_process(self.proc)


def s_client(port, cafile, log_path):
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", cafile,
                                 "-verify_return_error", "-verify_ip", "127.0.0.1", "-brief"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    finally:
        log.close()
    return h.track(proc)


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def s_client_cases(server, ca, other_ca, outdir, checks):
    good_log = os.path.join(outdir, "s_client_call.log")
    peer = SClientPeer(s_client(server.sips_port, ca, good_log))
    try:
        whole_call(peer, server, checks, "s_client_call")
    finally:
        peer.close()
    checks.expect("Verification: OK" in read_text(good_log) or "Verified peername: 127.0.0.1" in read_text(good_log),
                  "s_client_call: s_client reports the server certificate verified")

    bad_log = os.path.join(outdir, "s_client_wrong_ca.log")
    proc = s_client(server.sips_port, other_ca, bad_log)
    try:
        proc.stdin.close()
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        code = "still running after 30 s"
    finally:
        h.stop_process(proc)
    checks.expect(code not in (0, "still running after 30 s") and "verify" in read_text(bad_log).lower(),
                  f"s_client_wrong_ca: s_client refuses a certificate from another CA (exit {code})")


def python_cases(server, ca, other_ca, checks):
    peer = h.StreamPeer(tls_connect(server.sips_port, ca), "TLS")
    try:
        whole_call(peer, server, checks, "python_ssl_call")
    finally:
        peer.close()
    try:
        tls_connect(server.sips_port, other_ca).close()
        refused = "handshake succeeded"
    except ssl.SSLCertVerificationError as e:
        refused = f"refused: {e.verify_message}"
    except (ssl.SSLError, OSError) as e:
        refused = f"failed otherwise: {e}"
    checks.expect(refused.startswith("refused"),
                  f"python_ssl_wrong_ca: a client trusting another CA fails the handshake ({refused})")


def body(args):
    h.require_binary("openssl", "openssl")
    pki = os.path.join(args.output_dir, "pki")
    os.makedirs(pki, exist_ok=True)
    ca, ca_key = make_ca(pki, "ca")
    other_ca, _ = make_ca(pki, "other-ca")
    cert, key = make_server_cert(pki, ca, ca_key)
    checks = h.Checks()
    server = h.Chorusd(args.chorusd, args.output_dir, extra_args=["--tls-cert", cert, "--tls-key", key]).start()
    h.poll_until(lambda: h.can_connect(server.sips_port), 10, f"the TLS listener on port {server.sips_port}")
    python_cases(server, ca, other_ca, checks)
    s_client_cases(server, ca, other_ca, args.output_dir, checks)
    h.expect_quiescent(server, checks)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
