#!/usr/bin/env python3
"""Process hardening (issue 12, "Process" and "Randomness"): attacks a real chorusd on loopback.

- Descriptors: the test lowers its own soft RLIMIT_NOFILE (to 1024) before starting chorusd, which
  must raise it to the hard limit: /proc/<pid>/limits shows soft == hard, and the log says so.
- Files: started under umask 022, chorusd still creates chorus.db, chorus.db-wal, chorus.db-shm and
  admin-token with mode 0600.
- Forged response: a call to room 1000 from a UDP peer that sends no RTP is ended by chorusd's BYE
  (--media-timeout 1). A forger on another port of the same host answers that BYE with a 200 OK
  copied from it (right branch, tags, Call-ID, CSeq). chorusd must ignore it: the BYE keeps being
  retransmitted to the real peer (Timer E, T1 = 500 ms: two more copies arrive after the forgery),
  `sip_responses_wrong_source` counts it and `msg=sip_response_wrong_source` is logged. The real
  peer's 200 then ends the call. (With --sip-response-source-check off the forged 200 completes the
  BYE transaction and no copy follows: the test fails.)
- Resets: 40 HTTP clients ask for /v1/openapi.json and 40 SIP-over-TCP clients send an OPTIONS,
  each resetting its connection (SO_LINGER 0) at once; chorusd keeps answering /healthz and OPTIONS.
- SIGHUP: with a YAML config whose max_calls_per_source is then edited, SIGHUP is logged as a
  reload naming the key that needs a restart; with the file made invalid, SIGHUP keeps the running
  configuration; chorusd answers throughout (SIGHUP's default action would kill it).
- SIGPIPE: a second chorusd logs into a pipe whose reader then closes it; SIGUSR1 (a status line)
  and SIGHUP make it write into the broken pipe. It must stay up (EPIPE, not death by SIGPIPE) and
  exit 0 on SIGTERM.
- Sizing: a third chorusd on the first one's data dir, whose admin-token was made 0644, under a hard
  NOFILE limit of 1500 with --max-calls 2000: it warns about the file and lowers max_calls to
  (1500 - 375) / 6 = 187 (the reserve is min(1024, limit / 4)), and still answers.
"""

import os
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402

TEST = "test_process_hardening"
ROOM = "1000"
T1_MS = 500
LOW_SOFT_NOFILE = 1024
SIZING_HARD_NOFILE = 1500


def mode_of(path):
    return os.stat(path).st_mode & 0o7777


def proc_nofile(pid):
    """(soft, hard) of 'Max open files' in /proc/<pid>/limits, as strings ('unlimited' stays text)."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                parts = line.split()
                return parts[3], parts[4]
    raise h.Failure(f"/proc/{pid}/limits has no 'Max open files' line")


def healthz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as reply:
            return reply.status
    except OSError:
        return None


def log_lines_with(server, *needles, since=0):
    return [line for line in server.log_lines()[since:] if all(n in line for n in needles)]


# ---------------------------------------------------------------------------------------------

def check_descriptors(server, hard_before, checks):
    soft, hard = proc_nofile(server.proc.pid)
    if hard_before == resource.RLIM_INFINITY:  # raised to fs.nr_open instead
        raised = soft not in (str(LOW_SOFT_NOFILE),)
    else:
        raised = soft == hard == str(hard_before)
    checks.expect(raised, f"/proc/<pid>/limits: soft NOFILE raised to the hard limit (soft {soft}, hard {hard}, "
                          f"started with soft {LOW_SOFT_NOFILE})")
    lines = log_lines_with(server, "msg=\"file descriptor limit\"")
    checks.expect(bool(lines) and f"nofile_soft_before={LOW_SOFT_NOFILE}" in lines[0],
                  f"the log gives the limit before and after ({lines[0] if lines else 'no line'})")
    sized = log_lines_with(server, "max_calls", "file descriptor limit")
    checks.expect(any("msg=\"max_calls fits" in line for line in sized),
                  f"the log says max_calls fits the limit ({sized[-1] if sized else 'no line'})")


def check_file_modes(server, checks):
    data = server.data_dir
    for name in ("chorus.db", "chorus.db-wal", "chorus.db-shm", "admin-token"):
        path = os.path.join(data, name)
        if not os.path.exists(path):
            checks.expect(False, f"{name} exists in the data dir")
            continue
        checks.expect(mode_of(path) == 0o600, f"{name} is mode 0600 under umask 022 (got {mode_of(path):04o})")


def call_ended_by_bye(server, peer):
    """Places a call that sends no RTP; returns chorusd's BYE once the media timeout ends it."""
    call_id = h.new_token("ph-")
    request = h.build_request(
        "INVITE", f"sip:{ROOM}@127.0.0.1:{server.sip_port}",
        via=f"SIP/2.0/UDP {peer.host}:{peer.port};branch={h.new_branch()};rport",
        from_=f"<sip:victim@{peer.host}>;tag={h.new_token()}", to=f"<sip:{ROOM}@127.0.0.1>", call_id=call_id,
        cseq=1, contact=f"<sip:victim@{peer.host}:{peer.port}>", body=h.sdp_offer("127.0.0.1", peer.port + 2))
    peer.send(request, ("127.0.0.1", server.sip_port))
    ok, _ = h.wait_final(peer, 10.0, lambda m: m.call_id == call_id)
    if ok is None or ok.code != 200:
        raise h.Failure(f"call to {ROOM} not answered 200: {ok.summary() if ok else 'no final response'}")
    peer.send(h.in_dialog_request("ACK", ok, peer, 1), ("127.0.0.1", server.sip_port))
    deadline = h.Deadline(20.0)
    while not deadline.expired():
        msg = peer.recv(deadline.remaining())
        if msg is not None and not msg.is_response and msg.method == "BYE" and msg.call_id == call_id:
            return msg
    raise h.Failure("chorusd sent no BYE within 20 s of a call that sent no RTP (--media-timeout 1)")


