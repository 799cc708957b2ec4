"""The ``--plot`` option of ``python -m csoftmax``: the training curves, saved with matplotlib.

matplotlib is imported only when a plot is asked for.
"""

import os
import sys

import numpy as np


def _plot_file(path):
    """Return the file and format that ``Figure.savefig(path)`` writes.

    As matplotlib does, a name without an extension gets the default format
    (``savefig.format``, normally png) appended. Raises ImportError when
    matplotlib is missing and ValueError for a format it cannot write.
    """
    import matplotlib
    from matplotlib.backend_bases import FigureCanvasBase

    name = os.fspath(path)
    file_format = os.path.splitext(name)[1][1:].lower()
    if not file_format:
        file_format = matplotlib.rcParams["savefig.format"]
        name = name.rstrip(".") + "." + file_format
    supported = FigureCanvasBase.get_supported_filetypes()
    if file_format not in supported:
        raise ValueError(
            f"matplotlib cannot write the format {file_format!r} of {path} "
            f"(supported: {', '.join(sorted(supported))})"
        )
    return name, file_format


def _save_plot(path, file_format, runs, title):
    """Save the loss and validation-accuracy curves of ``runs`` to ``path``.

    ``path`` and ``file_format`` come from :func:`_plot_file`, so the file
    written is ``path`` itself. Returns the exit code: 0 when saved, 1 when
    the file cannot be written.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(10, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for run in runs:
        epochs = np.arange(1, len(run.loss_curve) + 1)
        loss_axes.plot(epochs, run.loss_curve, marker="o", label=run.name)
        accuracy_axes.plot(epochs, run.validation_scores, marker="o", label=run.name)
    loss_axes.set(title="training loss", xlabel="epoch", ylabel="loss")
    accuracy_axes.set(title="validation accuracy", xlabel="epoch", ylabel="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend()
        axes.grid(True, alpha=0.3)
    figure.suptitle(title, fontsize="small")
    try:
        figure.savefig(path, format=file_format)
    except (OSError, ValueError) as exc:
        print(f"error: could not save --plot {path}: {exc}", file=sys.stderr)
        return 1
    print(f"plot saved to {path}")
    return 0
