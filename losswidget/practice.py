"""A practice class: simulated students, each a process of its own, sending to a class folder.

For a teacher trying the class lab before the students arrive, and for CI (notebooks/17): each
student trains the lab's network (notebooks/16) on the digits with one weight decay of the list and
a seed of its own, and sends its run to the folder with :class:`~losswidget.ClassFolder`, as a
student's notebook does. A separate process per student, so the teacher's view follows files that
grow while it reads them, as in class.

>>> students = start("class_runs", students=8)    # doctest: +SKIP
>>> room = lw.classroom("class_runs", group_by="weight_decay")   # doctest: +SKIP

In a terminal: ``python -m losswidget.practice class_runs --students 8``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

from losswidget.core.validate import check_float, check_int, check_path

__all__ = [
    "SHARED_LOGINS",
    "WEIGHT_DECAYS",
    "curve_student",
    "seed_for",
    "setting_for",
    "start",
    "student_name",
    "train_student",
]

WEIGHT_DECAYS = (0.0, 0.1, 0.5)  # the lab's list: none, some, a lot (AdamW's decoupled weight decay)


def setting_for(student: str, options: Sequence = WEIGHT_DECAYS):
    """The option of ``options`` a student's name picks: the same name always gets the same one,
    and a class's names spread over all of them."""
    if not isinstance(student, str) or not student:
        raise TypeError(f"'student' must be a non-empty str: {student!r:.80}")
    if not options:
        raise ValueError("'options' must hold at least one setting")
    return options[zlib.crc32(student.encode("utf-8")) % len(options)]


def seed_for(student: str) -> int:
    """A student's seed from the name: the same name always gets the same one, and two names share one
    only when their CRC-32s do (about one class in ten million of 30 students; ``crc32 % 1000`` would
    give two of 30 students one seed in a third of classes)."""
    if not isinstance(student, str) or not student:
        raise TypeError(f"'student' must be a non-empty str: {student!r:.80}")
    return zlib.crc32(student.encode("utf-8"))


# Logins that are not a person: every student of a Docker image, Binder or a JupyterHub with one image
# has the same one, and so would get the same seed, setting and file.
SHARED_LOGINS = frozenset({"root", "jovyan", "ubuntu", "user", "student", "colab", "nobody"})


