#!/usr/bin/env python3
"""bench/video_mcu (issue "Video MCU", Performance): an mcu room's composited frames/s and CPU cost.

Composited frames per second and CPU-seconds per output second of a video MCU room, beside a plain
gst-launch-1.0 decode → compositor → encode pipeline fed the same packets in the same run.

Inputs. Before any run, two clips are encoded once with gst-launch-1.0 (videotestsrc at 1280x720,
30 fps, `vp8enc deadline=1 cpu-used=8 target-bitrate=1500000 keyframe-max-dist=30 end-usage=cbr`,
`rtpvp8pay pt=96 mtu=1200 picture-id-mode=15-bit`, written as RFC 4571 length-prefixed packets by
rtpstreampay into a file): 300 frames of the senders' clip (10 s, a key frame every 30 frames;
videotestsrc `--pattern`, default `pattern=ball`, which compresses to ~150 kbit/s: one packet a frame,
so decoding and fan-out are light; `pattern=zone-plate kx2=20 ky2=20 kt=1` makes ~1.4 Mbit/s), and 10
frames of solid red (the latency marker, below). One Python thread replays them for every sender, so
the senders cost the machine almost nothing: on absolute deadlines every 1/30 s it sends all packets of
each sender's next frame, looping the clip with continuous sequence numbers, timestamps (+3000 a
frame), PictureIDs and the sender's own SSRC. Sender j starts 30·j/N frames after sender 0, so the
senders' key frames do not all land in the same tick. A PLI or FIR a sender gets makes it jump to the
clip's next key frame (the replayer cannot encode one on demand).

Systems, each run on the CPUs of --cpus (taskset; default all, the machine's budget):
- chorusd: a fresh server per (senders, receivers) run (--workers 1, --media-timeout 3600 because the
  receivers send nothing, --sip-trusted-sources 127.0.0.1 because every call comes from here, a temp
  data dir, --log-level info for the SIGUSR1 counters). Room `bench` is made over REST
  (`POST /v1/rooms` with "mode": "mcu", the admin token from <data-dir>/admin-token). Then over
  SIP/UDP (media_pps.SdesCall's INVITE/ACK/BYE) the senders join, each offering one plain
  `m=video RTP/AVPF 96` VP8 section with `a=rtcp-fb:96 nack pli`, `a=rtcp-mux`, `a=sendonly` and its
  a=ssrc, then the receivers the same with `a=recvonly`. The senders send to their answers' video
  ports from the port their offer names; each receiver counts what chorusd sends to its port under
  the SSRC its answer's a=ssrc names. Every participant is a tile in chorusd's grid (receivers too,
  as plain tiles), so the grid is that of min(senders + receivers, 16) members: 2x2 to 4x4.
- baseline: one gst-launch-1.0 per sender count with N `udpsrc ! rtpjitterbuffer latency=50 !
  rtpvp8depay ! vp8dec ! compositor.sink_i` branches, the compositor at 1280x720 30 fps → `vp8enc
  deadline=1 cpu-used=8 end-usage=cbr target-bitrate=1500000 lag-in-frames=0 threads=1 ! rtpvp8pay
  mtu=1200 ! udpsink` to one counting socket. Its grid is chorusd's with one receiver (N + 1 members:
  sender i in cell i, the receiver's cell left black), so both scale the same tiles.

Measured over a --seconds window after --warmup: the system's process CPU (utime+stime from
/proc/PID/stat, and per thread with digits in the names folded), frames each receiver got (RTP marker
bits; their min and median per second), its bit rate and sequence gaps; the frames each sender was
sent; this driver's own CPU (it shares the cores); for chorusd its video_mcu_* and media_dropped_*
counters (SIGUSR1 status line). Figures: CPU-s per output second = CPU / window; frames per CPU-second
= median fps / (CPU / window); the ratio of chorusd's to the baseline's for the same senders.

Glass-to-glass latency (after the window, so its decoding is not in the CPU figures; --latency-samples
0 skips it): a probe gst-launch (udpsrc ! rtpvp8depay ! vp8dec ! videoscale to 128x72 RGB ! fdsink)
decodes receiver 0's copy of the output (after a PLI to chorusd for a key frame) and notes when tile
0's centre turns red. Sender 0 (tile 0) switches to the red clip (a key frame first, 10 frames, then
back to the senders' clip's first key frame); the latency is from the replayer sending the red key frame's
first packet to the probe's decoded frame showing red. The same is measured once straight from the
replayer to the probe (no server): "added" is each system's figure minus that direct p50 (the probe's
own depayload, decode and scale). With about 20 samples, p99 is the largest. A marker the output never
shows within 3 s (an output far below 30 fps can skip it) is counted as missed; three end the series.

Printed: a markdown table of every run (and warnings: silent receivers, socket drops, a late replayer,
an output above 30 fps while it catches up a backlog), the latency table, CPU per thread group, then the
checks: the most senders (9) sustained at 720p30 (min receiver fps ≥ 95% of 30) and what it costs; flat
cost (CPU-s per second at the most receivers / at the fewest, target ≤ 1.10: one encode per class; the
CPU-ms per composited frame is added when the two outputs' fps differ); frames per CPU-second ≥ the
baseline's (chorusd at the fewest receivers, target ratio ≥ 1.0; with --pairs N, N baseline/chorusd
pairs alternated and the median of their ratios, since one run's figures move ±10% on a shared VM; the
extra pairs run without the latency probe and stay out of the tables). Raw JSON of each
run goes to stderr; nothing is written to RESULTS.md. Everything started is stopped by PID.

Usage: bench/video_mcu.py --chorusd build/bin/chorusd [--senders 4,9] [--receivers 1,10,50]
         [--seconds 20] [--warmup 5] [--cpus 0-1] [--systems chorusd,baseline] [--latency-samples 20]
         [--pattern "pattern=zone-plate kx2=20 ky2=20 kt=1"] [--pairs 3]
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import bench_support as bs
from video_mcu_support import (
    CLIP_FRAMES, ENCODE, FPS, HEIGHT, MARK_FRAMES, PT, RTP_CAPS, WIDTH, PlainVideoCall, Probe, Receivers, Replayer,
    Sink, Stream, checks, latency_table, make_room, measure_latency, media_socket, read_text, record_clip, runs_table,
    start_ticks, stop_process, threads_table)

MAX_GRID_TILES = 16  # chorusd's grid stops at 4x4 (mixer/video/video_layout.hpp)


# ---------------------------------------------------------------------------------------------
# Measurement common to both systems.

def driver_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def snapshot(pid, sinks, replayer, server_ports, server=None):
    """What the window's figures are differences of; `server_ports`: where the senders send to."""
    snap = {"time": time.monotonic(), "cpu": bs.cpu_seconds(pid), "threads": bs.thread_cpu(pid),
            "driver": driver_cpu(), "sinks": [s.counters() for s in sinks], "replayer": replayer.stats(),
            "sink_drops": sum(bs.udp_drops(s.port) for s in sinks),
            "server_drops": sum(bs.udp_drops(p) for p in server_ports)}
    if server is not None:
        snap["status"] = server.status()
    return snap


