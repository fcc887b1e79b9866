"""The package's layering, enforced: no import cycle, and every import goes down the table.

Why: docs/architecture.md promised "each layer imports only the ones below it" while the code
had cycles (cli <-> demo, frontend walk <-> layers, ...).  A promise nobody checks drifts, so this
test parses every module under ``accel/`` with :mod:`ast` (module-level *and* function-level
imports, so a lazy import inside a function is still an edge) and checks the graph against
:data:`LAYERS`, the one table of ranks.  ``docs/architecture.md`` ("Layers of the package")
mirrors that table; change both together.

Rules (see :func:`violations`): a module may import modules of a strictly lower rank, and modules
of its own package (the same directory tree ``accel/<pkg>/``, or ``accel`` itself for the
top-level modules) at the same rank; and the import graph has no cycle at all.  Third-party and
standard-library imports are ignored.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "accel"

#: The one layer table: (rank, module pattern, role, same-rank modules it may also import).
#: A pattern is a dotted module name, or ``pkg.*`` for every module below ``pkg`` (not ``pkg``
#: itself); the most specific pattern wins (an exact name, then the longest ``.*`` prefix).
#: Bottom (0) to top (5).  The last field names the only imports across packages at equal rank
#: (``x`` allows ``x`` and everything below it): the backends and verifiers compare against the
#: reference, so they may import it although it shares their rank.
LAYERS: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (0, "accel", "package __init__: AccelError", ()),
    (0, "accel.fixed", "FixedType: the one definition of rounding and overflow", ()),
    (0, "accel.parts", "FPGA parts and their resources", ()),
    (0, "accel.resources", "where the templates and the zoo are, installed or in the source tree", ()),
    (0, "accel.progress", "progress bars on stderr, off with --json", ()),
    (0, "accel.tables", "tables split by column to fit the terminal, no number cut", ()),
    (1, "accel.ir", "TensorSpec, Node, Graph, GraphBuilder, the op registry", ()),
    (1, "accel.kernels", "exact integer kernels on raw int64 arrays", ()),
    (1, "accel.kernels.*", "exact integer kernels on raw int64 arrays", ()),
    (1, "accel.deploy", "package __init__", ()),
    (1, "accel.deploy.stream", "THE stream packer", ()),
    (1, "accel.deploy.manifest", "build.json", ()),
    (1, "accel.deploy.measured", "measured cycles of a co-simulation", ()),
    (1, "accel.deploy.driver", "PYNQ driver, transport seam", ()),
    (1, "accel.deploy.dma", "PYNQ's AXI DMA rules and the streaming plan", ()),
    (1, "accel.deploy.dma_model", "simulated PYNQ: cached buffers, rule-keeping DMA", ()),
    (1, "accel.rtl", "package __init__: the Verilog library's directory", ()),
    (1, "accel.rtl.params", "shared block-parameter checks", ()),
    (1, "accel.rtl.blocks", "block descriptions", ()),
    (1, "accel.rtl.blocks.*", "block descriptions", ()),
    (2, "accel.folders", "output folders: locked, temporary, staged builds", ()),
    (2, "accel.ops", "the op catalogue", ()),
    (2, "accel.ops.*", "one module per op: schema, types, reference / HLS / RTL lowerings", ()),
    (3, "accel.reference", "the Graph executor", ()),
    (3, "accel.reference.*", "the Graph executor", ()),
    (3, "accel.frontend", "QKeras -> Graph", ()),
    (3, "accel.frontend.*", "QKeras -> Graph", ()),
    (3, "accel.compare", "the one comparison loop every verifier shares", ()),
    (3, "accel.float32", "bounds of QKeras' float32 rounding around the exact values", ()),
    (3, "accel.verify", "reference vs QKeras", ("accel.reference", "accel.float32")),
    (3, "accel.hls", "hls4ml backend", ("accel.reference", "accel.verify", "accel.compare")),
    (3, "accel.hls.*", "hls4ml backend", ("accel.reference", "accel.verify", "accel.compare")),
    (
        3,
        "accel.rtl.*",
        "network, folding, synth, cosim, sim_transport",
        ("accel.reference", "accel.verify", "accel.compare"),
    ),
    (4, "accel.report", "per-layer report of an RTL build", ()),
    (4, "accel.report_table", "the text form of accel report", ()),
    (4, "accel.deploy.board", "Pynq-Z2 Vivado flow", ()),
    (4, "accel.deploy.tclcheck", "offline Tcl check", ()),
    (4, "accel.deploy.bdcheck", "offline check of the block design's calls", ()),
    (4, "accel.deploy.package", "board bundle", ()),
    (5, "accel.steps", "load, inspect, verify, build: the steps the commands chain", ()),
    (5, "accel.api", "the Python API: convert() and the model object", ()),
    (5, "accel.junit", "the JUnit XML report of verify results", ()),
    (5, "accel.pytest_plugin", "the accel_verify fixture of the pytest plugin", ()),
    (5, "accel.demo", "accel demo", ()),
    (5, "accel.sweep", "package __init__: accel sweep", ("accel.steps",)),
    (5, "accel.sweep.*", "accel sweep: spec, jobs, Dask run, table and Pareto chart", ("accel.steps",)),
    (5, "accel.cli", "the accel command", ("accel.sweep",)),
)

Row = tuple[int, str, str, tuple[str, ...]]


# -- reading the imports ---------------------------------------------------------------------
def module_name(path: Path, root: Path) -> str:
    """``root/accel/rtl/cosim.py`` -> ``accel.rtl.cosim``; a package's ``__init__.py`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover(root: Path, package: str = "accel") -> dict[str, Path]:
    """Every module of ``package`` under ``root``, by dotted name."""
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def _resolve_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name ``from <level dots><module> import ...`` in ``importer`` refers to."""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]  # a plain module's dots count from its package
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imports_of(name: str, source: str, is_package: bool, modules: Iterable[str]) -> set[str]:
    """The modules of ``modules`` that module ``name`` imports anywhere in ``source`` (any depth).

    ``import a.b`` is an edge to ``a.b``; ``from a import b`` an edge to ``a.b`` when that is a
    module, else to ``a`` (``b`` is then a name defined in ``a``).  Names outside ``modules``
    (third-party, standard library) are dropped.
    """
    known = set(modules)
    edges: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.Import):
            edges.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(name, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                edges.add(sub if sub in known else base)
    return {e for e in edges if e in known and e != name}


def import_graph(root: Path, package: str = "accel") -> dict[str, set[str]]:
    """module -> the package's modules it imports."""
    found = discover(root, package)
    return {name: imports_of(name, path.read_text(), path.name == "__init__.py", found) for name, path in found.items()}


