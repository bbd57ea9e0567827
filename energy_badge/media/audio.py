"""Synthetic speech-like clips: 16 kHz mono, drawn from a seed with integer arithmetic.

A clip is a sequence of phrases separated by pauses. A phrase is a run of syllables; a syllable
is an optional consonant (a fricative noise, a plosive closure and burst, or a voiced nasal) and a
vowel whose formants glide from the previous vowel's towards its own target. Voiced sound is a
glottal pulse train whose pitch follows a phrase contour (declination, stressed-syllable rises,
a little jitter) in the range of a low (about 85-150 Hz) or high (about 165-255 Hz) voice; each
pulse excites three formant resonances (damped sinusoids, overlap-added). Unvoiced sound is
shaped noise. A faint noise floor runs under everything, as in a real recording.

Determinism: the plan (segments, pitch, formants) is computed with Python floats using only
+, -, *, / (correctly rounded on every platform); the sine and decay tables are built the same
way (a Taylor polynomial, repeated multiplication); the waveform is integer numpy arithmetic, and
the overlap-add sums integers (exact in any order). So the samples are the same everywhere.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from energy_badge.media.bits import Bits

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["RATE", "VOICES", "synthesise"]

RATE = 16000
VOICES = ("low", "high")
_PI = 3.141592653589793
_TAPS = 256  # 16 ms of formant ring per glottal pulse
_SINE_BITS = 12  # a 4096-entry sine table
_BANDWIDTHS = (50, 70, 90, 120, 160, 220, 300, 400)  # Hz

# (F1, F2, F3) in Hz for a low voice; a high voice scales them by 1.17.
VOWELS = (
    (270, 2290, 3010),
    (390, 1990, 2550),
    (530, 1840, 2480),
    (660, 1720, 2410),
    (730, 1090, 2440),
    (570, 840, 2410),
    (440, 1020, 2240),
    (300, 870, 2240),
    (640, 1190, 2390),
    (490, 1350, 1690),
)
NASAL = (250, 1100, 2300)


@functools.cache
def _sine() -> NDArray[np.int32]:
    """sin(2 pi i / 4096) in Q15, from a Taylor polynomial on the first quarter (exact everywhere)."""
    import numpy as np

    size = 1 << _SINE_BITS
    quarter = size // 4
    values = []
    for i in range(quarter + 1):
        x = (_PI / 2.0) * i / quarter
        term, total, x2 = x, x, x * x
        for k in range(1, 10):
            term = -term * x2 / ((2 * k) * (2 * k + 1))
            total += term
        values.append(int(round(total * 32767.0)))
    table = [0] * size
    for i in range(size):
        q, r = divmod(i, quarter)
        v = values[r] if q % 2 == 0 else values[quarter - r]
        table[i] = v if q < 2 else -v
    return np.array(table, dtype=np.int32)


@functools.cache
def _decay() -> NDArray[np.int32]:
    """r_b ** n in Q15 for each bandwidth b (r_b = 1 - pi b / RATE), n < _TAPS."""
    import numpy as np

    rows = []
    for bandwidth in _BANDWIDTHS:
        r = 1.0 - _PI * bandwidth / RATE
        env, row = 1.0, []
        for _ in range(_TAPS):
            row.append(int(env * 32767.0))
            env *= r
        rows.append(row)
    return np.array(rows, dtype=np.int32)


class _Plan:
    """The clip's events: glottal pulses and noise bursts, in samples."""

    def __init__(self) -> None:
        self.pulses: list[tuple[int, int, int, int, int, int, int, int]] = []  # pos, amp, 3 incs, 3 bws
        self.noises: list[tuple[int, int, int, int]] = []  # start, length, amplitude, colour


