"""The FPGA parts accel knows: one table of capacities, and the check every backend applies to ``--part``.

Why one table: the report judges a design against the device it was built for, the build records a part, and
both must agree on what e.g. ``xc7z010clg400-1`` holds.  Before this module the report compared every build
with the xc7z020 whatever its part said.

Capacities are in the units :func:`accel.rtl.synth.resources` counts: LUT6 sites (logic + LUT-RAM), flip-flops,
DSP slices (DSP48E1 on 7-series, DSP48E2 on UltraScale+) and BRAM36 blocks (a RAMB18 is half of one), as the
Xilinx product tables state them.

A well-formed part that is not in the table (e.g. a Kintex-7) is accepted for building: nothing in the flow
depends on its size.  Its capacity is then ``None`` and the report says so instead of giving a verdict.
This module imports only :mod:`accel`, so the bundled board driver can carry it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from accel import AccelError

#: the Pynq-Z2's part, the default of every backend and of the board flow
DEFAULT_PART = "xc7z020clg400-1"


@dataclass(frozen=True)
class _Capacity:
    family: str
    lut: int
    ff: int
    dsp: int
    bram36: int


#: device -> capacity (Xilinx DS190 for Zynq-7000, DS180 for Artix-7, DS891 for Zynq UltraScale+)
PARTS: dict[str, _Capacity] = {
    "xc7z020": _Capacity("zynq-7000", 53_200, 106_400, 220, 140),  # Pynq-Z2
    "xc7z010": _Capacity("zynq-7000", 17_600, 35_200, 80, 60),
    "xc7a35t": _Capacity("artix-7", 20_800, 41_600, 90, 50),
    "xczu3eg": _Capacity("zynq ultrascale+", 70_560, 141_120, 360, 216),
}

#: a Xilinx part name as every backend accepts it (device, package and speed grade: ``xc7z020clg400-1``)
_PART = re.compile(r"x[a-z0-9]+-[a-z0-9-]+")
#: the device at the start of a part name: 7-series devices run into the package (``xc7a35t`` + ``cpg236``),
#: a Zynq-7000 single-core device ends in ``s`` (``xc7z007s`` + ``clg400``, but ``xc7z030`` + ``sbg485``),
#: UltraScale(+) devices end at the first hyphen (``xczu3eg-sbva484-1-e``)
_DEVICE = re.compile(r"xc7[akv]x?\d+t|xc7s\d+|xc7z\d+(?:s(?=[a-z]{3}\d))?|x[a-z0-9]+?(?=-)")
#: family of a device outside the table, from its prefix
_FAMILIES = (("xc7z", "zynq-7000"), ("xc7a", "artix-7"), ("xc7k", "kintex-7"), ("xc7v", "virtex-7"),
             ("xc7s", "spartan-7"), ("xczu", "zynq ultrascale+"), ("xcku", "kintex ultrascale"),
             ("xcvu", "virtex ultrascale"))  # fmt: skip


@dataclass(frozen=True)
class PartInfo:
    """One part: its name, device, family and speed grade, and the device's capacity (``None`` when unknown)."""

    part: str
    device: str
    family: str
    speed_grade: str
    lut: int | None
    ff: int | None
    dsp: int | None
    bram36: int | None

    @property
    def known(self) -> bool:
        """Whether the device is in :data:`PARTS`, i.e. whether its capacity is known."""
        return self.lut is not None


def known_devices() -> tuple[str, ...]:
    """The devices whose capacity accel knows, for messages that list them."""
    return tuple(PARTS)


def check_target(part: str, clock_ns: float) -> None:
    """The FPGA part and clock period every backend records; refused before anything is written.

    A part only has to be well formed (see the module docstring for parts outside the table).
    """
    if not isinstance(part, str) or not _PART.fullmatch(part.strip().lower()):
        raise AccelError(f"FPGA part '{part}' is not a Xilinx part name; give one like {DEFAULT_PART}.")
    try:
        ok = not isinstance(clock_ns, bool) and float(clock_ns) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise AccelError(f"clock period {clock_ns} ns (--clock-ns, clock_ns=) is not supported; it must be a positive "
                         "number of ns.")


