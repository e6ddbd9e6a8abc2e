"""How clicks reach a kernel whose main thread is busy running a training loop.

The only package that touches kernel internals (``probe``: which kernel and cell; ``subshell``:
our own kernel subshell; ``channel``: how our controls' messages get through); everything here
is feature-detected and fails soft (an unknown kernel gets the "interrupt" regime, never a crash).

Regimes, best first:

``"subshell"``
    ipykernel >= 7, whatever the frontend. Every ipykernel 7 kernel has a shell-channel
    thread that reads the shell socket and hands each message to the main shell or to a
    subshell (JEP 91). losswidget creates one subshell of its own per kernel and has the
    shell-channel thread send our control widgets' messages there, so their handlers run
    on that subshell's thread while the main shell runs the cell. It does not matter
    whether the frontend uses subshells (JupyterLab >= 4.4) or sends everything on the
    main shell (VS Code, Voilà, Notebook 7, JupyterLab with ``commsOverSubshells`` off).
    ipykernel >= 7.4 asks each comm where its messages go (``_reply_subshell_for``);
    7.0-7.3 have no such hook, so there we put a router in front of the shell-channel
    thread's handler that redirects our comms' messages and passes on everything else.
``"pump"``
    ipykernel 6 (Google Colab): between steps we move pending shell messages off the
    socket, handle those addressed to our control widgets and put every other message
    back in the queue, in order.
``"thread"``
    the training loop runs in a background thread; the main shell is free.
``"interrupt"``
    clicks arrive only when the cell ends; the kernel interrupt (■) stops gracefully.
``"terminal"``
    no Jupyter kernel: Ctrl-C stops gracefully.
"""

from __future__ import annotations

from losswidget.kernel.channel import REGIME_TEXT, ControlChannel
from losswidget.kernel.probe import after_cell, current_kernel, enable_colab_widgets, in_colab

__all__ = ["REGIME_TEXT", "ControlChannel", "after_cell", "current_kernel", "enable_colab_widgets", "in_colab"]
