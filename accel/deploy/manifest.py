"""``build.json``: the typed, versioned manifest every ``accel build`` directory carries, whichever backend wrote it.

Why one file: the board flow (:mod:`accel.deploy.board`), the packager, the report, the co-simulation and the
PYNQ driver must all know the same facts about a built accelerator (its top-level IP, its ports, and above
all the exact packing of its two AXI4-Stream ports) without knowing which backend produced it.  Why typed:
about eighty places used to index a plain dict with strings, so a renamed key failed as a ``KeyError`` deep
inside a Tcl writer; now :meth:`BuildManifest.from_json` checks every key once, when the file is read, and
fails with one sentence naming the file and the key.  Why versioned: ``schema`` says which layout a file has,
so a directory written by an older accel is refused with a sentence instead of being misread.

The JSON stays readable (``indent=1``) and flat, as before: the common keys, then an RTL build's facts
(:class:`RtlFacts`: ``rtl_sources`` ... ``layers``) at the top level, or an HLS build's (:class:`HlsFacts`)
under ``"hls"``.  Values derived from others (a stream's ``beat_bits``, ``tdata_bits``, ...) are properties,
written for readers outside Python (the C++ templates, a person, the board) and checked when read.  Unknown
keys are refused: they mean a writer out of step with this file.  The round trip is exact:
``BuildManifest.from_json(m.to_json()) == m``.  Writer: :func:`write_manifest`; reader: :func:`load_build`.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from accel import AccelError
from accel.deploy.stream import beat_bits, beat_bytes
from accel.fixed import FixedType
from accel.parts import check_target

__all__ = ["MANIFEST", "MEMORY_KINDS", "SCHEMA_VERSION", "STARVED", "BuildManifest", "CapacityRecord",
           "ChildRecord", "CostRecord", "FitRecord", "HlsFacts", "InstanceRecord", "IpInfo", "LayerRecord",
           "MemoryRecord", "PortRecord", "Ports", "RtlFacts", "StreamSpec", "check_target", "load_build", "stream_spec",
           "write_manifest"]  # fmt: skip

MANIFEST = "build.json"
#: the layout this accel writes and reads; 2 = the typed manifest (files without ``schema`` are the older dicts)
SCHEMA_VERSION = 2
BACKENDS = ("hls", "rtl")
#: when a block counts as starved (its busy-cycle monitor): "input" = s_axis_tready && !s_axis_tvalid;
#: "any_input" = any input's tvalid is low (joins); "selected_input" = the block's internal ``in_valid`` is low
STARVED = ("input", "any_input", "selected_input")
#: what a memory of an instance becomes (accel.rtl.blocks.cost.MEMORY_KINDS, which this layer may not import)
MEMORY_KINDS = ("lut-rom", "lutram", "bram", "ff")
_R = TypeVar("_R", bound="_Record")
_T = TypeVar("_T")
_REBUILD = "rebuild the directory with `accel build`"


# -- the one parser: every error is one sentence naming the file and the key ---------------------------------------
def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Obj:
    """One JSON object under parse: its file, its key path (``layers[2].instances[0]``), refusal of unknown keys."""

    def __init__(self, data: Any, path: str, where: str, keys: tuple[str, ...]) -> None:
        self.path, self.where = path, where
        if not isinstance(data, Mapping):
            raise AccelError(f"{path}: {where or 'the manifest'} is {_show(data)}, not a JSON object; {_REBUILD}.")
        unknown = [str(k) for k in data if k not in keys]
        if unknown:
            raise AccelError(f"{path}: {self.at(unknown[0])} is not a field of a schema-{SCHEMA_VERSION} build "
                             f"manifest; {where or 'the manifest'} has {', '.join(keys)}.")  # fmt: skip
        self.data = data

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise AccelError(f"{self.path} lacks {self.at(key)}; a schema-{SCHEMA_VERSION} build manifest needs it, "
                             f"so {_REBUILD}.")  # fmt: skip
        return self.data[key]

    def wrong(self, key: str, value: Any, expected: str) -> AccelError:
        return AccelError(f"{self.path}: {self.at(key)} is {_show(value)}, not {expected}; {_REBUILD}.")

    def value(self, key: str, hint: Any) -> Any:
        """The value under ``key`` as the type ``hint`` of the dataclass field it fills."""
        v = self.get(key)
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):  # X | None, int | str
            alternatives = [a for a in args if a is not type(None)]
            if v is None and len(alternatives) < len(args):
                return None
            if len(alternatives) == 1:
                return self.value(key, alternatives[0])
            if any(_plain(v, a) for a in alternatives):
                return v
            raise self.wrong(key, v, _describe(hint))
        if isinstance(hint, type) and issubclass(hint, _Record):
            return hint.from_json(v, self.path, self.at(key))
        if _plain(v, hint):
            return float(v) if hint is float else v
        if origin is tuple and isinstance(v, (list, tuple)):
            if args[-1] is not Ellipsis:  # an (H, W, C) shape
                if len(v) == len(args) and all(_is_int(s) and s > 0 for s in v):
                    return tuple(v)
                raise self.wrong(key, v, "an (H, W, C) list of three positive integers")
            item = args[0]
            if isinstance(item, type) and issubclass(item, _Record):
                return tuple(item.from_json(x, self.path, f"{self.at(key)}[{i}]") for i, x in enumerate(v))
            bad = next((i for i, x in enumerate(v) if not isinstance(x, item)), None)
            if bad is None:
                return tuple(v)
            raise self.wrong(f"{key}[{bad}]", v[bad], f"a {item.__name__}")
        if origin is dict and isinstance(v, Mapping):
            sub = _Obj(v, self.path, self.at(key), tuple(v))
            return {str(k): sub.value(str(k), args[1]) for k in v}
        raise self.wrong(key, v, _describe(hint))


def _plain(v: Any, hint: Any) -> bool:
    """Whether ``v`` is a JSON value of the plain type ``hint`` (a bool is not an integer, an integer is a number)."""
    if hint is int:
        return _is_int(v)
    if hint is float:
        return _is_int(v) or isinstance(v, float)
    return hint in (str, bool) and isinstance(v, hint)


def _describe(hint: Any) -> str:
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is bool:
        return "true or false"
    if hint is str:
        return "a string"
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) if a is not type(None) else "null" for a in typing.get_args(hint))
    return {tuple: "a list", dict: "a JSON object"}.get(typing.get_origin(hint), str(hint))


def _json(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_json()
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def _construct(path: str, build: Callable[[], _T]) -> _T:
    """Run a constructor whose own checks raise AccelError, prefixing the file so the sentence names it."""
    try:
        return build()
    except AccelError as exc:
        raise AccelError(f"{path}: {exc}") from None


class _Record:
    """Base of the manifest's dataclasses: JSON in field order, and a strict parser driven by the field types.

    A field with a default may be absent from the JSON (fields added after schema 2 was fixed: the reader of an
    earlier file sees the default).  ``_derived`` names properties that are written too and checked on reading.
    """

    _derived: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        out = {f.name: _json(getattr(self, f.name)) for f in fields(self)}
        out.update({k: getattr(self, k) for k in self._derived})
        return out

    @classmethod
    def from_json(cls: type[_R], data: Any, path: str | Path = MANIFEST, where: str = "") -> _R:
        """Parse and check ``data`` (the object at ``where`` in the file ``path``); an instance passes as it is."""
        if isinstance(data, cls):
            return data
        path = str(path)
        own = fields(cls)
        o = _Obj(data, path, where, tuple(f.name for f in own) + cls._derived)
        hints = typing.get_type_hints(cls)
        optional = {f.name for f in own if f.default is not MISSING or f.default_factory is not MISSING}
        kwargs = {f.name: o.value(f.name, hints[f.name]) for f in own if f.name in o.data or f.name not in optional}
        record = _construct(path, lambda: cls(**kwargs))
        for key in cls._derived:
            if o.value(key, int) != getattr(record, key):
                raise AccelError(f"{path}: {o.at(key)} is {o.data[key]}, but the other fields make it "
                                 f"{getattr(record, key)}; {_REBUILD}.")  # fmt: skip
        return record


# -- streams --------------------------------------------------------------------------------------------------------
def _canonical_stream(name: str, shape: tuple[int, ...], type_: str, lanes: int) -> tuple[tuple[int, int, int], str]:
    """Shape as (H, W, C) ints and the canonical type string; refuses what no stream can carry."""
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise AccelError(f"stream {name}: shape {shape} is not (H, W, C); top-level streams carry (H, W, C) frames.")
    if lanes < 1 or shape[-1] % lanes:
        raise AccelError(f"stream {name}: {lanes} lanes do not divide {shape[-1]} channels; lanes must divide C.")
    return (shape[0], shape[1], shape[2]), FixedType.parse(type_).hls


@dataclass(frozen=True)
class StreamSpec(_Record):
    """One top-level AXI4-Stream: enough to pack/unpack it with :mod:`accel.deploy.stream`.

    ``type`` is the element type as hls4ml spells it (``ap_fixed<8,3>``; :attr:`dtype` parses it).  The widths
    are properties, so they cannot disagree with it.  ``tdata_bits`` is the port's TDATA width: the beat padded
    to whole bytes, as an AXI DMA needs.
    """

    _derived: ClassVar[tuple[str, ...]] = ("beat_bits", "beat_bytes", "tdata_bits", "beats_per_frame",
                                           "bytes_per_frame")  # fmt: skip
    name: str
    shape: tuple[int, int, int]
    type: str
    lanes: int

    def __post_init__(self) -> None:
        shape, canonical = _canonical_stream(self.name, self.shape, self.type, self.lanes)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "type", canonical)

    @property
    def dtype(self) -> FixedType:
        return FixedType.parse(self.type)

    @property
    def beat_bits(self) -> int:
        return beat_bits(self.dtype, self.lanes)

    @property
    def beat_bytes(self) -> int:
        return beat_bytes(self.dtype, self.lanes)

    @property
    def tdata_bits(self) -> int:
        return 8 * self.beat_bytes

    @property
    def beats_per_frame(self) -> int:
        return self.shape[0] * self.shape[1] * self.shape[2] // self.lanes

    @property
    def bytes_per_frame(self) -> int:
        return self.beats_per_frame * self.beat_bytes


def stream_spec(name: str, shape: tuple[int, ...], dtype: FixedType, lanes: int) -> StreamSpec:
    """The spec of a stream of ``shape`` frames of ``dtype`` with ``lanes`` elements per beat."""
    return StreamSpec(name, tuple(int(s) for s in shape), dtype.hls, int(lanes))


# -- common records -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ports(_Record):
    """Top-level port names of ``top`` and the reset polarity the block design must wire."""

    clock: str
    reset: str
    reset_active_low: bool
    s_axis: str
    m_axis: str
    tlast_err: str = ""  # the sticky TLAST-error output (accel.rtl.tlast); "" when the top has none (HLS, older RTL)


@dataclass(frozen=True)
class IpInfo(_Record):
    """The IP the vendor step produces: its VLNV, where it appears (relative to the build dir), the command."""

    vlnv: str
    repo: str
    make: str


@dataclass(frozen=True)
class HlsFacts(_Record):
    """What only an HLS build has (typed, under ``"hls"`` in the JSON): hls4ml's settings, the hls4ml project's
    name and folder, the testbench vectors' count and seed, and the g++ command of the wrapper's C simulation."""

    io_type: str
    strategy: str
    reuse_factor: int
    project: str
    hls4ml_dir: str
    tb_samples: int
    seed: int
    csim: str


# -- RTL records ----------------------------------------------------------------------------------------------------
def _check_starved(what: str, starved: str) -> None:
    if starved not in STARVED:
        raise AccelError(f"{what}: starved '{starved}' is not a monitor kind; supported: {', '.join(STARVED)}.")


@dataclass(frozen=True)
class PortRecord(_Record):
    """One AXI4-Stream port of an instance: ``port`` is its prefix (``s_axis``, ``s0_axis``, ``m_axis``) and
    ``index`` the consumer k of a fork's vector output (else None); the stream's frame, type and lanes, and the
    accel_top wire bundle it is on (``<wire>_tdata`` ...; "" in files written before it was recorded), which
    says which instances a port connects (the cross-instance timing estimate, :mod:`accel.rtl.design_timing`)."""

    _derived: ClassVar[tuple[str, ...]] = ("beats_per_frame",)
    port: str
    index: int | None
    shape: tuple[int, int, int]
    type: str
    lanes: int
    wire: str = ""

    def __post_init__(self) -> None:
        shape, canonical = _canonical_stream(self.port, self.shape, self.type, self.lanes)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "type", canonical)

    @property
    def dtype(self) -> FixedType:
        return FixedType.parse(self.type)

    @property
    def beats_per_frame(self) -> int:
        return self.shape[0] * self.shape[1] * self.shape[2] // self.lanes


@dataclass(frozen=True)
class ChildRecord(_Record):
    """A library block instantiated inside an instance (e.g. the window generator inside accel_maxpool_win):
    ``path`` is relative to the instance, ``starved`` says how its monitor counts starvation."""

    path: str
    module: str
    starved: str = "input"

    def __post_init__(self) -> None:
        _check_starved(f"child {self.path}", self.starved)


@dataclass(frozen=True)
class CostRecord(_Record):
    """Estimated resources (the cost model, :mod:`accel.rtl.blocks.cost`): LUT6 sites, flip-flops, DSP slices and
    BRAM36 blocks (a RAMB18 is 0.5)."""

    lut: float
    ff: float
    dsp: float
    bram36: float


@dataclass(frozen=True)
class MemoryRecord(_Record):
    """One memory of an instance: what it holds (``weights``, ``line buffer`` ...), what yosys makes of it
    (``kind``: ``lut-rom`` logic, ``lutram``, ``bram`` or ``ff``), its size and its share of the instance's cost."""

    _derived: ClassVar[tuple[str, ...]] = ("bits",)
    name: str
    kind: str
    words: int
    width: int
    lut: float
    ff: float
    bram36: float

    def __post_init__(self) -> None:
        if self.kind not in MEMORY_KINDS:
            raise AccelError(f"memory {self.name}: kind '{self.kind}' is unknown; supported: "
                             f"{', '.join(MEMORY_KINDS)}.")  # fmt: skip

    @property
    def bits(self) -> int:
        return self.words * self.width