STATUS_COUNTERS = ("video_mcu_packets_in", "video_mcu_packets_refused", "video_mcu_packets_out",
                   "video_mcu_keyframes_forced", "video_mcu_keyframe_requests", "media_packets_in",
                   "media_dropped_source", "media_dropped_malformed", "media_dropped_send")


def figures(before, after, senders):
    wall = after["time"] - before["time"]
    per_sink = [tuple(a - b for a, b in zip(after_s, before_s))
                for before_s, after_s in zip(before["sinks"], after["sinks"])]
    fps = [p[2] / wall for p in per_sink]
    kbps = [8 * p[1] / wall / 1000 for p in per_sink]
    cpu = after["cpu"] - before["cpu"]
    cpu_per_s = cpu / wall
    median_fps = statistics.median(fps) if fps else 0.0
    sent = {k: after["replayer"][k] - before["replayer"][k] for k in after["replayer"] if k != "max_late_ms"}
    row = {"wall_s": wall, "cpu_s": cpu, "cpu_per_s": cpu_per_s,
           "fps_min": min(fps) if fps else 0.0, "fps_median": median_fps, "fps_max": max(fps) if fps else 0.0,
           "kbps_median": statistics.median(kbps) if kbps else 0.0,
           "frames_per_cpu_s": median_fps / cpu_per_s if cpu_per_s > 0 else 0.0,
           "gaps": sum(p[3] for p in per_sink), "foreign": sum(p[5] for p in per_sink),
           "timestamps_per_s_median": statistics.median(p[6] / wall for p in per_sink) if per_sink else 0.0,
           "receivers_silent": sum(1 for p in per_sink if p[0] == 0),
           "sender_fps": sent["frames"] / senders / wall if senders else 0.0,
           "replayer": sent | {"max_late_ms": after["replayer"]["max_late_ms"]},
           "driver_cpu_per_s": (after["driver"] - before["driver"]) / wall,
           "receiver_socket_drops": after["sink_drops"] - before["sink_drops"],
           "server_socket_drops": after["server_drops"] - before["server_drops"],
           "threads": bs.thread_groups(before, after, wall)}
    if "status" in after:
        row["counters"] = {c: (after["status"].get(c, 0) - before["status"].get(c, 0))
                           if c in after["status"] else None for c in STATUS_COUNTERS}
    return row


