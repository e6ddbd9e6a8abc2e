"""Launch an ipykernel as ``ipykernel_launcher`` does, with two probes for a kernel that stops answering.

Used by the real-kernel tests (``tests/test_kernel_regimes.py``) as the kernel's argv:
``python tests/kernel_launch.py -f CONNECTION_FILE``.

- SIGUSR1: every thread's stack on stderr (faulthandler, works even if the main thread is stuck).
- SIGUSR2: on the main thread, the state of the path a shell message takes to it (ipykernel >= 7):
  the shell-channel thread's and the main shell's asyncio locks, the tasks on each loop, and
  whether a message waits in the inproc socket between them. Read only; prints to stderr.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
from pathlib import Path


def _shell_path_state(signum: int, frame: object) -> None:
    import asyncio

    import zmq
    from ipykernel.kernelapp import IPKernelApp

    out = sys.__stderr__
    kernel = IPKernelApp.instance().kernel
    print("== shell path state (SIGUSR2) ==", file=out)
    try:
        print(f"main shell lock: {kernel._main_asyncio_lock!r}", file=out)
        for task in asyncio.all_tasks(asyncio.get_running_loop()):
            print(f"main loop task: {task!r}", file=out)
        channel = getattr(kernel, "shell_channel_thread", None)
        if channel is not None:
            print(f"shell-channel lock: {channel.asyncio_lock!r}", file=out)
            print(f"shell stream callback: {kernel.shell_stream._recv_callback!r}", file=out)
            for task in asyncio.all_tasks(channel.io_loop.asyncio_loop):
                print(f"shell-channel loop task: {task!r}", file=out)
            pair = channel.manager._shell_channel_to_main
            stream = pair.to_stream
            print(
                f"to-main stream: flushed={stream._flushed} state={stream._state} callback={stream._recv_callback!r}",
                file=out,
            )
            pending = pair.to_socket.getsockopt(zmq.EVENTS) & zmq.POLLIN  # the main thread's own socket
            print(f"to-main socket has a message waiting: {bool(pending)}", file=out)
    except Exception as error:  # a probe never takes the kernel down
        print(f"probe failed: {type(error).__name__}: {error}", file=out)
    out.flush()


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # this folder: the kernel's imports should not see the test modules
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    signal.signal(signal.SIGUSR2, _shell_path_state)
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()