@dataclass(frozen=True)
class CapacityRecord(_Record):
    """The capacity of the build's device (:func:`accel.parts.part_info`) in the units of :class:`CostRecord`."""

    device: str
    lut: int
    ff: int
    dsp: int
    bram36: int


@dataclass(frozen=True)
class FitRecord(_Record):
    """The fit check of an RTL build (:mod:`accel.rtl.cost`): how the estimate was made, the design's total, the
    part's capacity (None: unknown device, no check), percent used per resource, whether it fits (None: unknown),
    a one-phrase verdict, and whether the build was allowed to exceed the part (``--allow-overfit``)."""

    method: str
    total: CostRecord
    capacity: CapacityRecord | None
    utilisation_percent: dict[str, float] | None
    fits: bool | None
    verdict: str
    allow_overfit: bool = False


@dataclass(frozen=True)
class ClockCheckRecord(_Record):
    """The clock check of an RTL build (:mod:`accel.rtl.blocks.delay`): the slowest instance's pre-synthesis
    bound on its register-to-register paths against the requested clock."""

    method: str
    clock_ns: float
    critical_ns: float
    fmax_mhz: float
    instance: str
    module: str
    meets_clock: bool


@dataclass(frozen=True)
class InstanceRecord(_Record):
    """One Verilog instance of ``accel_top``: its module and parameters, and what the monitors and the report
    need to know about it.  The fields after ``parameters`` have defaults: they were added to schema 2 while
    the generator did not write them yet, so an earlier file reads as "one input, no ports recorded"."""

    instance: str
    module: str
    parameters: dict[str, int | str]
    expected_cycles: int | None = None
    resource_class: str = ""
    inputs: tuple[PortRecord, ...] = ()
    outputs: tuple[PortRecord, ...] = ()
    starved: str = "input"
    vector_output: bool = False  # a fork: m_axis_* are vectors, one stream per consumer
    children: tuple[ChildRecord, ...] = ()
    #: internal wire high on each cycle of modelled work (see accel.rtl.blocks.base.Block.progress), or ""
    progress: str = ""
    #: estimated resources of the instance (None in files written before the fit check) and its memories
    cost: CostRecord | None = None
    memory: tuple[MemoryRecord, ...] = ()

    def __post_init__(self) -> None:
        _check_starved(f"instance {self.instance}", self.starved)


