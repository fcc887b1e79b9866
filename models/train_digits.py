"""Train the `digits` zoo model: quantisation-aware QKeras training plus a float twin for comparison.

    .venv/bin/python -m models.train_digits

Takes well under a minute on one CPU core.  Writes models/digits_weights.npz (the quantised model's
weights) and models/digits_metrics.json (float and quantised test accuracy, the latter measured with
QKeras' own predict on the fixed test split, the number `tests/test_zoo.py` re-checks exactly).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402

from . import digits  # noqa: E402


def _train(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> None:
    """Adam with a step-down learning rate; shuffling and initial weights are fixed by `seed`."""
    keras.utils.set_random_seed(seed)
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([epochs * 30, epochs * 38], [3e-3, 1e-3, 3e-4])
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=32, epochs=epochs, shuffle=True, verbose=0)


def main(argv: list[str] | None = None) -> dict:
    """Train both variants, save the quantised weights and the metrics, print a one-line summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    x_tr, y_tr, x_te, y_te = digits.load_split()
    t0 = time.time()

    keras.utils.set_random_seed(args.seed)
    fmodel = digits.architecture(quantized=False)
    _train(fmodel, x_tr, y_tr, args.epochs, args.seed)
    f_correct, f_acc = digits.accuracy(fmodel, x_te, y_te)

    keras.utils.set_random_seed(args.seed)
    qmodel = digits.architecture(quantized=True)
    _train(qmodel, x_tr, y_tr, args.epochs, args.seed)
    digits.save_weights(qmodel)
    # Measure on a freshly built model with the stored weights: exactly what build("digits") returns.
    reloaded = digits.architecture(quantized=True)
    digits.load_weights(reloaded)
    q_correct, q_acc = digits.accuracy(reloaded, x_te, y_te)

    metrics = {
        "dataset": "sklearn.datasets.load_digits (8x8, 1797 images)",
        "split": {
            "test_fraction": digits.TEST_FRACTION,
            "random_state": digits.SPLIT_SEED,
            "stratified": True,
            "n_train": int(len(y_tr)),
            "n_test": int(len(y_te)),
        },
        "epochs": args.epochs,
        "train_seed": args.seed,
        "float_test_accuracy": f_acc,
        "float_test_correct": f_correct,
        "quantized_test_accuracy": q_acc,
        "quantized_test_correct": q_correct,
        "parameters": int(qmodel.count_params()),
        "train_seconds": round(time.time() - t0, 1),
    }
    digits.METRICS.write_text(json.dumps(metrics, indent=2) + "\n")
    print(
        f"digits: float test accuracy {f_acc:.4f}, quantised (QKeras) {q_acc:.4f} on {len(y_te)} test images; "
        f"{metrics['parameters']} parameters, {metrics['train_seconds']} s; weights {digits.WEIGHTS.stat().st_size} B"
    )
    return metrics


if __name__ == "__main__":
    main()
