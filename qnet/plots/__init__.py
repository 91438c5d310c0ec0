"""Figures of a run, in the look of the information-bottleneck literature (matplotlib).

Every function takes the records dict of :func:`qnet.experiment.run` (or
:func:`qnet.load_records`); information is in bits. Importing this package leaves matplotlib's
backend as it is (only the ``qnet`` command line picks a non-interactive one), so figures show
in Jupyter.

- :mod:`~qnet.plots.plane`: :func:`information_plane`
- :mod:`~qnet.plots.curves`: :func:`information_vs_epoch`, :func:`accuracy`
- :mod:`~qnet.plots.animation`: :func:`animate_plane` (GIF, MP4 where ffmpeg is), :func:`frame_epochs`
- :mod:`~qnet.plots.captions`: the settings and notes written on the figures
- :mod:`~qnet.plots.run`: :func:`plot_run`, every figure of a run folder
"""

from qnet.plots.animation import FRAMES, animate_plane, frame_epochs, mp4_available
from qnet.plots.captions import caption, saturated, settings
from qnet.plots.curves import accuracy, information_vs_epoch
from qnet.plots.plane import information_plane
from qnet.plots.run import FORMATS, parse_formats, plot_run
from qnet.plots.style import band_label, diverged_note

__all__ = ["FORMATS", "FRAMES", "accuracy", "animate_plane", "band_label", "caption", "diverged_note", "frame_epochs",
           "information_plane", "information_vs_epoch", "mp4_available", "parse_formats", "plot_run", "saturated",
           "settings"]
