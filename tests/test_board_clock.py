"""FCLK0 and the accelerator IP's FREQ_HZ state one frequency (issue 17, item 3).

The PS7 makes FCLK0 by dividing its 1000 MHz IO PLL by two 6-bit divisors, so a period such as 6.4 ns cannot be
made; Vivado's ``validate_bd_design`` fails when the IP's clock FREQ_HZ differs from the FCLK0 driving it.  The
expected frequency is computed here independently (brute force over both divisors), and compared with what every
generated Tcl file states: the block design's PS7 divisors, its FREQMHZ and the accelerator pin, settings.tcl,
package_ip.tcl (RTL) and build_hls.tcl's clock (HLS), as recorded by the stubbed Tcl run (accel.deploy.tclcheck).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_board_flow import fake_build

from accel.deploy.board import write_board_flow
from accel.deploy.tclcheck import check_flow
from accel.rtl.vivado import package_ip_tcl

PART = "xc7z020clg400-1"


def expected_fclk(clock_ns: float) -> tuple[int, int]:
    """(divisor product, Hz): the smallest d0*d1 whose 1000 MHz / (d0*d1) is not faster than 1/clock_ns."""
    products = sorted({d0 * d1 for d0 in range(1, 64) for d1 in range(1, 64)})
    n = next(p for p in products if 1e9 / p <= 1e9 / clock_ns)
    return n, round(1e9 / n)


def test_expected_values_by_hand() -> None:
    # 6 ns: 1000/6 MHz; 7 ns: 1000/7; 9 ns: 1000/9; 10 ns: 100 MHz; 6.4 ns is not reachable, 7 ns is next
    assert [expected_fclk(c) for c in (6, 7, 9, 10, 6.4)] == [
        (6, 166666667), (7, 142857143), (9, 111111111), (10, 100000000), (7, 142857143)]  # fmt: skip


def _rtl_build(tmp: Path, clock_ns: float) -> Path:
    """A fake RTL build directory carrying the real package_ip.tcl for ``clock_ns``."""
    d = fake_build(tmp, "rtl", clock_ns=float(clock_ns))
    (d / "rtl" / "filelist.f").write_text("accel_top.v\n")
    (d / "vivado" / "package_ip.tcl").write_text(package_ip_tcl(PART, clock_ns))
    return d


def _settings(d: Path) -> dict[str, str]:
    text = (d / "board" / "settings.tcl").read_text()
    return dict(re.findall(r"^set (\w+) \{([^}]*)\}$", text, re.M))


def _clock_facts(check) -> tuple[int, int, str, list[str]]:
    """d0, d1, FREQMHZ of the PS7 and the accelerator pin's FREQ_HZ, as the block design's stubbed run set them."""
    bd = next(r for r in check.runs if r.named("create_bd_design"))
    ps7: dict[str, str] = {}
    for c in bd.named("@dict"):
        if c.args[0] == "/ps7":
            ps7.update(zip(c.args[1::2], c.args[2::2], strict=True))
    pin = [c.args[1] for c in bd.named("set_property") if c.args[:1] == ["CONFIG.FREQ_HZ"]]
    return (int(ps7["CONFIG.PCW_FCLK0_PERIPHERAL_DIVISOR0"]), int(ps7["CONFIG.PCW_FCLK0_PERIPHERAL_DIVISOR1"]),
            ps7["CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ"], pin)  # fmt: skip


def _ip_freq(check) -> list[str]:
    """The FREQ_HZ value package_ip.tcl's stubbed run set (the set_property after get_bus_parameters FREQ_HZ)."""
    calls = check.runs[0].calls
    return [c.args[1] for b, c in zip(calls, calls[1:], strict=False)
            if b.name == "ipx::get_bus_parameters" and b.args[:1] == ["FREQ_HZ"] and c.name == "set_property"]


