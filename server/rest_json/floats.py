"""TF Serving's float formatter (contract section 0.4), for one value and for whole arrays."""

from __future__ import annotations

import math
import struct

import numpy as np

# A separator that no float format can produce, for formatting a whole array in one call.
_SEP = "\x1f"
# Below this many elements the per-value formatter beats numpy's fixed costs.
_VECTOR_THRESHOLD = 64
_FLOAT32 = struct.Struct("<f")


def _to_float32(value: float) -> float:
    """Round a double to the nearest float32 (C's cast), overflowing to infinity."""
    try:
        rounded: float = _FLOAT32.unpack(_FLOAT32.pack(value))[0]
        return rounded
    except OverflowError:
        return math.copysign(math.inf, value)


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "-Infinity" if value < 0 else "Infinity"


def _round_trips(text: str, value: float, double: bool) -> bool:
    parsed = float(text)
    return (parsed if double else _to_float32(parsed)) == value


def format_float(value: float, double: bool = False) -> str:
    """Write one float or double as TF Serving does.

    `%g` (six significant digits) when that text reads back as the same float32 (or
    float64 when `double`), otherwise `%.9g` / `%.17g`; `.0` is appended when the text has
    neither `.` nor `e`; NaN and infinities become the bare tokens `NaN`, `Infinity`,
    `-Infinity`.
    """
    value = float(value) if double else _to_float32(float(value))
    if not math.isfinite(value):
        return _non_finite(value)
    text = format(value, "g")
    if not _round_trips(text, value, double):
        text = format(value, ".17g" if double else ".9g")
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _six_digits_round_trip(flat: np.ndarray, x: np.ndarray, double: bool) -> np.ndarray:
    """Which values `%g` writes back exactly, decided in float64 without formatting them.

    The six-digit decimal is rebuilt numerically; values whose decision could be swayed by
    the float64 arithmetic (ties, or a rebuilt value close to a rounding boundary) are
    settled by formatting and parsing them one by one.
    """
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        exp = np.floor(np.log10(ax))
        exp = np.where(ax >= 10.0 ** (exp + 1), exp + 1, exp)
        exp = np.where(ax < 10.0**exp, exp - 1, exp)
        shift = 5.0 - exp
        scaled = np.where(shift >= 0, x * 10.0 ** np.abs(shift), x / 10.0 ** np.abs(shift))
        digits = np.rint(scaled)
        rebuilt = np.where(
            shift >= 0, digits / 10.0 ** np.abs(shift), digits * 10.0 ** np.abs(shift)
        )
        unsure = np.abs(np.abs(scaled - digits) - 0.5) < 1e-6
        if double:
            # Anything further than two ulps away cannot read back as x; the rest is checked.
            ok = np.zeros(x.shape, dtype=bool)
            unsure |= np.abs(rebuilt - x) <= 2 * np.spacing(ax)
            unsure |= ~np.isfinite(rebuilt)
        else:
            ok = rebuilt.astype(np.float32) == flat
            ratio = np.abs(rebuilt - x) / np.spacing(np.abs(flat)).astype(np.float64)
            unsure |= (np.abs(ratio - 0.5) < 1e-6) | (np.abs(ratio - 0.25) < 1e-6)
        unsure &= np.isfinite(x)
    values = x.tolist()
    for index in np.flatnonzero(unsure).tolist():
        ok[index] = _round_trips(format(values[index], "g"), values[index], double)
    exact: np.ndarray = ok & np.isfinite(x)  # numpy's stubs type the ufunc's result as Any
    return exact


def format_float_array(array: np.ndarray) -> list[str]:
    """Format every element of a float32 or float64 array (C order) with `format_float`.

    Decides per element between `%g`, `%.9g`/`%.17g` and `%.1f` (the whole numbers that
    would get `.0` appended) with numpy, then formats all elements in a single `%` call.
    """
    array = np.asarray(array)
    double = array.dtype == np.float64
    flat = array.ravel()
    if flat.size == 0:
        return []
    if flat.size <= _VECTOR_THRESHOLD:
        return [format_float(value, double) for value in flat.tolist()]
    x = flat.astype(np.float64)
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore"):
        whole = finite & (np.floor(x) == x)
        ax = np.abs(x)
    ok6 = _six_digits_round_trip(flat, x, double)
    full = "%.17g" if double else "%.9g"
    whole_limit = 1e17 if double else 1e9
    specs = np.where(
        ok6,
        np.where(whole & (ax < 1e6), "%.1f", "%g"),
        np.where(whole & (ax < whole_limit), "%.1f", full),
    )
    values = x.tolist()
    tokens = (_SEP.join(specs.tolist()) % tuple(values)).split(_SEP)
    if not finite.all():
        for index in np.flatnonzero(~finite).tolist():
            tokens[index] = _non_finite(values[index])
    return tokens