def ok_for(request):
    lines = ["SIP/2.0 200 OK"] + [f"Via: {v}" for v in request.all("via")] + [
        f"From: {request.get('from')}", f"To: {request.get('to')}", f"Call-ID: {request.call_id}",
        f"CSeq: {request.cseq[0]} {request.cseq[1]}", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def forged_response(server, checks):
    peer = h.UdpPeer()
    forger = h.UdpPeer()
    try:
        bye = call_ended_by_bye(server, peer)
        branch = re.search(r"branch=([^;\s,]+)", bye.top_via() or "")
        # The forger answers at once, from another port: well before Timer E's first copy (T1).
        forger.send(ok_for(bye), ("127.0.0.1", server.sip_port))
        copies = 0
        deadline = h.Deadline(15.0)
        while copies < 2 and not deadline.expired():
            msg = peer.recv(deadline.remaining())
            if msg is not None and msg.method == "BYE" and branch and branch.group(1) in (msg.top_via() or ""):
                copies += 1
        checks.expect(copies == 2, f"after the forged 200 from port {forger.port}, the BYE is still retransmitted "
                                   f"to the real peer (copies seen: {copies} of 2)")
        # No response goes back to the forger, and its 200 is counted and logged.
        stray = forger.recv(0.2)
        checks.expect(stray is None, f"the forger gets nothing back ({stray.summary() if stray else 'nothing'})")
        status = server.status()
        checks.expect(status.get("sip_responses_wrong_source", 0) >= 1,
                      f"status line counts the forged response (sip_responses_wrong_source="
                      f"{status.get('sip_responses_wrong_source')})")
        logged = log_lines_with(server, "msg=sip_response_wrong_source")
        mine = [line for line in logged if f":{forger.port} " in line and "level=warn" in line]
        checks.expect(bool(mine), f"a warn line names the forger ({mine[0] if mine else 'no line'})")
        # The real peer's 200 ends the BYE transaction.
        peer.send(ok_for(bye), ("127.0.0.1", server.sip_port))
    finally:
        peer.close()
        forger.close()


def reset_socket(sock):
    # SO_LINGER {on, 0 s}: close() sends RST instead of FIN, while the server may be writing.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def resetting_clients(server, checks):
    for _ in range(40):
        try:
            sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=3)
            sock.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            reset_socket(sock)
        except OSError:
            pass
        try:
            peer = h.StreamPeer.connect(server.sip_port)
            peer.send(h.options_request(peer, server.sip_port))
            reset_socket(peer.sock)
        except OSError:
            pass
    checks.expect(server.alive(), "chorusd survives 80 clients resetting mid-response")
    checks.expect(h.poll_until(lambda: healthz(server.http_port) == 200, 10, "/healthz 200") == True,  # noqa: E712
                  "/healthz still answers 200")
    checks.expect(h.options_probe(server.sip_port, "TCP") == 200, "OPTIONS over TCP still answered 200")


def sighup(server, config_path, checks):
    since = len(server.log_lines())
    with open(config_path, "w") as f:
        f.write("max_calls_per_source: 5\n")
    os.kill(server.proc.pid, signal.SIGHUP)
    try:
        line = h.poll_until(lambda: log_lines_with(server, "SIGHUP: changed settings apply only after a restart",
                                                   since=since), 10, "the SIGHUP reload lines")
        checks.expect("keys=max_calls_per_source" in line[0], f"SIGHUP names the changed key ({line[0]})")
    except h.Failure as e:
        checks.expect(False, f"{e}; alive: {server.alive()}")
    checks.expect(server.alive() and h.options_probe(server.sip_port) == 200, "alive and answering after SIGHUP")
    if not server.alive():
        return
    since = len(server.log_lines())
    with open(config_path, "w") as f:
        f.write("max_calls_per_source: [not, a, number\n")
    os.kill(server.proc.pid, signal.SIGHUP)
    try:
        h.poll_until(lambda: log_lines_with(server, "configuration not reloaded", since=since), 10,
                     "the SIGHUP refusal of a broken file")
        checks.expect(True, "SIGHUP with a broken file keeps the running configuration (logged)")
    except h.Failure as e:
        checks.expect(False, str(e))
    checks.expect(server.alive() and h.options_probe(server.sip_port) == 200, "alive after SIGHUP with a broken file")