def grid_side(members):
    """chorusd's grid (mixer/video/video_layout.hpp): 1, 2, 3 or 4 columns and rows."""
    return 1 if members <= 1 else 2 if members <= 4 else 3 if members <= 9 else 4


def grid_cells(members):
    side = grid_side(members)
    cell_w, cell_h = WIDTH // side // 2 * 2, HEIGHT // side // 2 * 2
    return [((i % side) * cell_w, (i // side) * cell_h, cell_w, cell_h) for i in range(min(members, side * side))]


def check_threads(*threads):
    for t in threads:
        if t is not None and t.error:
            raise RuntimeError(f"{t.name} thread failed: {t.error}")


# ---------------------------------------------------------------------------------------------
# Runs.

def start_load(sinks, streams, clips, warmup):
    """Starts the receivers' thread and the replayer, waits out the warm-up, checks both still run."""
    sink_thread = Receivers(sinks)
    sink_thread.start()
    replayer = Replayer(clips["clip"], clips["red"], streams)
    replayer.start()
    time.sleep(warmup)
    check_threads(replayer, sink_thread)
    return sink_thread, replayer


def stop_all(*parts):
    """Stops each started part (the probe, the replayer, the receivers' thread); None: not started."""
    for part in parts:
        if part:
            part.stop()


def chorusd_run(args, clips, senders, receivers):
    """A fresh chorusd, `senders` replayed senders and `receivers` counting receivers in room bench."""
    workdir = tempfile.mkdtemp(prefix="chorus-video-mcu-")
    server = bs.Chorusd(args.chorusd, workdir, cpu=args.cpus, log_level="info",
                        extra_args=["--workers", "1", "--media-timeout", "3600",
                                    "--sip-trusted-sources", "127.0.0.1"])  # every call comes from here
    server.http_port = bs.free_port()
    server.command[server.command.index("--http-port") + 1] = str(server.http_port)  # bench_support asks for none
    calls, replayer, sink_thread, probe = [], None, None, None
    try:
        server.start()
        make_room(server, workdir)
        for direction, count, name in (("sendonly", senders, "sender"), ("recvonly", receivers, "receiver")):
            for j in range(count):
                # Listed before it starts: its sockets are closed (and a dialog ended) in any case.
                calls.append(PlainVideoCall(server.sip_port, direction, f"{name}{j}"))
                calls[-1].start()
        sending, receiving = calls[:senders], calls[senders:]
        missing = [c.name for c in receiving if c.server_ssrc is None]
        if missing:
            raise RuntimeError(f"no a=ssrc in the answers of {', '.join(missing[:5])}")
        sinks = [Sink(c.media, c.server_ssrc) for c in receiving]
        streams = [Stream(c.media, c.server_rtp, tick) for c, tick in zip(sending, start_ticks(senders))]
        sink_thread, replayer = start_load(sinks, streams, clips, args.warmup)
        ports = [c.server_rtp[1] for c in sending]
        before = snapshot(server.proc.pid, sinks, replayer, ports, server)
        time.sleep(args.seconds)
        after = snapshot(server.proc.pid, sinks, replayer, ports, server)
        check_threads(replayer, sink_thread)
        if server.proc.poll() is not None:
            raise RuntimeError(f"chorusd exited ({server.proc.returncode}) during the window")
        row = {"system": "chorusd", "senders": senders, "receivers": receivers,
               "grid": grid_side(min(senders + receivers, MAX_GRID_TILES))} | figures(before, after, senders)
        if args.latency_samples:
            probe = Probe(workdir)
            sinks[0].forward_to = ("127.0.0.1", probe.port)
            row["latency"] = measure_latency(streams[0], probe, args.latency_samples, kick=receiving[0].send_pli)
        return row
    except Exception:
        with open(server.log_path, errors="replace") as f:
            print("video_mcu: chorusd log tail:\n" + "".join(f.readlines()[-25:]), file=sys.stderr)
        raise
    finally:
        stop_all(probe, replayer, sink_thread)
        end = time.monotonic() + 30  # BYEs take a round trip each; never wait on a dead server
        for call in calls:
            if server.proc is not None and server.proc.poll() is None and time.monotonic() < end:
                call.stop()
            else:
                call.sock.close()
            call.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def baseline_command(args, ports, out_port, members):
    """gst-launch-1.0: N × (udpsrc → jitter buffer → depay → vp8dec) → compositor (chorusd's grid of
    `members`) → vp8enc → rtpvp8pay → udpsink to out_port."""
    cmd = ["taskset", "-c", args.cpus, "gst-launch-1.0", "compositor", "name=c", "background=black"]
    for i, (x, y, w, h) in enumerate(grid_cells(members)[:len(ports)]):
        cmd += [f"sink_{i}::xpos={x}", f"sink_{i}::ypos={y}", f"sink_{i}::width={w}", f"sink_{i}::height={h}"]
    cmd += ["!", f"video/x-raw,width={WIDTH},height={HEIGHT},framerate={FPS}/1", "!",
            "vp8enc", *ENCODE, "lag-in-frames=0", "threads=1", "!", "rtpvp8pay", "mtu=1200", f"pt={PT}", "!",
            "udpsink", "host=127.0.0.1", f"port={out_port}", "sync=false", "async=false"]
    for i, port in enumerate(ports):
        cmd += ["udpsrc", "address=127.0.0.1", f"port={port}", f"caps={RTP_CAPS}", "!", "rtpjitterbuffer",
                "latency=50", "!", "rtpvp8depay", "!", "vp8dec", "!", f"c.sink_{i}"]
    return cmd


def baseline_run(args, clips, senders):
    """The plain pipeline fed by the same replayer; its one output counted like a receiver."""
    workdir = tempfile.mkdtemp(prefix="chorus-video-mcu-baseline-")
    held = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(senders)]
    for s in held:  # distinct free ports, held until gst-launch is about to bind them
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in held]
    out = media_socket()
    members = senders + 1  # chorusd's grid with one receiver
    cmd = baseline_command(args, ports, out.getsockname()[1], members)
    log_path = os.path.join(workdir, "gst-launch.log")
    proc, replayer, sink_thread, probe, streams = None, None, None, None, []
    try:
        for s in held:
            s.close()
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 15
        while "PLAYING" not in read_text(log_path):
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"the baseline pipeline did not start ({proc.poll()}): "
                                   f"{read_text(log_path)[-2000:]}")
            time.sleep(0.05)
        sinks = [Sink(out)]
        streams = [Stream(media_socket(), ("127.0.0.1", port), tick) for port, tick in zip(ports, start_ticks(senders))]
        sink_thread, replayer = start_load(sinks, streams, clips, args.warmup)
        before = snapshot(proc.pid, sinks, replayer, ports)
        time.sleep(args.seconds)
        after = snapshot(proc.pid, sinks, replayer, ports)
        check_threads(replayer, sink_thread)
        if proc.poll() is not None:
            raise RuntimeError(f"the baseline pipeline exited ({proc.returncode}) during the window")
        row = {"system": "baseline", "senders": senders, "receivers": 1, "grid": grid_side(members)} | \
            figures(before, after, senders)
        if args.latency_samples:
            probe = Probe(workdir)
            sinks[0].forward_to = ("127.0.0.1", probe.port)
            row["latency"] = measure_latency(streams[0], probe, args.latency_samples)
        return row
    finally:
        stop_all(probe, replayer, sink_thread)
        stop_process(proc)
        for s in streams:
            s.sock.close()
        out.close()
        shutil.rmtree(workdir, ignore_errors=True)


