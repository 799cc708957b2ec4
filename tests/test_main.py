"""Tests for the main job, ``python -m csoftmax`` (csoftmax.__main__.main).

They keep runs short: a few epochs, small hidden layers, small data.
"""

import gzip
import importlib
import io
import re
import struct
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import sklearn.datasets._openml
from sklearn.exceptions import ConvergenceWarning

import csoftmax
from csoftmax.__main__ import FALLBACK, main

from helpers.checkout import checkout_file

TINY = ["--epochs", "2", "--hidden", "8", "--batch-size", "50"]


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(f">4B{array.ndim}I", 0, 0, 0x08, array.ndim, *array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


@pytest.fixture
def tiny_mnist_dir(tmp_path):
    """A folder of MNIST-format IDX files: 300 training and 100 test images."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 300), ("t10k", 100)):
        labels = rng.permutation(np.arange(n) % 10)
        images = rng.integers(0, 256, size=(n, 28, 28))
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return tmp_path


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network, no CSOFTMAX_MNIST_DIR and an empty scikit-learn cache."""
    monkeypatch.delenv("CSOFTMAX_MNIST_DIR", raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "scikit_learn_data"))

    def offline_urlopen(request, *args, **kwargs):
        raise URLError("network disabled in tests")

    monkeypatch.setattr(sklearn.datasets._openml, "urlopen", offline_urlopen)
    monkeypatch.setattr(sklearn.datasets._openml.time, "sleep", lambda seconds: None)


def result(output, name):
    """Return the number on the line ``"<name>: <number>"`` of ``output``."""
    match = re.search(rf"^{re.escape(name)}: ([0-9.]+)", output, re.MULTILINE)
    assert match, f"no {name!r} line in:\n{output}"
    return float(match.group(1))


DIGITS = "load_digits (scikit-learn's bundled 8x8 digits, 1797 images)"


def test_offline_falls_back_to_load_digits_loudly(offline, capsys):
    code = main(["--epochs", "3", "--hidden", "16"])

    out, err = capsys.readouterr()
    assert code == 0
    # Before training, on stderr: that the data are not MNIST, why, and the fix.
    before = err.index("warning: MNIST is unavailable")
    assert err.startswith(
        f"warning: MNIST is unavailable, so this run trains on {DIGITS} instead: "
        "its accuracy and speed are not MNIST's. Pass --no-fallback to make this "
        "an error.\nwarning: why MNIST is unavailable: "
    )
    assert "network disabled in tests" in err
    assert "set the environment variable CSOFTMAX_MNIST_DIR or pass --data-dir to" in err
    assert (
        "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] "
        "(only this test pair is required;" in err
    )
    # After training, the last line on stderr says it again.
    after = err.rstrip().splitlines()[-1]
    assert after == (
        f"warning: these results are for {DIGITS}, not MNIST, which was "
        "unavailable (see the warning before training); pass --no-fallback to "
        "make that an error."
    )
    assert before == 0
    # A command-line user has no path= argument to pass.
    assert "path=" not in out + err
    assert f"dataset: {DIGITS}" in out
    assert "train: 1293 x 64, validation: 144 x 64, test: 360 x 64" in out
    assert "for 3 epochs\n" in out
    assert 0.0 <= result(out, "test accuracy") <= 1.0
    assert result(out, "fit time") >= 0
    assert result(out, "samples/s") > 0


def test_quiet_still_names_the_fallback_dataset(offline, capsys):
    code = main(["--epochs", "1", "--hidden", "8", "--quiet"])

    out, err = capsys.readouterr()
    assert code == 0
    assert err.startswith(f"warning: MNIST is unavailable, so this run trains on {DIGITS}")
    assert err.rstrip().splitlines()[-1].startswith(f"warning: these results are for {DIGITS}")
    assert "epoch" not in out
    assert "train:" not in out
    assert out.rstrip().splitlines()[-3].startswith("test accuracy: ")


def test_no_fallback_makes_an_unavailable_mnist_an_error(offline, capsys):
    code = main(["--epochs", "1", "--hidden", "8", "--no-fallback"])

    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(
        "error: cannot load MNIST: sklearn.datasets.fetch_openml could not load "
        "'mnist_784'"
    )
    assert "pass --data-dir to a folder" in err
    assert "load_digits" not in out + err
    assert "test accuracy" not in out