def student_name(environ=None, ask=input) -> str:
    """The name a student's run is sent under: ``LOSSWIDGET_STUDENT``, else the login unless it is a shared
    one (:data:`SHARED_LOGINS`), else asked (``ask``: :func:`input`). Never a fixed name: where nobody
    can answer (a notebook run unattended) or the answer is empty, a ``RuntimeError`` says what to set."""
    import getpass

    environ = os.environ if environ is None else environ
    name = environ.get("LOSSWIDGET_STUDENT", "").strip()
    if name:
        return name
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name at all (a container's numeric user)
        login = ""
    if login and login.lower() not in SHARED_LOGINS:
        return login
    remedy = "set LOSSWIDGET_STUDENT to your name (os.environ['LOSSWIDGET_STUDENT'] = 'ada') and run this cell again"
    try:
        name = str(ask("Your name, as the class will see it: ")).strip()
    except Exception as error:  # no stdin: an unattended run (nbclient's StdinNotImplementedError, EOFError)
        raise RuntimeError(
            f"losswidget: the login {login!r} is shared, not a name, and no one can type one: {remedy}"
        ) from error
    if not name:
        raise RuntimeError(f"no name given (the login {login!r} is shared): {remedy}")
    return name


def train_student(folder, student: str, weight_decay: float, seed: int, epochs: int = 30, pause: float = 0.0):
    """One student's run of the lab, sent to ``folder``; returns its history."""
    import time

    import torch
    from torch.utils.data import DataLoader

    import losswidget as lw
    from losswidget.datasets import digits

    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
    epochs = check_int("epochs", epochs, minimum=1)
    torch.set_num_threads(1)
    data = digits(n_train=300, n_val=400, label_noise=0.2)  # the same images for every student
    torch.manual_seed(seed)  # the student's own: initial weights and batch order
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=weight_decay)
    send = lw.ClassFolder(folder, student=student, settings={"weight_decay": weight_decay, "seed": seed})
    monitor = lw.LiveLossMonitor(patience=None, display="none", outputs=[send], name=student)
    loader = DataLoader(data["train"], batch_size=50, shuffle=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _epoch in monitor.epochs(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            monitor.log_step(train=loss)
        monitor.log(val=lw.evaluate(model, [data["val"].tensors], loss_fn, per_example=True))
        if pause:
            time.sleep(pause)  # slow enough for a class to watch the curves arrive
    return monitor.history


def curve_student(folder, student: str, weight_decay: float, seed: int, epochs: int = 30, pause: float = 0.1):
    """A student without torch: a monitor sending a made-up curve (falling, then rising less with more
    weight decay, plus the seed's wobble) - for rehearsing a class of hundreds on one machine."""
    import time

    import numpy as np

    import losswidget as lw

    rng = np.random.default_rng(seed)
    rise = 0.006 / (1 + 10 * check_float("weight_decay", weight_decay, minimum=0.0))
    send = lw.ClassFolder(folder, student=student, settings={"weight_decay": weight_decay, "seed": seed})
    monitor = lw.LiveLossMonitor(patience=None, display="none", outputs=[send], name=student)
    offset = rng.normal(0, 0.02)  # this run's own level: the run-to-run spread
    for epoch in monitor.epochs(check_int("epochs", epochs, minimum=1)):
        val = 0.5 + offset + 1.5 / (epoch + 1) + rise * epoch + rng.normal(0, 0.01)
        monitor.log(train=1.6 / (epoch + 1) + 0.3 * np.exp(-epoch / 10), val=val)
        if pause:
            time.sleep(pause)
    return monitor.history


def start(
    folder,
    students: int = 8,
    weight_decays: Sequence[float] = WEIGHT_DECAYS,
    epochs: int = 30,
    pause: float = 0.1,
    curves_only: bool = False,
) -> list[subprocess.Popen]:
    """Start ``students`` simulated students (``student 1`` ...), each a process, the weight decays
    given out in turn and seed = the student's number; returns the processes (``p.wait()``).
    ``curves_only``: students that send made-up curves without torch (:func:`curve_student`)."""
    folder = check_path("folder", folder)
    students = check_int("students", students, minimum=1)
    epochs = check_int("epochs", epochs, minimum=1)
    pause = check_float("pause", pause, minimum=0.0)
    if not weight_decays:
        raise ValueError("'weight_decays' must hold at least one value")
    Path(folder).mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")])))
    processes = []
    for number in range(1, students + 1):
        decay = weight_decays[(number - 1) % len(weight_decays)]
        command = [sys.executable, "-m", "losswidget.practice", str(folder), "--one", f"student {number}"]
        command += ["--weight-decay", repr(float(decay)), "--seed", str(number), "--epochs", str(epochs)]
        command += ["--pause", repr(pause)] + (["--curves-only"] if curves_only else [])
        processes.append(subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL))
    return processes


def _root() -> str:
    """The folder holding this copy of the package: the students run the teacher's losswidget."""
    return str(Path(__file__).resolve().parents[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m losswidget.practice", description=__doc__)
    parser.add_argument("folder", help="the class folder the students send to")
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--pause", type=float, default=0.1, help="seconds each student waits after an epoch")
    parser.add_argument("--one", metavar="NAME", help="train one student (what each process runs)")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--curves-only", action="store_true", help="made-up curves, no torch: a class of hundreds")
    args = parser.parse_args(argv)
    if args.one is not None:
        student = curve_student if args.curves_only else train_student
        student(args.folder, args.one, args.weight_decay, args.seed, args.epochs, args.pause)
        return 0
    processes = start(args.folder, args.students, epochs=args.epochs, pause=args.pause, curves_only=args.curves_only)
    return max(process.wait() for process in processes)


if __name__ == "__main__":
    raise SystemExit(main())