def part_info(part: str) -> PartInfo:
    """Device, family, speed grade and capacity of a full part name such as ``xc7z020clg400-1``."""
    if not isinstance(part, str) or not _PART.fullmatch(part.strip().lower()):
        raise AccelError(f"FPGA part '{part}' is not a Xilinx part name; give one like {DEFAULT_PART}.")
    name = part.strip().lower()
    match = _DEVICE.match(name)
    device = match.group(0) if match else name.split("-", 1)[0]
    rest = name[len(device) :].lstrip("-")
    # the speed grade follows the package: "clg400-1" -> "1", "sbva484-1-e" -> "1", "csg324-1l" -> "1l"
    grades = rest.split("-")[1:]
    speed = grades[0] if grades else ""
    cap = PARTS.get(device)
    if cap is not None:
        return PartInfo(name, device, cap.family, speed, cap.lut, cap.ff, cap.dsp, cap.bram36)
    family = next((f for prefix, f in _FAMILIES if device.startswith(prefix)), "unknown")
    return PartInfo(name, device, family, speed, None, None, None, None)


#: The Zynq-7000 PS7's IO PLL on the boards accel supports (50 MHz crystal x 20); FCLK0 divides it.
IO_PLL_HZ = 1_000_000_000
#: FCLK0 = IO PLL / (DIVISOR0 * DIVISOR1); each divisor is a 6-bit field (1..63).
FCLK_DIVISOR_MAX = 63


@dataclass(frozen=True)
class Fclk:
    """The fabric clock FCLK0 the PS7 makes: its frequency in whole Hz and the two IO PLL divisors giving it."""

    hz: int
    divisor0: int
    divisor1: int

    @property
    def mhz(self) -> float:
        return self.hz / 1e6


def ps7_fclk(clock_ns: float) -> Fclk:
    """The fastest FCLK0 not faster than ``1/clock_ns`` that the IO PLL's two 6-bit dividers reach.

    Why here, at the bottom: the RTL IP's ``FREQ_HZ``, the HLS IP's clock, and the block design's FCLK0 must all
    state this one number (Vivado's ``validate_bd_design`` compares them), so every writer takes it from here.
    Rounding down keeps the accelerator within the period its backend was built for.  ``hz`` is
    ``IO_PLL_HZ / (d0 * d1)`` rounded to a whole Hz, as Vivado states clock frequencies.
    """
    if isinstance(clock_ns, bool) or not 4.0 <= float(clock_ns) <= 100.0:
        raise AccelError(f"clock period {clock_ns} ns is outside what FCLK0 can drive; supported: 4 to 100 ns.")
    n = math.ceil(IO_PLL_HZ * float(clock_ns) / 1e9 - 1e-9)
    while True:
        for d0 in range(1, FCLK_DIVISOR_MAX + 1):
            if n % d0 == 0 and n // d0 <= FCLK_DIVISOR_MAX:
                return Fclk(round(IO_PLL_HZ / n), d0, n // d0)
        n += 1


def ip_clock_hz(part: str, clock_ns: float) -> int:
    """The ``FREQ_HZ`` an IP's clock interface states: FCLK0's on a Zynq-7000 part, else ``1/clock_ns``.

    Why: a Zynq-7000 accelerator is clocked by the PS7's FCLK0, which cannot make every frequency.  A period FCLK0
    cannot drive at all (outside 4 to 100 ns) keeps ``1/clock_ns``: the board flow refuses it anyway.
    """
    if part_info(part).family == "zynq-7000" and 4.0 <= float(clock_ns) <= 100.0:
        return ps7_fclk(clock_ns).hz
    return int(round(1e9 / float(clock_ns)))