def _voiced(
    plan: _Plan,
    bits: Bits,
    start: int,
    length: int,
    f0: tuple[float, float],
    formants: tuple[tuple[float, float, float], tuple[float, float, float]],
    amplitude: int,
    widths: tuple[int, int, int],
) -> None:
    """Pulses over [start, start + length): pitch and formants glide linearly, amplitude ramps."""
    pos = float(start)
    end = start + length
    ramp = max(length // 5, 1)
    (a1, a2, a3), (b1, b2, b3) = formants
    unit = (1 << 16) / RATE
    w1, w2, w3 = widths
    while pos < end:
        t = (pos - start) / length
        pitch = (f0[0] + (f0[1] - f0[0]) * t) * (1.0 + (bits.random() - 0.5) * 0.03)
        g = t * 1.6 if t < 0.625 else 1.0
        p = int(pos)
        edge = min(p - start, end - p)
        amp = amplitude if edge >= ramp else amplitude * max(edge, 0) // ramp
        plan.pulses.append(
            (
                p,
                amp,
                int((a1 + (b1 - a1) * g) * unit),
                int((a2 + (b2 - a2) * g) * unit),
                int((a3 + (b3 - a3) * g) * unit),
                w1,
                w2,
                w3,
            )
        )
        pos += RATE / pitch


def _plan(samples: int, bits: Bits, voice: str) -> _Plan:
    plan = _Plan()
    low = voice == "low"
    base = 85.0 + 60.0 * bits.random() if low else 165.0 + 85.0 * bits.random()
    scale = 1.0 if low else 1.17
    loudness = bits.randint(9000, 14000)
    pos = int(RATE * (0.1 + 0.3 * bits.random()))
    tail = int(RATE * (0.1 + 0.3 * bits.random()))
    vowel = VOWELS[bits.randint(0, len(VOWELS) - 1)]
    while pos < samples - tail - RATE // 10:
        syllables = bits.randint(3, 14)
        top, bottom = base * (1.08 + 0.12 * bits.random()), base * (0.8 + 0.08 * bits.random())
        for s in range(syllables):
            if pos >= samples - tail - RATE // 10:
                break
            frac = s / syllables
            pitch = top + (bottom - top) * frac
            if bits.random() < 0.3:
                pitch *= 1.1 + 0.15 * bits.random()  # a stressed syllable
            kind = bits.randint(0, 9)
            if kind <= 3:  # fricative
                n = int(RATE * (0.05 + 0.08 * bits.random()))
                plan.noises.append((pos, n, loudness * bits.randint(12, 30) // 100, bits.randint(0, 2)))
                pos += n
            elif kind <= 5:  # plosive: closure, then a short burst
                pos += int(RATE * (0.03 + 0.04 * bits.random()))
                n = int(RATE * (0.008 + 0.015 * bits.random()))
                plan.noises.append((pos, n, loudness * bits.randint(25, 45) // 100, 0))
                pos += n
            elif kind <= 7:  # nasal or glide: weak, low voiced
                n = int(RATE * (0.04 + 0.06 * bits.random()))
                nasal = (NASAL[0] * scale, NASAL[1] * scale, NASAL[2] * scale)
                _voiced(plan, bits, pos, n, (pitch, pitch), (nasal, nasal), loudness * 35 // 100, (1, 4, 5))
                pos += n
            target = VOWELS[bits.randint(0, len(VOWELS) - 1)]
            n = int(RATE * (0.08 + 0.17 * bits.random()))
            start_f = (vowel[0] * scale, vowel[1] * scale, vowel[2] * scale)
            end_f = (target[0] * scale, target[1] * scale, target[2] * scale)
            slope = pitch * (0.92 + 0.1 * bits.random())
            amp = loudness * bits.randint(70, 100) // 100
            _voiced(plan, bits, pos, n, (pitch, slope), (start_f, end_f), amp, (1, 2, 4))
            vowel = target
            pos += n
        pos += int(RATE * (0.15 + 0.5 * bits.random()))  # a pause between phrases
    return plan


def synthesise(samples: int, seed: int, voice: str) -> NDArray[np.float32]:
    """Synthesise one clip.

    Args:
        samples: its length in samples at 16 kHz (at least 0.5 s, at most 60 s).
        seed: the clip's seed; the same arguments always give the same samples.
        voice: ``"low"`` or ``"high"``.

    Returns:
        A 1-D ``float32`` array of ``samples`` samples in [-1, 1] (multiples of 2**-15).

    Raises:
        ValueError: the length or the voice is out of range.
    """
    import numpy as np

    if voice not in VOICES or not RATE // 2 <= samples <= 60 * RATE:
        raise ValueError(f"cannot synthesise {samples} samples of a {voice!r} voice")
    bits = Bits(f"energy-badge/audio/{voice}/{samples}/{seed}")
    plan = _plan(samples, bits, voice)
    total = np.zeros(samples + _TAPS, dtype=np.int64)
    pulses = [pulse for pulse in plan.pulses if pulse[0] < samples]
    if pulses:
        p = np.array(pulses, dtype=np.int64)
        n = np.arange(_TAPS, dtype=np.int64)[None, :]
        sine, decay = _sine(), _decay()
        shift = 16 - _SINE_BITS
        p32 = p.astype(np.int32)
        n32 = n.astype(np.int32)
        wave = np.zeros((len(p), _TAPS), dtype=np.int32)
        for k, gain in enumerate((32767, 16000, 7000)):
            phase = ((p32[:, 2 + k : 3 + k] * n32) & 0xFFFF) >> shift
            wave += (sine[phase] * decay[p32[:, 5 + k]] >> 15) * gain >> 15
        wave = wave * p32[:, 1:2] >> 15
        index = p[:, 0:1] + n
        total += np.bincount(index.ravel(), weights=wave.ravel(), minlength=len(total)).astype(np.int64)
    for start, full, amplitude, colour in plan.noises:
        length = min(full, samples - start)
        if length <= 0:
            continue
        noise = bits.signed(length + 1, 16)
        if colour == 0:
            noise = noise[1:] - noise[:-1]  # hiss: high-passed
        elif colour == 1:
            noise = (noise[1:] + noise[:-1]) >> 1  # softer, lower
        else:
            noise = noise[1:]
        ramp = np.minimum(np.arange(length, dtype=np.int64), np.arange(length, dtype=np.int64)[::-1])
        ramp = np.minimum(ramp * 4, length) * 1024 // max(length, 1)
        total[start : start + length] += noise * amplitude // 32768 * ramp // 1024
    signal = total[:samples]
    signal[1:] = (signal[1:] + signal[:-1]) >> 1  # the glottal source's spectral tilt
    signal += bits.signed(samples, 6)  # the noise floor: about -60 dB
    peak = int(np.abs(signal).max()) or 1
    target = 32767 * bits.randint(35, 85) // 100
    signal = signal * target // peak
    np.clip(signal, -32767, 32767, out=signal)
    return signal.astype(np.float32) / np.float32(32768.0)