# -- the checks --------------------------------------------------------------------------------
def row_of(module: str, table: Iterable[Row] = LAYERS) -> Row | None:
    """The table row of ``module`` (the most specific pattern), or None when no row covers it."""
    best: tuple[int, Row] | None = None  # (specificity, row)
    for row in table:
        pattern = row[1]
        if pattern == module:
            return row
        wider = pattern.endswith(".*") and module.startswith(pattern[:-1])
        if wider and (best is None or len(pattern) > best[0]):
            best = (len(pattern), row)
    return None if best is None else best[1]


def rank_of(module: str, table: Iterable[Row] = LAYERS) -> int | None:
    """The module's rank, or None when no row of ``table`` covers it."""
    row = row_of(module, table)
    return None if row is None else row[0]


def package_of(module: str, packages: set[str]) -> str:
    """The directory tree a module lives in: ``accel.rtl.blocks.mvu`` and ``accel.rtl`` -> ``accel.rtl``;
    top-level modules (``accel.fixed``) and ``accel`` itself -> ``accel``."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and module in packages):
        return ".".join(parts[:2])
    return parts[0]


def packages_under(root: Path, package: str = "accel") -> set[str]:
    """The dotted names of the packages (directories with ``__init__.py``) of ``package``."""
    return {module_name(p, root) for p in (root / package).rglob("__init__.py")}


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle as a chain ``[a, b, ..., a]``, or None; deterministic (sorted visiting order)."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, black) == grey:
                return stack[stack.index(nxt) :] + [nxt]
            if colour.get(nxt) == white:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = black
        return None

    for start in sorted(graph):
        if colour[start] == white:
            found = visit(start)
            if found:
                return found
    return None


def all_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle per strongly connected part of the graph that has one, so every tangle is reported."""
    remaining = {k: set(v) for k, v in graph.items()}
    cycles = []
    while (cycle := find_cycle(remaining)) is not None:
        cycles.append(cycle)
        remaining[cycle[-2]].discard(cycle[-1])  # break it there and look again
    unique: list[list[str]] = []
    for c in cycles:
        if not any(set(c) <= set(u) for u in unique):
            unique.append(c)
    return unique


def violations(graph: Mapping[str, Iterable[str]], packages: set[str], table: Iterable[Row] = LAYERS) -> list[str]:
    """Every module missing from the table and every edge that does not go down it, as sentences."""
    table = tuple(table)
    out = [f"{m} has no row in the layer table" for m in sorted(graph) if row_of(m, table) is None]
    for module in sorted(graph):
        row = row_of(module, table)
        for target in sorted(graph[module]):
            dst = rank_of(target, table)
            if row is None or dst is None or dst < row[0]:
                continue
            here, there = package_of(module, packages), package_of(target, packages)
            if dst == row[0] and (here == there or any(target == a or target.startswith(a + ".") for a in row[3])):
                continue
            why = "a higher rank" if dst > row[0] else f"the same rank, in another package ({there}, not {here})"
            out.append(f"{module} (rank {row[0]}) imports {target} (rank {dst}): {why}")
    return out


# -- the package itself -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def accel_graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