def direct_latency(args, clips):
    """The probe fed straight by the replayer (no server): its own depayload, decode and scale time."""
    workdir = tempfile.mkdtemp(prefix="chorus-video-mcu-probe-")
    probe = Probe(workdir)
    stream = Stream(media_socket(), ("127.0.0.1", probe.port), 0)
    replayer = None
    try:
        time.sleep(1.0)  # gst-launch binds its port; the stream then starts with a key frame
        replayer = Replayer(clips["clip"], clips["red"], [stream])
        replayer.start()
        return measure_latency(stream, probe, args.latency_samples)
    finally:
        if replayer:
            replayer.stop()
        probe.stop()
        stream.sock.close()
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# What the bench needs, and the command line.

GST_ELEMENTS = ("videotestsrc", "vp8enc", "vp8dec", "rtpvp8pay", "rtpvp8depay", "rtpstreampay", "rtpjitterbuffer",
                "compositor", "udpsrc", "udpsink", "filesink", "fdsink", "videoscale", "videoconvert")


def missing_tools(args, systems):
    missing = [tool for tool in ("gst-launch-1.0", "gst-inspect-1.0", "taskset") if not shutil.which(tool)]
    if not missing:
        for element in GST_ELEMENTS:
            if subprocess.run(["gst-inspect-1.0", element], capture_output=True).returncode != 0:
                missing.append(element)
    if "chorusd" in systems and not os.access(args.chorusd, os.X_OK):
        missing.append(args.chorusd)
    return missing


