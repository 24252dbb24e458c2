"""Pieces the load benchmarks share: free ports, CPU time from /proc, starting and stopping chorusd.

Everything here polls with a bound and stops what it starts by PID.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _stat_cpu_seconds(path):
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()  # comm may hold spaces; fields after it are fixed
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime (proc(5) fields 14, 15)


def cpu_seconds(pid, tid=None):
    """User+system CPU seconds of a process, or of one of its threads when tid is given."""
    return _stat_cpu_seconds(f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat")


def core_busy_seconds(cpu):
    """Seconds core `cpu` spent on anything but idle and iowait since boot (/proc/stat): every thread and
    softirq that ran there, a cross-check on a per-thread figure."""
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields[0] == f"cpu{cpu}":
                ticks = [int(v) for v in fields[1:8]]  # user nice system idle iowait irq softirq
                return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK
    raise RuntimeError(f"no cpu{cpu} in /proc/stat")


def set_autogroup_nice(nice):
    """With CONFIG_SCHED_AUTOGROUP (sched_autogroup_enabled=1) CFS shares a CPU between sessions
    first, so a process's own nice only ranks it inside its session: a benchmark competing with
    other sessions' builds raises its session's weight instead (/proc/self/autogroup; root for
    negative values). Children started afterwards share the session. False when not possible."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            if f.read().strip() != "1":
                return False
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
        return True
    except OSError:
        return False


def thread_id(pid, comm, timeout_s=10.0):
    """The TID of pid's thread named comm (pthread name, /proc/PID/task/TID/comm), or None."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if f.read().strip() == comm:
                        return int(tid)
            except FileNotFoundError:  # the thread ended between listdir and open
                continue
        time.sleep(0.1)
    return None


def udp_drops(port):
    """Datagrams the kernel dropped on the IPv4 UDP sockets bound to port (full receive buffer),
    summed from the last column of /proc/net/udp."""
    total = 0
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                total += int(fields[-1])
    return total


def wait_ready(port, deadline_s=20):
    """Polls with OPTIONS over UDP until chorusd answers 200 (at --log-level warn there is no ready line)."""
    end = time.monotonic() + deadline_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        me = s.getsockname()[1]
        n = 0
        while time.monotonic() < end:
            n += 1
            probe = (f"OPTIONS sip:1000@127.0.0.1:{port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-ready-{n}\r\n"
                     f"From: <sip:bench@127.0.0.1>;tag=b{n}\r\nTo: <sip:1000@127.0.0.1>\r\n"
                     f"Call-ID: ready-{n}@bench\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                     f"Content-Length: 0\r\n\r\n")
            s.sendto(probe.encode(), ("127.0.0.1", port))
            try:
                if s.recv(65535).startswith(b"SIP/2.0 200"):
                    return
            except socket.timeout:
                pass
    raise RuntimeError("chorusd did not answer OPTIONS")


class Chorusd:
    """chorusd on 127.0.0.1 pinned to one CPU (taskset), its output in workdir/chorusd.log."""

    def __init__(self, binary, workdir, cpu, extra_args=(), log_level="warn", rtp_ports="20000-29999", nice=0):
        self.sip_port = free_port()
        self.log_path = os.path.join(workdir, "chorusd.log")
        # nice and taskset exec what follows, so the process started is chorusd itself (same PID).
        self.command = ["nice", "-n", str(nice), "taskset", "-c", str(cpu), binary, "--data-dir", os.path.join(workdir, "var"),
                        "--bind", "127.0.0.1", "--public-ip", "127.0.0.1", "--sip-port", str(self.sip_port),
                        "--sips-port", "0", "--http-port", "0", "--ws-port", "0", "--rtp-ports", rtp_ports,
                        "--log-level", log_level] + list(extra_args)
        self.proc = None

    def start(self):
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        wait_ready(self.sip_port)
        return self

    def status(self, timeout_s=5.0):
        """SIGUSR1, then the next `msg=status` line's integer fields (needs --log-level info); {} if none."""
        def lines():
            with open(self.log_path, errors="replace") as f:
                return [line for line in f if "msg=status" in line]
        seen = len(lines())
        os.kill(self.proc.pid, signal.SIGUSR1)
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            found = lines()
            if len(found) > seen:
                return {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)(?=\s|$)", found[seen])}
            time.sleep(0.05)
        return {}

    def stop(self, grace_s=15):
        """SIGTERM by PID, SIGKILL after grace_s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=grace_s)


def thread_cpu(pid):
    """{tid: (name, CPU seconds)} of every thread of pid alive now."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            threads[tid] = (name, cpu_seconds(pid, tid))
        except (FileNotFoundError, ProcessLookupError):  # the thread ended between listdir and open
            continue
    return threads


def thread_groups(before, after, wall):
    """CPU-s per wall second by thread name with digits folded (media-0 → media-N). Threads born in
    the window count from zero; what threads that ended in it used is only in the process total."""
    groups = {}
    for tid, (name, cpu) in after["threads"].items():
        start = before["threads"].get(tid, (name, 0.0))[1]
        key = re.sub(r"\d+", "N", name)
        groups[key] = groups.get(key, 0.0) + (cpu - start) / wall
    return groups


def print_log_tail(server, who, lines=20):
    """After a failed run: the last `lines` of chorusd's log (server.log_path), to stderr, named by `who`."""
    if server is None or not os.path.exists(server.log_path):
        return
    with open(server.log_path, errors="replace") as f:
        print(f"{who}: chorusd log tail:\n" + "".join(f.readlines()[-lines:]), file=sys.stderr)
