"""Shared pieces of the audio MCU tests (test_audio_conference.py, test_audio_pin.py): baresip agents in
one chorusd room, what each heard on a common clock, and chorusd's REST view of the room.

Every agent records with baresip's sndfile module: dump-*-enc.wav is what it sent (before encoding),
dump-*-dec.wav what it heard (after decoding). sndfile writes each 20 ms frame as it passes, so a
`RecordingClock` that watches the files grow (every few ms) places every recording on the test's
monotonic clock: sample k of a file was written no earlier than t0 + k/rate, and the smallest
(observation time − samples already written / rate) over all observations is t0. The test then asks for
the level of a tone between two moments it noted while driving the call (`time.monotonic()`), e.g.
"after all three were in the room and before the first hung up", whatever each file's own start.

Standard library only.
"""

import math
import os
import struct
import threading
import time

import chorus_harness as h
import media_checks
import rest_client

CALL_TIMEOUT_S = 20.0
CLOSE_TIMEOUT_S = 15.0
RECORDING_TIMEOUT_S = 10.0
CLOCK_POLL_S = 0.003
CLOCK_MAX_S = 300.0  # the watcher thread ends by itself after this long
# What baresip logs when a module has registered itself.
REGISTERED = {"srtp.so": "mediaenc: srtp", "sndfile.so": "aufilt: sndfile", "g722.so": "aucodec: G722",
              "opus.so": "aucodec: opus"}


def now():
    return time.monotonic()


# ---------------------------------------------------------------------------------------------
# Recordings on the test's clock.