@pytest.mark.parametrize("clock_ns", [6, 7, 9, 10])
def test_rtl_ip_and_block_design_state_the_fclk0_frequency(tmp_path: Path, clock_ns: int) -> None:
    n, hz = expected_fclk(clock_ns)
    d = _rtl_build(tmp_path, clock_ns)
    assert re.search(rf"^set freq_hz {hz}$", (d / "vivado" / "package_ip.tcl").read_text(), re.M)
    summary = write_board_flow(d)
    check = check_flow(d)
    assert check.ok, check.problems
    d0, d1, mhz, pin = _clock_facts(check)
    assert d0 * d1 == n and 1 <= d0 <= 63 and 1 <= d1 <= 63
    assert round(float(mhz) * 1e6) == hz and pin == [str(hz)]
    assert _ip_freq(check) == [str(hz)]
    s = _settings(d)
    assert (int(s["accel_fclk_hz"]), int(s["accel_fclk_divisor0"]), int(s["accel_fclk_divisor1"])) == (hz, d0, d1)
    assert summary["fclk0_hz"] == hz and summary["fclk0_dividers"] == [d0, d1]
    exact = n == clock_ns  # the period is made exactly (FREQ_HZ only rounds 1e9 / n to whole Hz)
    assert ("exactly the requested" in summary["clock_note"]) == exact
    assert summary["clock_note"] in (d / "board" / "settings.tcl").read_text()


def test_a_period_fclk0_cannot_make_is_reported(tmp_path: Path) -> None:
    d = fake_build(tmp_path, "rtl", clock_ns=6.0)
    summary = write_board_flow(d, clock_ns=6.4)
    assert summary["fclk0_hz"] == 142857143 and summary["fclk0_dividers"][0] * summary["fclk0_dividers"][1] == 7
    assert "the requested 6.4 ns (156.25 MHz) is not a frequency the PS7's IO PLL dividers make" in \
        summary["clock_note"]


def test_board_clock_longer_than_the_build_overrides_the_packaged_default(tmp_path: Path) -> None:
    """An RTL build for 6 ns put on the board at 9 ns: package_ip.tcl takes the board's FCLK0 from settings.tcl."""
    d = _rtl_build(tmp_path, 6)
    write_board_flow(d, clock_ns=9.0)
    check = check_flow(d)
    assert check.ok, check.problems
    assert _ip_freq(check) == [str(expected_fclk(9)[1])]


def test_a_disagreeing_ip_clock_is_a_problem(tmp_path: Path) -> None:
    """The check can fail: the old FREQ_HZ = round(1e9 / clock_ns) for 6.4 ns is not what FCLK0 makes."""
    d = _rtl_build(tmp_path, 7)
    write_board_flow(d)
    tcl = d / "vivado" / "package_ip.tcl"
    tcl.write_text(tcl.read_text().replace("set freq_hz $accel_fclk_hz", "set freq_hz 156250000"))
    check = check_flow(d)
    assert any("the IP's clock is [156250000] Hz, but FCLK0 makes 142857143 Hz" in p for p in check.problems)


@pytest.fixture(scope="module")
def digits():
    import models
    from accel.frontend import to_graph

    model = models.build("digits")
    return model, to_graph(model, "digits")


@pytest.mark.hls
@pytest.mark.parametrize("clock_ns", [6, 7, 9, 10])
def test_hls_ip_clock_is_the_fclk0_frequency(tmp_path: Path, digits, clock_ns: int) -> None:
    """The real build_hls.tcl: its create_clock (read from board/settings.tcl) gives the IP FCLK0's frequency."""
    from accel.hls.project import build_hls_project

    n, hz = expected_fclk(clock_ns)
    d = tmp_path / "hls"
    build_hls_project(digits[0], digits[1], d, clock_ns=float(clock_ns), tb_samples=1)
    write_board_flow(d)
    check = check_flow(d)  # both branches: vitis-run and vitis_hls
    assert check.ok, check.problems
    periods = [c.args[c.args.index("-period") + 1] for c in check.runs[0].named("create_clock")]
    assert len(periods) == 1 and round(1e9 / float(periods[0])) == hz
    d0, d1, mhz, pin = _clock_facts(check)
    assert d0 * d1 == n and pin == [str(hz)] and round(float(mhz) * 1e6) == hz
    assert int(_settings(d)["accel_fclk_hz"]) == hz
