#!/usr/bin/env python3
"""docker/Dockerfile builds an image that runs chorusd (issue 14).

- `docker build -f docker/Dockerfile .` from the source folder (the build stage makes the .deb, the
  runtime stage installs it with apt).
- `docker run` with its SIP UDP port and HTTP port published on free loopback ports: /healthz
  answers 200; `/` and /vendor/jssip.min.js are served; an OPTIONS and an INVITE to room 1000 over
  the published UDP port are answered 200 (ACK, then BYE answered 200); the log says the share dir is
  /usr/share/chorus found next to the executable; chorusd runs as a user other than root; the image's
  HEALTHCHECK turns the container `healthy`.
- The container and the image are removed at the end, whatever happened.

Media is not checked here: RTP would need the whole port range published and --public-ip set to the
host (test_package.py hears the prompt from the same package without a container).
Skips (77) with the reason when the docker command is missing or no Docker daemon answers
(`docker info` fails), which is the case on machines without Docker.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import install_smoke as smoke  # noqa: E402

TEST = "test_docker"
BUILD_TIMEOUT_S = 3300  # a first build installs Debian packages and compiles everything
HEALTHY_TIMEOUT_S = 120.0  # the HEALTHCHECK's start period, a 30 s interval, and room to spare


def docker(*args, timeout_s=120, **kw):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout_s, **kw)


def require_daemon():
    h.require_binary("docker", "docker.io")
    try:
        info = docker("info", "--format", "{{.ServerVersion}}", timeout_s=30)
    except subprocess.TimeoutExpired:
        raise h.Skip("no Docker daemon answered `docker info` within 30 s") from None
    if info.returncode != 0 or not info.stdout.strip():
        reason = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        raise h.Skip(f"no Docker daemon is reachable ({reason})")
    return info.stdout.strip()


def build_image(source_dir, tag, outdir):
    log_path = os.path.join(outdir, "docker-build.log")
    with open(log_path, "w") as log:
        result = subprocess.run(["docker", "build", "-f", os.path.join(source_dir, "docker", "Dockerfile"),
                                 "-t", tag, source_dir], stdout=log, stderr=subprocess.STDOUT,
                                timeout=BUILD_TIMEOUT_S)
    if result.returncode != 0:
        with open(log_path) as f:
            tail = f.read()[-3000:]
        raise h.Failure(f"docker build failed ({result.returncode}); {log_path}:\n{tail}")


def container_logs(name):
    result = docker("logs", name)
    return (result.stdout + result.stderr).splitlines()


def health_status(name):
    result = docker("inspect", "--format", "{{json .State}}", name)
    if result.returncode != 0:
        return None, None
    state = json.loads(result.stdout)
    return state.get("Status"), (state.get("Health") or {}).get("Status")


def check_container(name, sip_port, http_port, routes, checks):
    def ready():
        status, _ = health_status(name)
        if status not in ("created", "running"):
            raise h.Failure(f"the container is {status}; its log:\n" + "\n".join(container_logs(name)[-30:]))
        return any("msg=ready" in line for line in container_logs(name)) and \
            h.options_probe(sip_port, "UDP", timeout_s=1.0) == 200
    h.poll_until(ready, 60.0, "chorusd in the container to log msg=ready and answer OPTIONS", 0.5)
    checks.expect(True, "OPTIONS over the published UDP port is answered 200")
    smoke.expect_served(http_port, routes, None, checks, "container")
    fields = smoke.share_dir_line(container_logs(name)) or {}
    checks.expect(fields.get("share_dir") == "/usr/share/chorus" and fields.get("found") == "next to the executable",
                  f"the log names the share dir /usr/share/chorus, found next to the executable ({fields})")
    uid = docker("exec", name, "id", "-u").stdout.strip()
    checks.expect(uid not in ("", "0"), f"chorusd runs as a user other than root (uid {uid!r})")

    peer = h.UdpPeer()
    try:
        call_id = h.new_token("docker-") + "@127.0.0.1"
        uri = f"sip:{smoke.ROOM}@127.0.0.1:{sip_port}"
        offer = h.sdp_offer("127.0.0.1", h.free_port(tcp=False))
        ok = h.invite_answered(peer, ("127.0.0.1", sip_port), uri, call_id, "dockercheck", offer, 10.0)
        checks.expect(h.sdp_audio_port(ok.body) is not None, "INVITE to room 1000: 200 with an SDP answer, ACKed")
        peer.send(h.in_dialog_request("BYE", ok, peer, 2), ("127.0.0.1", sip_port))
        final, _ = h.wait_final(peer, 5.0, lambda m: m.call_id == call_id and m.cseq == (2, "BYE"))
        checks.expect(final is not None and final.code == 200,
                      f"BYE answered 200 ({final.summary() if final else 'nothing'})")
    except h.Failure as e:
        checks.expect(False, str(e))
    finally:
        peer.close()

    deadline = h.Deadline(HEALTHY_TIMEOUT_S)
    health = None
    for _ in range(int(HEALTHY_TIMEOUT_S / 2) + 2):
        _, health = health_status(name)
        if health in ("healthy", "unhealthy") or deadline.expired():
            break
        time.sleep(2)
    checks.expect(health == "healthy", f"the image's HEALTHCHECK (/healthz) makes the container healthy ({health})")


def body(args):
    server_version = require_daemon()
    print(f"Docker daemon {server_version}", flush=True)
    source_dir = os.path.realpath(args.source_dir)
    os.makedirs(args.output_dir, exist_ok=True)
    token = h.new_token()[:12].lower()
    tag, name = f"chorus-test:{token}", f"chorus-test-{token}"
    checks = h.Checks()
    try:
        print(f"--- docker build -f docker/Dockerfile -t {tag} {source_dir}", flush=True)
        build_image(source_dir, tag, args.output_dir)
        sip_port, http_port = h.free_port(tcp=False), h.free_port(udp=False)
        run = docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{sip_port}:5060/udp",
                     "-p", f"127.0.0.1:{http_port}:8080/tcp", tag, "--log-level", "debug")
        if run.returncode != 0:
            raise h.Failure(f"docker run failed: {run.stderr.strip()}")
        check_container(name, sip_port, http_port, smoke.web_routes(source_dir), checks)
        stop = docker("stop", "--time", "20", name, timeout_s=60)
        code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        checks.expect(stop.returncode == 0 and code == "0", f"the container stops on SIGTERM with exit code 0 ({code})")
    finally:
        with open(os.path.join(args.output_dir, "container.log"), "w") as f:
            f.write("\n".join(container_logs(name)) + "\n")
        docker("rm", "-f", name)
        docker("rmi", "-f", tag)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