def test_readme_and_help_say_the_same_about_the_fallback(capsys):
    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.is_file():
        pytest.skip("README.md is not here (not a source checkout)")
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    quick_start = readme.read_text().split("## Quick start")[1].split("\n## ")[0]

    def words(text):
        return "".join(text.replace("`", "").split())

    assert words(FALLBACK) in words(help_text)
    assert words(FALLBACK) in words(quick_start)


def test_data_dir_with_real_mnist_test_set(mnist_dir, capsys):
    code = main(["--data-dir", str(mnist_dir), "--epochs", "2"])

    out = capsys.readouterr().out
    assert code == 0
    assert f"dataset: IDX files in {mnist_dir}" in out
    assert "Only a test set is available (n_train=0)" in out
    assert "train: 7200 x 784, validation: 800 x 784, test: 2000 x 784" in out
    assert result(out, "test accuracy") > 0.8


def test_data_dir_uses_the_conventional_split(tiny_mnist_dir, capsys):
    code = main(["--data-dir", str(tiny_mnist_dir), *TINY])

    out = capsys.readouterr().out
    assert code == 0
    assert "300 training images, then 100 test images" in out
    assert "train: 270 x 784, validation: 30 x 784, test: 100 x 784 (float32)" in out
    assert "Only a" not in out


def test_test_set_only_folder_is_split_80_20(tmp_path, capsys):
    rng = np.random.default_rng(1)
    write_idx(
        tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (200, 28, 28))
    )
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(200) % 10)

    code = main(["--data-dir", str(tmp_path), *TINY])

    out = capsys.readouterr().out
    assert code == 0
    assert "Only a test set is available (n_train=0), so it is split." in out
    assert "stratified 80%/20% train/test split of its 200 images (seed 0)" in out
    assert "train: 144 x 784, validation: 16 x 784, test: 40 x 784" in out


def test_reports_every_epoch_as_plain_lines(tiny_mnist_dir, capsys):
    code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--epochs", "3"])

    out = capsys.readouterr().out
    assert code == 0
    epoch_lines = re.findall(
        r"^epoch (\d)/3  loss (\d+\.\d+)  validation accuracy (\d\.\d+)  "
        r"(\d+\.\d+) s$",
        out,
        re.MULTILINE,
    )
    assert [line[0] for line in epoch_lines] == ["1", "2", "3"]
    assert "\r" not in out
    assert "[#" not in out


class _Terminal(io.StringIO):
    """A captured stdout that claims to be an interactive terminal."""

    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(tiny_mnist_dir, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)

    code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--epochs", "3"])

    out = terminal.getvalue()
    assert code == 0
    assert "[" + "." * 30 + "] 0/3 epochs" in out
    assert "] 1/3 epochs, about" in out
    assert "] 2/3 epochs, about" in out
    assert "3/3 epochs" not in out
    # each epoch line first clears the bar drawn before it
    assert out.count("\r\x1b[Kepoch ") == 3
    assert re.search(r"^test accuracy: ", out, re.MULTILINE)


def test_compare_sklearn_prints_both_and_the_speed_up(tiny_mnist_dir, capsys):
    code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--compare-sklearn"])

    out = capsys.readouterr().out
    assert code == 0
    assert "training csoftmax.MLPClassifier(hidden_layer_sizes=(8,)" in out
    assert (
        "training sklearn.neural_network.MLPClassifier(hidden_layer_sizes=(8,)" in out
    )
    assert len(re.findall(r"^epoch 2/2 ", out, re.MULTILINE)) == 2
    assert result(out, "fit time") >= 0
    assert result(out, "scikit-learn fit time") >= 0
    assert 0 <= result(out, "test accuracy") <= 1
    assert 0 <= result(out, "scikit-learn test accuracy") <= 1
    assert result(out, "scikit-learn samples/s") > 0
    assert re.search(
        r"^speed-up: \d+\.\d\dx \(scikit-learn fit time / csoftmax fit time\)$",
        out,
        re.MULTILINE,
    )