@dataclass(frozen=True)
class LayerRecord(_Record):
    """One graph node in the RTL build: its work, folding, expected cycles per frame, and its instances."""

    node: str
    op: str
    macs: int
    parameters: int
    pe: int | None
    simd: int | None
    multipliers: int
    expected_cycles: int
    instances: tuple[InstanceRecord, ...]
    #: the sum of its instances' estimated costs (None in files written before the fit check)
    cost: CostRecord | None = None


@dataclass(frozen=True)
class RtlFacts(_Record):
    """What only an RTL build has (at the top level of the JSON): its Verilog sources (relative to the build
    dir, the generated top last), ROM images, the expected II, multiplier count, folding and layers."""

    rtl_sources: tuple[str, ...]
    filelist: str
    rom_files: tuple[str, ...]
    rom_paths: str
    expected_ii_cycles: int
    multipliers: int
    folding: dict[str, dict[str, int | str | None]]  # node -> {"pe", "simd" (or None), "ram_style", "mult_style"}
    layers: tuple[LayerRecord, ...]
    #: the fit check: the estimated total against the part (None in files written before it)
    fit: FitRecord | None = None
    #: the clock check: the pre-synthesis bound against the requested clock (None in files written before it)
    clock_check: ClockCheckRecord | None = None
    #: how the folding optimiser chose (accel.rtl.folding.FoldingChoice.search_json: mode, budget, target_ii, device,
    #: expected_ii_cycles, bottleneck, stop, evaluations); None in files written before it
    folding_search: dict[str, int | float | str | None] | None = None
    tlast_checks: dict[str, str] | None = None  # instance with a sticky tlast_err -> what it checks (accel.rtl.tlast)

    def __post_init__(self) -> None:
        for node, f in self.folding.items():  # files written before ram_style and mult_style lack them
            if not {"pe", "simd"} <= set(f) <= {"pe", "simd", "ram_style", "mult_style"}:
                raise AccelError(f"folding of {node} has {sorted(f)}; a folding entry has pe and simd, and may have "
                                 "ram_style and mult_style.")  # fmt: skip