def broken_stderr_pipe(args, checks):
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-pipe")
    proc = h.track(subprocess.Popen(server.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, cwd=args.output_dir, start_new_session=True))
    seen = b""
    deadline = h.Deadline(h.READY_TIMEOUT_S)
    while b"msg=ready" not in seen and not deadline.expired() and proc.poll() is None:
        readable, _, _ = select.select([proc.stdout], [], [], deadline.remaining())
        if readable:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    if b"msg=ready" not in seen:
        raise h.Failure(f"chorusd (logging to a pipe) never logged msg=ready:\n{seen[-2000:].decode(errors='replace')}")
    h.poll_until(lambda: h.options_probe(server.sip_port, timeout_s=1.0) == 200, 10, "OPTIONS answered")
    proc.stdout.close()  # the log reader goes away (a `| logger` that exited)
    for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGUSR1):
        os.kill(proc.pid, sig)  # each makes chorusd write a log line into the broken pipe
        time.sleep(0.2)
    answered = h.options_probe(server.sip_port, timeout_s=3.0)
    died = proc.poll()
    checks.expect(died is None and answered == 200,
                  f"chorusd whose stderr pipe broke is still up and answering (exit status "
                  f"{'-' + signal.Signals(-died).name if died is not None and died < 0 else died}, OPTIONS {answered})")
    code = h.stop_process(proc)
    checks.expect(code == 0, f"and exits 0 on SIGTERM (got {code})")


def sizing_and_exposed_file(args, data_dir, checks):
    os.chmod(os.path.join(data_dir, "admin-token"), 0o644)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < SIZING_HARD_NOFILE:
        checks.expect(True, f"(sizing skipped: the hard NOFILE limit {hard} is below {SIZING_HARD_NOFILE})")
        return
    # Irreversible for this process: the last step. chorusd inherits hard = soft = 1500.
    resource.setrlimit(resource.RLIMIT_NOFILE, (SIZING_HARD_NOFILE, SIZING_HARD_NOFILE))
    server = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-small", data_dir=data_dir,
                       extra_args=["--max-calls", "2000"]).start()
    expected = (SIZING_HARD_NOFILE - min(1024, SIZING_HARD_NOFILE // 4)) // 6  # the reserve: a quarter here
    lowered = log_lines_with(server, "max_calls lowered to fit the file descriptor limit")
    checks.expect(bool(lowered) and f"max_calls={expected}" in lowered[0] and "level=warn" in lowered[0],
                  f"max_calls 2000 lowered to {expected} under NOFILE {SIZING_HARD_NOFILE} "
                  f"({lowered[0] if lowered else 'no line'})")
    exposed = log_lines_with(server, "secret file readable by group or others", "admin-token")
    checks.expect(bool(exposed) and "mode=0644" in exposed[0],
                  f"a warning names the 0644 admin-token ({exposed[0] if exposed else 'no line'})")
    h.expect_clean_stop(server, checks)


def body(args):
    checks = h.Checks()
    os.umask(0o022)  # a usual shell umask: without its own, chorusd would create 0644 files
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= LOW_SOFT_NOFILE:
        raise h.Skip(f"the hard NOFILE limit is {hard}: nothing to raise the soft limit to")
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_SOFT_NOFILE, hard))
    config_path = os.path.join(args.output_dir, "chorus.yaml")
    with open(config_path, "w") as f:
        f.write("max_calls_per_source: 20\n")
    server = h.Chorusd(args.chorusd, args.output_dir, t1_ms=T1_MS,
                       extra_args=["--media-timeout", "1", "--config", config_path]).start()
    check_descriptors(server, hard, checks)
    check_file_modes(server, checks)
    forged_response(server, checks)
    resetting_clients(server, checks)
    sighup(server, config_path, checks)
    if server.alive():
        h.expect_quiescent(server, checks)
        h.expect_clean_stop(server, checks)
    else:
        checks.expect(False, f"chorusd died (exit status {server.proc.returncode}); log tail:\n{server.tail(5)}")
    broken_stderr_pipe(args, checks)
    sizing_and_exposed_file(args, server.data_dir, checks)
    return checks.failures


def main():
    return h.run(TEST, body, __doc__)


if __name__ == "__main__":
    sys.exit(main())