def test_float64_and_threads_reach_the_estimator(tiny_mnist_dir, capsys):
    args = ["--data-dir", str(tiny_mnist_dir), *TINY, "--dtype", "float64"]
    code = main([*args, "--n-threads", "1"])

    out = capsys.readouterr().out
    assert code == 0
    assert "test: 100 x 784 (float64)" in out
    assert "dtype=np.float64, n_threads=1)" in out


def test_no_convergence_warning_per_epoch(tiny_mnist_dir, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--compare-sklearn"])

    assert code == 0


def test_batch_size_larger_than_the_data_warns_once(tiny_mnist_dir, capsys):
    # 300 training images, 270 of them for fitting after the validation split
    args = ["--data-dir", str(tiny_mnist_dir), "--epochs", "3", "--hidden", "8"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main([*args, "--batch-size", "1000", "--compare-sklearn"])

    out, err = capsys.readouterr()
    assert code == 0
    assert [str(w.message) for w in caught if "batch_size" in str(w.message)] == []
    assert err.count("warning: ") == 1
    assert (
        "warning: --batch-size 1000 is larger than the 270 training images, so "
        "every epoch is one batch of 270" in err
    )
    assert out.count("batch_size=270,") == 2  # csoftmax's and scikit-learn's
    # the same training as asking for the whole set, without a warning
    assert main([*args, "--batch-size", "270"]) == 0
    whole_set_out, whole_set_err = capsys.readouterr()
    assert whole_set_err == ""
    losses = re.findall(r"loss (\S+)", out)
    assert len(losses) == 6 and losses[:3] == re.findall(r"loss (\S+)", whole_set_out)


def test_same_seed_same_results(tiny_mnist_dir, capsys):
    def run(seed):
        assert main(["--data-dir", str(tiny_mnist_dir), *TINY, "--seed", seed]) == 0
        out = capsys.readouterr().out
        losses = re.findall(r"loss (\S+)  validation accuracy (\S+)", out)
        return losses, result(out, "test accuracy")

    first = run("3")
    assert run("3") == first
    assert run("4") != first


def test_plot_writes_a_png(tiny_mnist_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curves.png"

    code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--plot", str(plot)])

    out = capsys.readouterr().out
    assert code == 0
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"plot saved to {plot}" in out


@pytest.mark.parametrize("name", ["curves", "curves."])
def test_plot_reports_the_extension_matplotlib_adds(name, tiny_mnist_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    folder = tmp_path / "plots"
    folder.mkdir()
    plot = folder / name

    code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--plot", str(plot)])

    out = capsys.readouterr().out
    written = folder / "curves.png"
    assert code == 0
    assert [p.name for p in folder.iterdir()] == [written.name]
    assert written.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"plot saved to {written}\n" in out


def test_plot_in_another_format(tiny_mnist_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curves.SVG"

    code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--plot", str(plot)])

    assert code == 0
    assert b"<svg" in plot.read_bytes()
    assert f"plot saved to {plot}\n" in capsys.readouterr().out


def test_plot_unsupported_extension_fails_before_training(tiny_mnist_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curves.xyz"

    with pytest.raises(SystemExit) as excinfo:
        main(["--data-dir", str(tiny_mnist_dir), *TINY, "--plot", str(plot)])

    out, err = capsys.readouterr()
    assert excinfo.value.code == 2
    assert f"argument --plot: matplotlib cannot write the format 'xyz' of {plot}" in err
    assert "png" in err  # the supported formats are listed
    assert out == ""  # nothing was loaded or trained
    assert not plot.exists()


def test_plot_without_matplotlib_fails_before_training(
    tiny_mnist_dir, tmp_path, capsys, monkeypatch
):
    # A None entry in sys.modules makes "import matplotlib..." fail.
    for module in ("matplotlib", "matplotlib.backend_bases", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, module, None)
    plot = tmp_path / "curves.png"

    with pytest.raises(SystemExit) as excinfo:
        main(["--data-dir", str(tiny_mnist_dir), *TINY, "--plot", str(plot)])

    out, err = capsys.readouterr()
    assert excinfo.value.code == 2
    assert "argument --plot: needs matplotlib, which is not installed" in err
    assert out == ""
    assert not plot.exists()


def test_bad_data_dir_is_an_error(tmp_path, capsys):
    code = main(["--data-dir", str(tmp_path), *TINY])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(
        f"error: cannot load MNIST: --data-dir {tmp_path} must name a folder "
        "holding the MNIST IDX files t10k-images-idx3-ubyte[.gz]"
    )
    assert "but it lacks t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte" in err
    assert "path=" not in err
    assert "subfolder" not in err


def test_data_dir_holding_an_mnist_subfolder_suggests_it(tiny_mnist_dir, tmp_path, capsys):
    # tiny_mnist_dir is tmp_path: move its files to tmp_path/data/mnist
    parent = tmp_path / "data"
    (parent / "mnist").mkdir(parents=True)
    (parent / "notes").mkdir()
    for file in tiny_mnist_dir.glob("*-ubyte.gz"):
        file.rename(parent / "mnist" / file.name)

    code = main(["--data-dir", str(parent), *TINY])

    err = capsys.readouterr().err
    assert code == 1
    assert f"error: cannot load MNIST: --data-dir {parent} must name a folder" in err
    assert (
        f"Its subfolder 'mnist' holds them: use --data-dir {parent / 'mnist'}." in err
    )
    # and the suggestion works
    assert main(["--data-dir", str(parent / "mnist"), *TINY]) == 0


def test_one_epoch_is_singular(tiny_mnist_dir, capsys):
    code = main(["--data-dir", str(tiny_mnist_dir), *TINY, "--epochs", "1"])

    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^training csoftmax\.MLPClassifier\(.*\) for 1 epoch$", out, re.MULTILINE)
    assert "1 epochs" not in out


@pytest.mark.parametrize("problem", ["missing", "empty"])
def test_bad_environment_folder_is_an_error(problem, offline, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "nowhere" if problem == "missing" else tmp_path
    monkeypatch.setenv("CSOFTMAX_MNIST_DIR", str(folder))

    code = main(TINY)

    out, err = capsys.readouterr()
    assert code == 1
    assert f"error: cannot load MNIST: CSOFTMAX_MNIST_DIR={str(folder)!r} must name" in err
    expected = "it is not a folder" if problem == "missing" else "it lacks t10k-images"
    assert expected in err
    assert "load_digits" not in out


def test_empty_environment_variable_counts_as_unset(offline, monkeypatch, capsys):
    monkeypatch.setenv("CSOFTMAX_MNIST_DIR", "")

    code = main(["--epochs", "1", "--hidden", "8"])

    assert code == 0
    assert "warning: MNIST is unavailable, so this run trains on load_digits" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "args, option",
    [
        (["--epochs", "0"], "--epochs"),
        (["--batch-size", "-5"], "--batch-size"),
        (["--hidden", "64,x"], "--hidden"),
        (["--hidden", "64,0"], "--hidden"),
        (["--learning-rate", "0"], "--learning-rate"),
        (["--n-threads", "0"], "--n-threads"),
        (["--dtype", "float16"], "--dtype"),
        (["--plot", "/no/such/folder/curves.png"], "--plot"),
    ],
)
def test_invalid_options_exit_with_usage_error(args, option, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(args)

    assert excinfo.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    # Run from the folder holding the imported package, so that "-m" finds it.
    completed = subprocess.run(
        [sys.executable, "-m", "csoftmax", "--help"],
        cwd=Path(csoftmax.__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: python -m csoftmax [-h]")
    assert "--compare-sklearn" in completed.stdout
    assert "--data-dir DIR" in completed.stdout


def test_console_script_names_itself_csoftmax(monkeypatch, capsys):
    # What the installed ``csoftmax`` script runs: the [project.scripts]
    # entry point, called without arguments.
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    pyproject = tomllib.loads(checkout_file("pyproject.toml").read_text())
    module, function = pyproject["project"]["scripts"]["csoftmax"].split(":")
    entry_point = getattr(importlib.import_module(module), function)
    monkeypatch.setattr(sys, "argv", ["/venv/bin/csoftmax", "--help"])

    with pytest.raises(SystemExit) as excinfo:
        entry_point()

    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: csoftmax [-h]")
    assert "python -m" not in out
