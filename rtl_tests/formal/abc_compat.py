"""Run Debian's ABC (``yosys-abc``) for SymbiYosys's ``abc pdr`` engine.

Why: SymbiYosys asks ABC for ``pdr -v -l``; the ``-l`` switch (per-property status lines) is newer than the ABC
that Debian ships with yosys (berkeley-abc 1.01, 2022), which stops with "unknown option l".  SymbiYosys
reads the plain verdict ("Property proved." / "Output ... was asserted in frame N.") without it, so this drops
that one switch and runs ABC otherwise unchanged; any other command passes through as it is.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    args = [a.replace("pdr -v -l", "pdr -v") for a in argv]
    abc = os.environ.get("ACCEL_ABC", "yosys-abc")
    os.execvp(abc, [abc, *args])


if __name__ == "__main__":
    main(sys.argv[1:])