def measure(args, clips, system, senders, receivers):
    """One run of `system`; a failed run becomes a row with its error, so the other runs still give
    their figures."""
    try:
        return baseline_run(args, clips, senders) if system == "baseline" else \
            chorusd_run(args, clips, senders, receivers)
    except Exception as e:
        return {"system": system, "senders": senders, "receivers": receivers, "error": str(e)}


def extra_pairs(args, clips, senders):
    """--pairs beyond the first: baseline then chorusd at the fewest receivers, again, latency probes off
    (the ratio needs none; each pair is measured alike). Their rows carry "pair" and stay out of the
    tables; checks() takes the median ratio over every pair."""
    quiet = argparse.Namespace(**{**vars(args), "latency_samples": 0})
    rows = []
    for pair in range(1, args.pairs):
        for system in ("baseline", "chorusd"):
            row = measure(quiet, clips, system, senders, min(args.receivers))
            row["pair"] = pair
            rows.append(row)
            print(f"video_mcu: pair {pair} {system} {senders}: {json.dumps(row)}", file=sys.stderr, flush=True)
            time.sleep(1)
    return rows


def int_list(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: comma-separated integers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text}: positive integers")
    return values


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chorusd", required=True)
    ap.add_argument("--senders", type=int_list, default=[4, 9], help="sender counts, comma-separated")
    ap.add_argument("--receivers", type=int_list, default=[1, 10, 50], help="receiver counts (chorusd runs)")
    ap.add_argument("--seconds", type=float, default=20, help="measurement window")
    ap.add_argument("--warmup", type=float, default=5, help="sending before the window")
    ap.add_argument("--cpus", default=f"0-{os.cpu_count() - 1}", help="taskset CPU list for chorusd and the baseline")
    ap.add_argument("--systems", default="chorusd,baseline", help="chorusd, baseline or both")
    ap.add_argument("--latency-samples", type=int, default=20, help="markers per run for the latency (0: skip)")
    ap.add_argument("--pairs", type=int, default=1, help="baseline/chorusd pairs at the fewest receivers, alternated; "
                    "the ratio check takes their median (this VM's figures move ±10%% run to run)")
    ap.add_argument("--pattern", default="pattern=ball", help="videotestsrc properties of the senders' clip; ball "
                    "encodes to ~150 kbit/s, 'pattern=zone-plate kx2=20 ky2=20 kt=1' to ~1.4 Mbit/s")
    args = ap.parse_args()
    systems = args.systems.split(",")
    if set(systems) - {"chorusd", "baseline"}:
        ap.error("--systems takes chorusd and/or baseline")
    missing = missing_tools(args, systems)
    if missing:
        print(f"video_mcu: needs {', '.join(missing)} (GStreamer base and good plugins, util-linux, chorusd)")
        return 77
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"video_mcu: warning: load average {load:.2f}; other work on the cores skews the CPU and fps figures",
              file=sys.stderr)
    workdir = tempfile.mkdtemp(prefix="chorus-video-mcu-clips-")
    try:
        clips = {"clip": record_clip(workdir, "clip", ["videotestsrc", *args.pattern.split()], CLIP_FRAMES),
                 "red": record_clip(workdir, "red", ["videotestsrc", "pattern=solid-color",
                                                     "foreground-color=0xffff0000"], MARK_FRAMES)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for clip in clips.values():
        print(f"video_mcu: clip {clip.name}: {clip.describe()}", file=sys.stderr, flush=True)
    direct = None
    if args.latency_samples:
        direct = direct_latency(args, clips)
        print(f"video_mcu: probe alone: {json.dumps(direct)}", file=sys.stderr, flush=True)
    rows, pairs = [], []
    for senders in args.senders:
        runs = ([("baseline", 1)] if "baseline" in systems else []) + \
               ([("chorusd", n) for n in args.receivers] if "chorusd" in systems else [])
        for system, receivers in runs:
            row = measure(args, clips, system, senders, receivers)
            rows.append(row)
            print(f"video_mcu: {system} {senders}x{receivers}: {json.dumps(row)}", file=sys.stderr, flush=True)
            time.sleep(1)  # let sockets and stragglers settle
        if set(systems) == {"chorusd", "baseline"}:
            pairs.extend(extra_pairs(args, clips, senders))
    print(f"Senders' clip: videotestsrc {args.pattern}, {clips['clip'].describe()}.")
    print()
    print(runs_table(args, rows))
    print()
    if args.latency_samples:
        print(latency_table(rows, direct))
    else:
        print("Glass-to-glass latency: not measured (--latency-samples 0).")
    print()
    print(threads_table(rows))
    print()
    print(checks(args, rows, pairs))
    return 1 if any("error" in r for r in rows + pairs) else 0


if __name__ == "__main__":
    sys.exit(main())
