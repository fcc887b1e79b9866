"""The `accel` command: zoo, inspect, verify, help; in-process through main(argv) plus one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from accel.cli import build_parser, main


def _json_out(capsys, argv: list[str]) -> tuple[int, object]:
    capsys.readouterr()
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_help_runs_fast_without_tensorflow() -> None:
    code = "import sys; from accel.cli import main\ntry:\n main(['--help'])\nexcept SystemExit as e:\n" \
           " assert e.code == 0\nassert 'tensorflow' not in sys.modules, 'TF imported by --help'"  # fmt: skip
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "accel.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: accel" in r.stdout
    for command in ("zoo", "inspect", "verify", "build", "report", "package", "demo"):
        assert command in r.stdout


def test_help_of_each_command_names_its_options(capsys) -> None:
    fold = ["--folding", "--budget", "--target-ii"]
    frontend = ["--input-type", "--softmax"]
    for command, options in [("verify", ["--against", "--samples", "--seed", "--io", "--sim", *fold, "--json",
                                         *frontend]),
                             ("inspect", ["--json", *frontend]), ("zoo", ["--json"]), ("demo", ["--samples"]),
                             ("build", ["--backend", "--board", "--part", "--clock-ns", "--io", *fold, "--json",
                                        *frontend]),
                             ("report", ["--json", "--chart", "--no-synth"]),
                             ("package", ["--output", "--json"])]:  # fmt: skip
        with pytest.raises(SystemExit) as e:
            main([command, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert all(o in out for o in options), (command, out)


def test_verify_against_choices_are_declared() -> None:
    verify = build_parser()._subparsers._group_actions[0].choices["verify"]
    against = next(a for a in verify._actions if a.dest == "against")
    assert list(against.choices) == ["qkeras", "hls", "rtl"]


models = pytest.importorskip("models")


def test_zoo_json_is_the_list_of_names(capsys) -> None:
    code, names = _json_out(capsys, ["zoo", "--json"])
    assert code == 0 and isinstance(names, list) and names == models.names() and "digits" in names


def test_inspect_json_has_per_layer_entries(capsys) -> None:
    code, info = _json_out(capsys, ["inspect", "digits", "--json"])
    assert code == 0 and info["model"] == "digits"
    layers = info["layers"]
    keys = {"name", "op", "source", "input_shapes", "output_shape", "input_types", "weight_type", "bias_type",
            "output_type", "macs", "parameters"}  # fmt: skip
    assert all(keys <= set(r) for r in layers)
    convs = [r for r in layers if r["op"] in ("conv2d", "depthwise_conv2d")]
    assert convs and all(r["weight_type"].startswith("ap_") and r["macs"] > 0 for r in convs)
    # digits' MACs by hand from its architecture (models/digits.py): 8x8x1 input, conv1 3x3 -> 8x8x8,
    # dw1 3x3 stride 2 -> 4x4x8, pw1 -> 4x4x16, dw2 3x3 -> 4x4x16, pw2 -> 4x4x16, fc 256 -> 10
    by_hand = {"conv1": 8 * 8 * 8 * 3 * 3 * 1, "dw1": 4 * 4 * 8 * 3 * 3, "pw1": 4 * 4 * 16 * 8,
               "dw2": 4 * 4 * 16 * 3 * 3, "pw2": 4 * 4 * 16 * 16, "fc": 256 * 10}  # fmt: skip
    assert {r["name"]: r["macs"] for r in layers if r["macs"]} == by_hand
    assert info["totals"]["macs"] == 16768
    # digits' parameter count is recorded independently by its training script
    metrics = json.loads((__import__("pathlib").Path(models.__file__).parent / "digits_metrics.json").read_text())
    assert info["totals"]["parameters"] == metrics["parameters"]


def test_inspect_table_for_humans(capsys) -> None:
    assert main(["inspect", "digits"]) == 0
    out = capsys.readouterr().out
    assert "depthwise_conv2d" in out
    total = next(line for line in out.splitlines() if "total" in line)
    assert "16,768" in total and "3,306" in total  # digits' MACs (by hand, above) and Keras' parameter count


@pytest.mark.parametrize("name", ["digits", "mobilenet_v2_block"])
def test_verify_json_zoo_model_is_exact(capsys, name: str) -> None:
    if name not in models.names():
        pytest.fail(f"zoo model {name} is missing")
    argv = ["verify", name, "--against", "qkeras", "--samples", "64", "--seed", "3", "--json"]
    code, result = _json_out(capsys, argv)
    assert code == 0
    assert {"model", "against", "samples", "mismatches"} <= set(result)
    assert result["model"] == name and result["against"] == "qkeras" and result["samples"] == 64
    assert result["mismatches"] == 0


def test_verify_human_output(capsys) -> None:
    assert main(["verify", "digits", "--samples", "16"]) == 0
    assert capsys.readouterr().out.startswith("digits: 16 random samples against qkeras: all outputs bit-exact (")


def test_describe_verify_names_first_diverging_layer() -> None:
    from accel.steps import describe_verify

    text = describe_verify({"model": "m", "against": "qkeras", "samples": 10, "mismatches": 2,
                            "mismatched_values": 5, "elapsed_s": 1.0,
                            "first_divergence": {"layer": "dw1", "node": "dw1_act", "index": [3, 0, 1, 2],
                                                 "expected": 0.5, "got": 0.25}})  # fmt: skip
    assert text == ("m: 10 random samples against qkeras: 2 samples differ (5 values); first diverging layer: "
                    "dw1 (node dw1_act) at [3, 0, 1, 2], expected 0.5 got 0.25.")  # fmt: skip


def test_describe_verify_gives_a_stream_fault_as_it_is() -> None:
    """A fault of the stream rather than of a value (here accel_top's tlast_err) is the sentence itself."""
    from accel.steps import describe_verify

    fault = "accel_top's tlast_err output is set: the TLAST check u_p_frame_last fired first, at cycle 40 (input)"
    text = describe_verify({"model": "m", "against": "rtl", "samples": 4, "mismatches": 1, "mismatched_values": 0,
                            "elapsed_s": 1.0, "first_divergence": {"layer": None, "node": "p", "index": None,
                                                                   "expected": None, "got": None, "stream": fault}})
    assert text == f"m: 4 random samples against rtl: the output stream is wrong: {fault}."


def test_verify_exit_code_1_and_layer_named_on_mismatch(capsys, monkeypatch) -> None:
    """A mismatch (simulated: the verify step the command calls is replaced) exits 1 and names the layer."""
    import accel.cli as cli

    bad = {"model": "digits", "against": "qkeras", "samples": 4, "mismatches": 1, "mismatched_values": 1,
           "elapsed_s": 0.1, "first_divergence": {"layer": "pw2", "node": "pw2_act", "index": [0, 1, 1, 3],
                                                  "expected": 1.0, "got": 0.5}}  # fmt: skip
    monkeypatch.setattr(cli, "verify", lambda *a, **k: bad)
    assert main(["verify", "digits", "--samples", "4"]) == 1
    assert "pw2" in capsys.readouterr().out


def test_inspect_and_verify_an_h5_file(tmp_path, capsys) -> None:
    """MODEL may be a saved .h5 file: it converts to the same graph as the zoo builder."""
    path = tmp_path / "pointwise_head.h5"
    models.build("pointwise_head", seed=0).save(str(path))
    _, from_file = _json_out(capsys, ["inspect", str(path), "--json"])
    _, from_zoo = _json_out(capsys, ["inspect", "pointwise_head", "--json"])
    assert from_file["model"] == "pointwise_head"
    assert from_file["layers"] == from_zoo["layers"] and from_file["totals"] == from_zoo["totals"]
    code, result = _json_out(capsys, ["verify", str(path), "--samples", "32", "--json"])
    assert code == 0 and result["mismatches"] == 0


@pytest.mark.hls
def test_verify_against_hls_from_the_command_line(capsys, tmp_path) -> None:
    """The CLI path to the hls4ml C simulation (every zoo model is covered at API level in test_hls.py)."""
    argv = ["verify", "pointwise_head", "--against", "hls", "--io", "stream", "--samples", "200", "--json",
            "--output-dir", str(tmp_path / "hls")]  # fmt: skip
    code, result = _json_out(capsys, argv)
    assert code == 0, result
    assert result["against"] == "hls" and result["io_type"] == "io_stream" and result["samples"] == 200
    assert result["mismatches"] == 0 and result["model"] == "pointwise_head"
