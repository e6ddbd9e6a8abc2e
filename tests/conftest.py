"""Fixtures shared by the test files."""

import pytest


@pytest.fixture
def quiet_comms(monkeypatch):
    """Widgets built without a frontend: their comms send nothing (a handler's effects are read back
    from the Python side)."""
    comm = pytest.importorskip("comm")
    from comm.base_comm import BaseComm

    class QuietComm(BaseComm):
        def publish_msg(self, *args, **kwargs):
            pass

    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: QuietComm(*args, **kwargs))
