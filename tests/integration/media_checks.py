"""Audio checks on WAV recordings made by real peers (gst-launch-1.0 wavenc, baresip sndfile), pure Python.

    dominant_frequency(wav_path)         strongest tone in Hz (Welch scan, then a fine Goertzel search)
    tone_energy_db(wav_path, freq)       level of the sine at freq in dBFS (a full-scale sine is 0 dB)
    audible_seconds(wav_path)            how many seconds of 20 ms frames are louder than -40 dBFS
    duration_s(wav_path)                 length of the recording

The RIFF reader takes PCM 8/16/24/32-bit, IEEE float 32/64 and WAVE_FORMAT_EXTENSIBLE, mixes channels
to mono, and reads to the end of the file when the data chunk's size was never written (a writer that
was killed before it could finalise its header). Standard library only: no numpy, no sox.

By hand: `python3 media_checks.py FILE.wav [FREQ]`.
"""

import array
import math
import struct
import sys

FORMAT_PCM, FORMAT_FLOAT, FORMAT_EXTENSIBLE = 1, 3, 0xFFFE
SILENCE_DB = -200.0  # what a level of exactly zero is reported as
SILENT_MEAN_SQUARE = 1e-9  # -90 dBFS: below this a recording has no dominant tone
COARSE_SEGMENT_S = 0.1  # Welch segments: 10 Hz bins, a Hann main lobe of +-20 Hz
COARSE_STEP_HZ = 10.0
FINE_SPAN_HZ = 15.0
FINE_STEP_HZ = 0.5


class Wav:
    """A recording as mono samples in [-1, 1]."""

    def __init__(self, rate, samples):
        self.rate = rate
        self.samples = samples

    @property
    def duration_s(self):
        return len(self.samples) / self.rate if self.rate else 0.0


def _chunks(data):
    """(id, payload) of each RIFF chunk; a data chunk whose size is unset or too big runs to the end."""
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        end = pos + 8 + size
        if cid == b"data" and (size in (0, 0xFFFFFFFF) or end > len(data)):
            yield cid, data[pos + 8:]
            return
        yield cid, data[pos + 8:end]
        pos = end + (size & 1)  # chunks are padded to an even length


