"""accel's own Verilog backend: a library of streaming blocks (``accel/rtl/lib``) and their Python descriptions.

Conventions every block follows (shared by the library, the testbenches in ``rtl_tests/`` and the
network generator):

* Verilog-2005, synthesizable, accepted by Icarus 11 and Verilator (``--lint-only -Wall`` clean).
  File header as verilog-axis: purpose line, ```resetall``, ```timescale 1ns / 1ps``,
  ```default_nettype none`` ... ```resetall`` at the end.  Module name = file name, prefix ``accel_``.
  Every parameter commented, derived values as ``localparam``; illegal parameters stop elaboration
  in an ``initial`` block with ``$error``/``$finish`` naming the instance (``%m``).
* Ports: ``clk``, ``rst`` (synchronous, active high; only control state is reset),
  ``s_axis_tdata/tvalid/tready/tlast`` and ``m_axis_tdata/tvalid/tready/tlast`` (flat; two inputs are
  ``s0_axis_*``/``s1_axis_*``).  AXI-Stream rules: data held while ``valid && !ready``, valid never
  waits on ready.
* Stream order (see :mod:`accel.deploy.stream`): a frame is one ``(H, W, C)`` tensor, pixels row-major,
  channels within a pixel; a beat carries P consecutive elements of one pixel (P divides C), element k
  in bits ``[k*W +: W]``, two's complement when signed.  ``m_axis_tlast`` marks the last beat of each
  frame; blocks count beats and ignore ``s_axis_tlast``.  Frames stream back to back.  Only
  ``accel_frame_last``, between ``accel_top``'s ports and the network, reads input TLAST: the top's output
  TLAST is high on output frame k's last beat iff input frame k's last beat carried TLAST (so a batch sent
  with one TLAST comes back as one packet).  The generated top checks TLAST without the blocks' help
  (:mod:`accel.rtl.tlast`): ``accel_tlast_check`` watches the stream into every counting block, and a
  framing error anywhere raises ``accel_top``'s sticky ``tlast_err``.
* Graph-dependent constants (weights, biases) live in ROMs loaded with ``$readmemh`` from ``.mem`` files
  whose path is a string parameter; :meth:`write_files` of the block's Python description writes them.
* Python side: :mod:`accel.rtl.params` holds shared validation helpers; :mod:`accel.rtl.blocks` one module
  per block: a frozen dataclass with ``validate()``, ``verilog_parameters()``, ``write_files(dir)`` and
  ``expected_cycles_per_frame()``.
"""

from pathlib import Path

#: Directory of the Verilog library files.
LIB_DIR = Path(__file__).resolve().parent / "lib"


def lib_file(module: str) -> Path:
    """Path of the library file of ``module`` (e.g. ``accel_fifo``)."""
    return LIB_DIR / f"{module}.v"