def _wav_layout(path):
    """(data offset, bytes per frame, rate) of a WAV being written, or None while its header is incomplete."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    for _ in range(64):  # a bounded walk over the header's chunks
        if pos + 8 > len(head):
            return None
        cid, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if cid == b"fmt " and pos + 8 + 16 <= len(head):
            _, channels, rate, _, block_align, _ = struct.unpack_from("<HHIIHH", head, pos + 8)
            fmt = (block_align, rate)
        elif cid == b"data":
            return (pos + 8, fmt[0], fmt[1]) if fmt and fmt[0] > 0 and fmt[1] > 0 else None
        pos += 8 + size + (size & 1)
    return None


class RecordingClock:
    """Watches the dump-*-{enc,dec}.wav files of some agents grow, on its own thread."""

    def __init__(self, agents):
        self.agents = list(agents)
        self.samples = {}  # path -> [(monotonic time, file size)] at each change of size
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        deadline = h.Deadline(CLOCK_MAX_S)
        last_glob, paths = 0.0, []
        while not self.stopping.is_set() and not deadline.expired():
            t = now()
            if t - last_glob > 0.1:  # new files appear when calls start; look for them ten times a second
                paths = [p for a in self.agents for kind in ("enc", "dec") for p in a.recordings(kind)]
                last_glob = t
            for path in paths:
                try:
                    size = os.path.getsize(path)
                except OSError:
                    continue
                t = now()
                with self.lock:
                    seen = self.samples.setdefault(path, [])
                    if not seen or seen[-1][1] != size:
                        seen.append((t, size))
            time.sleep(CLOCK_POLL_S)

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)

    def start_time(self, path):
        """The monotonic time of the file's first sample, or None when it was never seen growing."""
        layout = _wav_layout(path)
        with self.lock:
            seen = list(self.samples.get(path, []))
        if layout is None or not seen:
            return None
        offset, frame_bytes, rate = layout
        starts = [t - ((size - offset) // frame_bytes) / rate for t, size in seen if size > offset]
        return min(starts) if starts else None


class Recording:
    """One WAV read once (mono floats) and its first sample's time on the test's clock."""

    def __init__(self, path, t0):
        self.path = path
        self.t0 = t0
        self.wav = media_checks.read_wav(path)

    @property
    def end(self):
        return self.t0 + self.wav.duration_s

    def samples(self, t_from, t_to):
        rate = self.wav.rate
        first = max(0, int((t_from - self.t0) * rate))
        last = min(len(self.wav.samples), max(first, int((t_to - self.t0) * rate)))
        return self.wav.samples[first:last]

    def covered(self, t_from, t_to):
        """Seconds of [t_from, t_to) that the recording holds."""
        return max(0.0, min(t_to, self.end) - max(t_from, self.t0))

    def level_db(self, freq, t_from, t_to):
        """Level (dBFS) of the sine at freq between two monotonic times (media_checks.tone_energy_db's
        measure: Hann window, Goertzel, a full-scale sine is 0 dB)."""
        chunk = self.samples(t_from, t_to)
        if len(chunk) < 2:
            return media_checks.SILENCE_DB
        window = media_checks._hann(len(chunk))
        power = media_checks._goertzel_power([x * w for x, w in zip(chunk, window)], self.wav.rate, freq)
        amplitude = 2.0 * math.sqrt(power) / sum(window)
        return 20.0 * math.log10(amplitude) if amplitude > 0 else media_checks.SILENCE_DB

    def audible_s(self, t_from, t_to, threshold_db=-40.0, frame_s=0.02):
        """Seconds of [t_from, t_to) in frame_s frames louder than threshold_db (media_checks.audible_seconds)."""
        chunk = self.samples(t_from, t_to)
        frame = max(1, int(frame_s * self.wav.rate))
        threshold = 10.0 ** (threshold_db / 10.0)
        loud = sum(1 for i in range(0, len(chunk) - frame + 1, frame)
                   if sum(x * x for x in chunk[i:i + frame]) / frame > threshold)
        return loud * frame / self.wav.rate

    def onset(self, t_from, t_to, fraction=0.3, floor=0.01):
        """Monotonic time of the first sample in [t_from, t_to) whose magnitude reaches `fraction` of the
        span's peak (None when the peak is under `floor`, i.e. nothing arrived)."""
        chunk = self.samples(t_from, t_to)
        peak = max((abs(x) for x in chunk), default=0.0)
        if peak < floor:
            return None
        first = max(0, int((t_from - self.t0) * self.wav.rate))
        for i, x in enumerate(chunk):
            if abs(x) >= fraction * peak:
                return self.t0 + (first + i) / self.wav.rate
        return None


def recording(agent, clock, kind="dec"):
    """The agent's newest dump-*-<kind>.wav on the clock; Failure when it is missing or was not seen growing."""
    def ready():
        files = agent.recordings(kind)
        return files[-1] if files and os.path.getsize(files[-1]) > 44 else None
    path = h.poll_until(ready, RECORDING_TIMEOUT_S, f"a dump-*-{kind}.wav in {agent.rec_dir}", 0.2)
    t0 = clock.start_time(path)
    if t0 is None:
        raise h.Failure(f"{path} was never seen growing, so it cannot be placed in time")
    return Recording(path, t0)


# ---------------------------------------------------------------------------------------------
# Calls.

def registered_modules(agent, modules):
    """The modules of `modules` that baresip did not report as registered (and its module errors)."""
    text = agent.log_text()
    missing = [m for m in modules if m in REGISTERED and REGISTERED[m] not in text]
    return missing, agent.module_errors()


def dial(agent, server, room, label, checks):
    """Dial sip:room@chorusd; the monotonic time of CALL_ESTABLISHED, or None (a failed check)."""
    agent.control.drain()  # events of an earlier call must not be taken for this one's
    since = len(agent.control.events)
    agent.control.command("dial", f"sip:{room}@127.0.0.1:{server.sip_port}")
    try:
        event = agent.control.wait_event("CALL_ESTABLISHED", CALL_TIMEOUT_S, since, stop_on=("CALL_CLOSED",))
    except h.Failure as e:
        event = {"type": "none", "param": str(e)}
    ok = event.get("type") == "CALL_ESTABLISHED"
    checks.expect(ok, f"{label}: call to room {room} established (got {event.get('type')} "
                      f"{event.get('param', '')!r})")
    return now() if ok else None


def hang_up(agent, label, checks):
    agent.control.drain()
    since = len(agent.control.events)
    try:
        agent.control.command("hangup")
        agent.control.wait_event("CALL_CLOSED", CLOSE_TIMEOUT_S, since)
    except h.Failure as e:
        checks.expect(False, f"{label}: hang-up: {e}")


def sleep_until(t):
    time.sleep(max(0.0, t - now()))


# ---------------------------------------------------------------------------------------------
# chorusd's REST view.

class Rest:
    def __init__(self, server):
        self.client = rest_client.RestClient(server.http_port, rest_client.read_admin_token(server.data_dir))

    def participants(self, room):
        """The items of GET /v1/conferences/{room}/participants ([] on any other answer than 200)."""
        reply = self.client.request("GET", f"/v1/conferences/{room}/participants")
        return reply.json().get("items", []) if reply.status == 200 else []

    def wait_participants(self, room, count, timeout_s=10.0):
        """The participant list once it has `count` items; None when it never did."""
        try:
            return h.poll_until(lambda: (lambda items: items if len(items) == count else None)(
                self.participants(room)), timeout_s, f"{count} participants in room {room}", 0.25)
        except h.Failure:
            return None

    def metrics(self):
        """{name: value} of the unlabelled samples in GET /metrics (Prometheus text format)."""
        return self.client.metrics()

    def create_room(self, body):
        return self.client.request("POST", "/v1/rooms", body)

    def close(self):
        self.client.close()