RTL_KEYS = tuple(f.name for f in fields(RtlFacts))


# -- the manifest ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class BuildManifest(_Record):
    """The manifest of one build directory (see the module docstring); ``rtl`` / ``hls`` hold the facts of the
    backend that wrote it, and exactly that one is set."""

    backend: str
    model: str
    part: str
    clock_ns: float
    top: str
    input: StreamSpec
    output: StreamSpec
    ports: Ports
    ip: IpInfo
    files: tuple[str, ...]
    #: what the build was generated from, so that ``accel verify BUILD_DIR`` can regenerate the reference:
    #: a zoo model name or an absolute path of a Keras file ("" when built from a Graph in Python)
    source: str = ""
    #: sha256 of the source file ("" for a zoo model), to refuse verifying against an edited file
    source_sha256: str = ""
    #: the frontend options the source was converted with (``--input-type``, ``--softmax``; "" when not given),
    #: so that the reference is regenerated from the same graph
    input_type: str = ""
    softmax: str = ""
    rtl: RtlFacts | None = None
    hls: HlsFacts | None = None
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.schema != SCHEMA_VERSION:
            raise AccelError(f"manifest schema {self.schema} is not supported; this accel writes schema "
                             f"{SCHEMA_VERSION}.")  # fmt: skip
        if self.backend not in BACKENDS:
            raise AccelError(f"backend '{self.backend}' is unknown; supported: {', '.join(BACKENDS)}.")
        check_target(self.part, self.clock_ns)
        if (self.rtl is not None) != (self.backend == "rtl") or (self.hls is not None) != (self.backend == "hls"):
            raise AccelError(f"a {self.backend} build manifest must carry the {self.backend} facts and no other "
                             "backend's.")  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": self.schema}
        out.update({f.name: _json(getattr(self, f.name)) for f in fields(self) if f.name not in _OWN})
        if self.rtl is not None:
            out.update(self.rtl.to_json())
        if self.hls is not None:
            out["hls"] = self.hls.to_json()
        return out

    @classmethod
    def from_json(cls, data: Any, path: str | Path = MANIFEST, where: str = "") -> BuildManifest:
        """Parse and check a manifest; refuses a file of another schema and anything missing or mistyped."""
        if isinstance(data, cls):
            return data
        path = str(path)
        if not isinstance(data, Mapping):
            raise AccelError(f"{path} is not a JSON object; {_REBUILD}.")
        schema = data.get("schema")
        if schema != SCHEMA_VERSION:
            older = "an older" if schema is None or (_is_int(schema) and schema < SCHEMA_VERSION) else "another"
            raise AccelError(f"{path} was written by {older} accel (schema {schema}, this accel reads schema "
                             f"{SCHEMA_VERSION}); rebuild it with `accel build`.")  # fmt: skip
        kind = data.get("backend")
        if kind not in BACKENDS:
            _Obj(data, path, where, tuple(data)).value("backend", str)  # missing, or not a string
            raise AccelError(f"{path}: backend '{kind}' is unknown; supported: {', '.join(BACKENDS)}.")
        common = tuple(f.name for f in fields(cls) if f.name not in _OWN)
        o = _Obj(data, path, where, ("schema", *common, *(RTL_KEYS if kind == "rtl" else ("hls",))))
        hints = typing.get_type_hints(cls)
        optional = {f.name for f in fields(cls) if f.default is not MISSING}
        kwargs = {name: o.value(name, hints[name]) for name in common if name in data or name not in optional}
        if kind == "rtl":
            kwargs["rtl"] = RtlFacts.from_json({k: data[k] for k in RTL_KEYS if k in data}, path, where)
        if kind == "hls":
            kwargs["hls"] = o.value("hls", HlsFacts)
        return _construct(path, lambda: cls(**kwargs))


_OWN = ("schema", "rtl", "hls")


# -- files ----------------------------------------------------------------------------------------------------------
def write_manifest(directory: Path, manifest: BuildManifest | Mapping[str, Any]) -> Path:
    """Check ``manifest`` and write ``directory/build.json``; returns its path.

    A dict (the JSON form, e.g. a hand-written manifest in a test) is parsed with :meth:`BuildManifest.from_json`
    first, so it is checked exactly as a file that is read (``schema`` may be left out, and typed records such as
    :func:`stream_spec`'s may stand for their JSON).
    """
    path = Path(directory) / MANIFEST
    if not isinstance(manifest, BuildManifest):
        manifest = BuildManifest.from_json({"schema": SCHEMA_VERSION, **manifest}, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest.to_json(), indent=1) + "\n")
    return path


def load_build(directory: Path) -> BuildManifest:
    """The checked manifest of a build directory; an AccelError names the directory when it is not a build."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise AccelError(f"{directory} is not an accel build directory (no {MANIFEST}); create one with `accel build`.")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AccelError(f"{path} cannot be read as JSON ({exc}); {_REBUILD}.") from None
    return BuildManifest.from_json(data, path)