def _decode(raw, fmt, bits):
    if fmt == FORMAT_FLOAT and bits in (32, 64):
        code = "f" if bits == 32 else "d"
        count = len(raw) // (bits // 8)
        return list(struct.unpack(f"<{count}{code}", raw[:count * (bits // 8)]))
    if fmt != FORMAT_PCM:
        raise ValueError(f"WAV format tag {fmt:#x} is not PCM or IEEE float")
    if bits == 8:  # unsigned
        return [(b - 128) / 128.0 for b in raw]
    if bits == 16:
        values = array.array("h")
        values.frombytes(raw[:len(raw) // 2 * 2])
        if sys.byteorder != "little":
            values.byteswap()
        return [v / 32768.0 for v in values]
    if bits in (24, 32):
        width = bits // 8
        scale = float(1 << (bits - 1))
        return [int.from_bytes(raw[i:i + width], "little", signed=True) / scale
                for i in range(0, len(raw) - width + 1, width)]
    raise ValueError(f"{bits}-bit PCM is not supported")


def read_wav(wav_path):
    """Wav (mono, floats) from a RIFF/WAVE file; ValueError when it is not one."""
    with open(wav_path, "rb") as f:
        data = f.read()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{wav_path} is not a RIFF/WAVE file")
    fmt = raw = None
    for cid, body in _chunks(data):
        if cid == b"fmt " and len(body) >= 16:
            fmt = struct.unpack_from("<HHIIHH", body)
            if fmt[0] == FORMAT_EXTENSIBLE and len(body) >= 26:  # the sub-format GUID starts with the tag
                fmt = (struct.unpack_from("<H", body, 24)[0],) + fmt[1:]
        elif cid == b"data":
            raw = body
    if fmt is None or raw is None:
        raise ValueError(f"{wav_path} has no fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if channels < 1 or rate < 1:
        raise ValueError(f"{wav_path}: {channels} channels at {rate} Hz")
    interleaved = _decode(raw[:len(raw) // (channels * bits // 8) * (channels * bits // 8)], tag, bits)
    if channels == 1:
        return Wav(rate, interleaved)
    mono = [sum(interleaved[i:i + channels]) / channels for i in range(0, len(interleaved), channels)]
    return Wav(rate, mono)


def _goertzel_power(samples, rate, freq):
    """|X(freq)|^2 of samples (already windowed) by the Goertzel recurrence."""
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return max(0.0, s1 * s1 + s2 * s2 - coeff * s1 * s2)


def _hann(n):
    return [0.5 - 0.5 * math.cos(2.0 * math.pi * i / (n - 1)) for i in range(n)] if n > 1 else [1.0] * n


def _loudest_window(wav, window_s):
    """The samples of the window_s-long stretch with the most energy (all of them when shorter)."""
    n = int(window_s * wav.rate)
    if n <= 0 or n >= len(wav.samples):
        return wav.samples
    frame = max(1, wav.rate // 50)
    energies = [sum(x * x for x in wav.samples[i:i + frame]) for i in range(0, len(wav.samples), frame)]
    per_window = max(1, n // frame)
    best, best_start, running = -1.0, 0, sum(energies[:per_window])
    for start in range(0, len(energies) - per_window + 1):
        if start:
            running += energies[start + per_window - 1] - energies[start - 1]
        if running > best:
            best, best_start = running, start
    first = best_start * frame
    return wav.samples[first:first + n]


def dominant_frequency(wav_path, lo_hz=50.0, hi_hz=None, window_s=1.0):
    """Frequency (Hz) of the strongest tone in the loudest window_s of the recording.

    A Welch scan (Hann-windowed 0.1 s segments, powers summed, 10 Hz steps) finds the peak's
    neighbourhood; a Goertzel search over the whole window (0.5 Hz steps) and a parabola through the
    three best points place it to well under 1 Hz. None for a silent or empty recording."""
    wav = read_wav(wav_path)
    samples = _loudest_window(wav, window_s)
    hi_hz = min(hi_hz or wav.rate / 2.0, wav.rate / 2.0 - COARSE_STEP_HZ)
    seg = int(COARSE_SEGMENT_S * wav.rate)
    if len(samples) < seg or seg < 8 or sum(x * x for x in samples) / len(samples) < SILENT_MEAN_SQUARE:
        return None
    window = _hann(seg)
    segments = [[x * w for x, w in zip(samples[i:i + seg], window)]
                for i in range(0, len(samples) - seg + 1, seg)]
    coarse = []
    freq = lo_hz
    while freq <= hi_hz:
        coarse.append((sum(_goertzel_power(s, wav.rate, freq) for s in segments), freq))
        freq += COARSE_STEP_HZ
    peak = max(coarse)[1]
    full = [x * w for x, w in zip(samples, _hann(len(samples)))]
    steps = int(2 * FINE_SPAN_HZ / FINE_STEP_HZ) + 1
    fine = [(f, _goertzel_power(full, wav.rate, f))
            for f in (peak - FINE_SPAN_HZ + k * FINE_STEP_HZ for k in range(steps)) if lo_hz <= f <= hi_hz]
    best = max(range(len(fine)), key=lambda k: fine[k][1])
    if 0 < best < len(fine) - 1:
        a, b, c = (math.log(max(fine[best + d][1], 1e-30)) for d in (-1, 0, 1))
        denominator = a - 2 * b + c
        offset = 0.5 * (a - c) / denominator if denominator < 0 else 0.0
        return fine[best][0] + offset * FINE_STEP_HZ
    return fine[best][0]


def tone_energy_db(wav_path, freq, start_s=0.0, length_s=None):
    """Level (dBFS) of the sine component at freq over [start_s, start_s + length_s) (default: to the end).

    A full-scale sine there gives 0 dB, one at amplitude 0.1 gives -20 dB; silent stretches inside the
    span lower it (the tone's energy is averaged over the whole span)."""
    wav = read_wav(wav_path)
    first = int(start_s * wav.rate)
    last = len(wav.samples) if length_s is None else min(len(wav.samples), first + int(length_s * wav.rate))
    samples = wav.samples[first:last]
    if len(samples) < 2:
        return SILENCE_DB
    window = _hann(len(samples))
    power = _goertzel_power([x * w for x, w in zip(samples, window)], wav.rate, freq)
    amplitude = 2.0 * math.sqrt(power) / sum(window)
    return 20.0 * math.log10(amplitude) if amplitude > 0 else SILENCE_DB


def audible_seconds(wav_path, threshold_db=-40.0, frame_s=0.02):
    """Seconds of frame_s-long frames whose RMS level is above threshold_db (dBFS)."""
    wav = read_wav(wav_path)
    frame = max(1, int(frame_s * wav.rate))
    threshold = 10.0 ** (threshold_db / 10.0)  # on mean square
    loud = 0
    for i in range(0, len(wav.samples) - frame + 1, frame):
        if sum(x * x for x in wav.samples[i:i + frame]) / frame > threshold:
            loud += 1
    return loud * frame / wav.rate


def duration_s(wav_path):
    return read_wav(wav_path).duration_s


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    path = argv[1]
    print(f"duration        {duration_s(path):.3f} s")
    print(f"audible         {audible_seconds(path):.3f} s (> -40 dBFS)")
    dominant = dominant_frequency(path)
    print(f"dominant        {dominant:.2f} Hz" if dominant is not None else "dominant        none (silent)")
    if len(argv) > 2:
        freq = float(argv[2])
        print(f"tone {freq:g} Hz   {tone_energy_db(path, freq):.1f} dBFS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