def test_accel_has_no_import_cycle(accel_graph: dict[str, set[str]]) -> None:
    cycles = all_cycles(accel_graph)
    assert not cycles, "import cycles in accel:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_every_accel_import_goes_down_the_layer_table(accel_graph: dict[str, set[str]]) -> None:
    found = violations(accel_graph, packages_under(ROOT))
    assert not found, "imports against the layer table (tests/test_layering.py LAYERS):\n" + "\n".join(found)


def test_the_architecture_doc_states_the_same_ranks() -> None:
    """docs/architecture.md's layer table has the same rows (rank, module, same-rank imports) as :data:`LAYERS`."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Layers of the package", 1)[1].split("\n## ", 1)[0]
    documented: set[tuple[int, str, tuple[str, ...]]] = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            also = tuple(sorted(re.findall(r"`([a-z0-9_.*]+)`", cells[3])))
            documented |= {(int(cells[0]), name, also) for name in re.findall(r"`([a-z0-9_.*]+)`", cells[1])}
    assert documented == {(rank, pattern, tuple(sorted(also))) for rank, pattern, _, also in LAYERS}


# -- the checker, on a synthetic package ----------------------------------------------------------
def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


SYNTHETIC = {
    "pkg/__init__.py": "class Error(Exception):\n    pass\n",
    "pkg/base.py": "from pkg import Error\nimport numpy\n",
    "pkg/sub/__init__.py": "from .one import thing\n",
    "pkg/sub/one.py": "from ..base import Error\nthing = 1\n",
    # a lazy (function-level) upward import and a same-package cycle through a relative import
    "pkg/sub/two.py": "from . import three\n\ndef f():\n    import pkg.top\n    return pkg.top\n",
    "pkg/sub/three.py": "def g():\n    from pkg.sub import two\n    return two\n",
    "pkg/top.py": "from pkg.sub import one, thing\nimport pkg.base as b\n",
}
SYNTHETIC_TABLE: tuple[Row, ...] = (
    (0, "pkg", "", ()),
    (0, "pkg.base", "", ()),
    (1, "pkg.sub", "", ()),
    (1, "pkg.sub.*", "", ()),
    (2, "pkg.top", "", ()),
)


def test_checker_reads_every_kind_of_import(tmp_path: Path) -> None:
    _write(tmp_path, SYNTHETIC)
    assert import_graph(tmp_path, "pkg") == {
        "pkg": set(),
        "pkg.base": {"pkg"},  # `from pkg import Error`: a name in pkg; numpy is third-party
        "pkg.sub": {"pkg.sub.one"},  # relative import in a package's __init__
        "pkg.sub.one": {"pkg.base"},  # `..base` from a plain module
        "pkg.sub.two": {"pkg.sub.three", "pkg.top"},  # `from . import three` is the module; lazy import
        "pkg.sub.three": {"pkg.sub.two"},
        "pkg.top": {"pkg.sub", "pkg.sub.one", "pkg.base"},
    }


def test_checker_reports_a_cycle_as_a_chain(tmp_path: Path) -> None:
    _write(tmp_path, SYNTHETIC)
    assert all_cycles(import_graph(tmp_path, "pkg")) == [["pkg.sub.three", "pkg.sub.two", "pkg.sub.three"]]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_checker_reports_upward_and_cross_package_edges(tmp_path: Path) -> None:
    files = {**SYNTHETIC, "pkg/other/__init__.py": "", "pkg/other/peer.py": "import pkg.sub.one\n"}
    _write(tmp_path, files)
    table = (*SYNTHETIC_TABLE, (1, "pkg.other", "", ()), (1, "pkg.other.*", "", ()), (0, "pkg.unused", "", ()))
    graph = import_graph(tmp_path, "pkg")
    assert violations(graph, packages_under(tmp_path, "pkg"), table) == [
        "pkg.other.peer (rank 1) imports pkg.sub.one (rank 1): the same rank, in another package "
        "(pkg.sub, not pkg.other)",
        "pkg.sub.two (rank 1) imports pkg.top (rank 2): a higher rank",
    ]
    allowed = (*table[:-3], (1, "pkg.other", "", ()), (1, "pkg.other.*", "", ("pkg.sub",)))
    assert violations(graph, packages_under(tmp_path, "pkg"), allowed) == [
        "pkg.sub.two (rank 1) imports pkg.top (rank 2): a higher rank"
    ]
    assert violations(graph, packages_under(tmp_path, "pkg"), SYNTHETIC_TABLE[1:]) == [
        "pkg has no row in the layer table",
        "pkg.other has no row in the layer table",
        "pkg.other.peer has no row in the layer table",
        "pkg.sub.two (rank 1) imports pkg.top (rank 2): a higher rank",
    ]


def test_rank_prefers_the_most_specific_pattern() -> None:
    assert rank_of("accel.rtl") == 1
    assert rank_of("accel.rtl.params") == 1
    assert rank_of("accel.rtl.blocks.mvu") == 1
    assert rank_of("accel.rtl.network") == 3
    assert rank_of("accel.deploy.board") == 4
    assert rank_of("accel.nowhere") is None
