"""The exact NumPy reference against QKeras ``predict``, per zoo model, in one process on the same inputs.

For each model: the same ``--samples`` random raw frames (:func:`accel.compare.random_inputs`, seed 0) go to
QKeras as their exact float view (``model.predict(x, batch_size=--keras-batch)``) and to
:func:`accel.reference.execute` as raw integers.  Each side gets one untimed warm-up run (TensorFlow traces its
graph, NumPy/BLAS warm up), then the best of ``--repeat`` timed runs counts, the two sides' runs alternating.
The ratio is reference inferences/s over QKeras inferences/s (1.0 or more: the reference is at least as fast).
The reference's peak NumPy memory (``tracemalloc``, in a separate untimed run) shows the batch slicing at work.
Both sides run in this one process, alternating, so the ratio suffers less than the absolute numbers from a busy
machine; under heavy load (other jobs on both cores) it still moves by 2x or more between runs.  Both sides use
every core: TensorFlow its intra-op threads, the reference one thread per slice of the batch
(:func:`accel.reference.executor.reference_threads`).
Usage: ``.venv/bin/python scripts/bench_reference.py [--models ds_cnn_kws,digits] [--samples 1000]
[--keras-batch 1000] [--repeat 3] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench_table import text_table  # noqa: E402

COLUMNS = [
    ("model", "model", "{}"),
    ("samples", "frames", "{}"),
    ("keras_fps", "qkeras inf/s", "{:.1f}"),
    ("ref_fps", "reference inf/s", "{:.1f}"),
    ("ratio", "ref/qkeras", "{:.2f}"),
    ("ref_peak_mb", "ref peak MB", "{:.0f}"),
]


def _best_interleaved(fns: list, repeat: int) -> list[float]:
    """Seconds of the fastest of ``repeat`` calls of each function, after one untimed warm-up call of each.

    The calls alternate (a, b, a, b, ...) so that both sides see the same stretches of a busy machine.
    """
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def bench_model(name: str, samples: int, keras_batch: int, repeat: int) -> dict:
    """Time QKeras predict and the reference on the same ``samples`` frames of zoo model ``name``."""
    import tensorflow as tf

    import models
    from accel.compare import random_inputs
    from accel.frontend import to_graph
    from accel.reference import execute
    from accel.verify import _keras_view, keras_outputs_model

    tf.get_logger().setLevel("ERROR")  # predict on a new model retraces; the notice is noise here
    model = models.build(name)
    graph = to_graph(model)
    raw = random_inputs(graph, samples, 0)
    x = _keras_view(model, graph, raw)
    keras_model = keras_outputs_model(model, graph)
    keras_s, ref_s = _best_interleaved(
        [lambda: keras_model.predict(x, batch_size=keras_batch, verbose=0), lambda: execute(graph, raw)], repeat
    )
    tracemalloc.start()
    execute(graph, raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    keras_fps, ref_fps = samples / keras_s, samples / ref_s
    return {"model": name, "samples": samples, "keras_batch": keras_batch, "keras_fps": keras_fps,
            "ref_fps": ref_fps, "ratio": ref_fps / keras_fps, "ref_peak_mb": peak / 2**20}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    import models

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="", help="comma-separated zoo models (default: all)")
    ap.add_argument("--samples", type=int, default=1000, help="frames per model, one batch (default 1000)")
    ap.add_argument("--keras-batch", type=int, default=1000,
                    help="QKeras predict batch_size (default 1000: the whole batch, QKeras' fastest here)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per side, best counts (default 3)")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of the table")
    args = ap.parse_args(argv)
    names = [n for n in args.models.split(",") if n] or models.names()
    rows = []
    for name in names:
        rows.append(bench_model(name, args.samples, args.keras_batch, args.repeat))
        if not args.json:
            print(f"... {name}: {rows[-1]['ratio']:.2f}x", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        from accel.reference.executor import reference_threads

        print(f"{args.samples} frames per model; QKeras predict(batch_size={args.keras_batch}), TensorFlow's own "
              f"threads; reference on {reference_threads()} threads; best of {args.repeat} alternating runs after "
              f"a warm-up; ratio = reference / QKeras")  # fmt: skip
        print(text_table(rows, COLUMNS))
        print(f"slowest ratio: {min(r['ratio'] for r in rows):.2f}x")
    return 0 if all(r["ratio"] >= 1.0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
