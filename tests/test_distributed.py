"""Two real processes with torch.distributed (gloo on 127.0.0.1), as torchrun starts them.

Every rank runs the same loop with the same monitor API; the tests check that all ranks
stop at the same epoch without hanging (each run is bounded by a timeout), that logged
values are the average over the ranks, and that only rank 0 writes the log.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import losswidget as lw

torch = pytest.importorskip("torch")

WORKER = """
import json, math, os, sys, time, torch, torch.distributed as dist, losswidget as lw
from losswidget.files.control import control_path, write_request
dist.init_process_group("gloo")
rank, scenario, out = dist.get_rank(), sys.argv[1], sys.argv[2]
torch.manual_seed(rank)
model = torch.nn.Linear(2, 1)
monitor = lw.LiveLossMonitor(patience=4, model=model, log_file=os.path.join(out, "log.jsonl"), display="none")
weights = {}
for epoch in monitor.epochs(40):
    with torch.no_grad():
        model.weight += 0.1
    weights[epoch] = model.weight.detach().clone()
    for step in range(3):
        monitor.log_step(train=float(rank + step))  # per-step: local, no collective
    val = 0.3 + 0.05 * abs(epoch - 8) + 0.1 * rank  # different on each rank: the monitor averages
    if scenario == "nan" and rank == 1 and epoch == 3:
        val = math.nan
    if scenario == "stop" and rank == 1 and epoch == 5:
        monitor.stop("rank 1 asked")  # one rank's request; all must leave at the same epoch
    if scenario == "request" and rank == 0 and epoch == 5:
        write_request(control_path(os.path.join(out, "log.jsonl")), stop={"reason": "from a watcher"})
        time.sleep(0.1)
    monitor.log(train=1.0 + rank, val=val)
result = {
    "rank": rank, "last": epoch, "code": monitor.stop_code and monitor.stop_code.value,
    "reason": monitor.stopped_reason, "val": monitor.history.val.tolist(), "train": monitor.history.train.tolist(),
    "best": monitor.best_epoch,
    "restored": bool(monitor.best_epoch is not None and torch.equal(model.weight, weights[monitor.best_epoch])),
}
with open(os.path.join(out, f"rank{rank}.json"), "w") as stream:
    json.dump(result, stream)
dist.destroy_process_group()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_ranks(tmp_path: Path, scenario: str, world: int = 2, worker: str = WORKER) -> list[dict]:
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(worker))
    port = free_port()
    processes = []
    for rank in range(world):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        env.pop("CUDA_VISIBLE_DEVICES", None)
        processes.append(
            subprocess.Popen(
                [sys.executable, str(script), scenario, str(tmp_path)], env=env, stderr=subprocess.PIPE, text=True
            )
        )
    try:
        for process in processes:
            _, err = process.communicate(timeout=120)  # a rank left waiting would hang: fail instead
            assert process.returncode == 0, err[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    return [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(world)]


def expected_val(epoch: int, world: int = 2) -> float:
    return sum(0.3 + 0.05 * abs(epoch - 8) + 0.1 * rank for rank in range(world)) / world


def test_values_are_averaged_and_early_stopping_agrees(tmp_path):
    ranks = run_ranks(tmp_path, "plain")
    assert ranks[0]["last"] == ranks[1]["last"] == 12  # minimum at 8, patience 4
    assert ranks[0]["code"] == ranks[1]["code"] == "patience"
    for rank in ranks:
        assert rank["val"] == pytest.approx([expected_val(e) for e in range(13)])
        assert rank["train"] == pytest.approx([1.5] * 13)  # the mean of 1.0 and 2.0
        assert rank["best"] == 8 and rank["restored"]
    log = lw.History.load(tmp_path / "log.jsonl")  # written by rank 0 alone
    assert len(log) == 13 and log.val.tolist() == pytest.approx(ranks[0]["val"])


def test_a_nan_on_one_rank_stops_every_rank_at_that_epoch(tmp_path):
    ranks = run_ranks(tmp_path, "nan")
    assert ranks[0]["last"] == ranks[1]["last"] == 3
    assert ranks[0]["code"] == ranks[1]["code"] == "non-finite"
    assert all(math.isnan(rank["val"][3]) for rank in ranks)
    assert all(rank["best"] == 2 and rank["restored"] for rank in ranks)


def test_a_stop_on_one_rank_is_agreed_at_the_next_epoch(tmp_path):
    ranks = run_ranks(tmp_path, "stop")
    assert ranks[0]["last"] == ranks[1]["last"] == 5
    assert ranks[1]["reason"] == "rank 1 asked" and ranks[0]["reason"] == "another rank asked to stop"
    assert all(rank["code"] == "user" and rank["restored"] for rank in ranks)


def test_a_watchers_request_reaches_every_rank(tmp_path):
    ranks = run_ranks(tmp_path, "request")
    assert ranks[0]["last"] == ranks[1]["last"]
    assert ranks[0]["last"] <= 7 and ranks[0]["reason"] == "from a watcher"


# Each rank validates its own shard (every other example of one validation set of 400), per example,
# with min_delta_se: the whole set's mean, standard error and paired test must be read on every rank.
LOSSES = """
import numpy as np
def full_losses(epoch):
    base = np.random.default_rng(7).gamma(2.0, 0.2, 400)
    truth = [0.3, 0.2, 0.15, 0.14, 0.137, 0.135, 0.134, 0.15, 0.17, 0.2, 0.25, 0.3][min(epoch, 11)]
    return base + truth + np.random.default_rng(100 + epoch).normal(0.0, 0.05, 400)
"""

SHARD_WORKER = """
import json, os, sys, warnings, torch, torch.distributed as dist, losswidget as lw
dist.init_process_group("gloo")
rank, scenario, out = dist.get_rank(), sys.argv[1], sys.argv[2]
monitor = lw.LiveLossMonitor(patience=3, min_delta_se=2.0, display="none")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for epoch in monitor.epochs(30):
        shard = full_losses(epoch)[rank::2]
        if scenario == "shuffled" and rank == 1:  # one rank's loader shuffles: no rank may pair
            shard = np.random.default_rng(epoch).permutation(shard)
        monitor.log(train=1.0, val=torch.tensor(shard))
history = monitor.history
result = {
    "last": epoch, "best": monitor.best_epoch, "val": history.val.tolist(), "val_se": history["val_se"].tolist(),
    "diff_se": [x if x == x else None for x in history["val_diff_se"].tolist()],
    "status": [line for line in str(monitor.explain()).splitlines() if "since the best epoch" in line],
    "unordered": [str(w.message) for w in caught if "hardly correlate" in str(w.message)],
    "wobble": [line for line in str(monitor.explain()).splitlines() if "measured on the curve" in line],
}
with open(os.path.join(out, f"rank{rank}.json"), "w") as stream:
    json.dump(result, stream)
dist.destroy_process_group()
"""


def test_per_example_shards_are_pooled_so_every_rank_decides_as_one_process_on_the_whole_set(tmp_path):
    namespace: dict = {}
    exec(LOSSES, namespace)
    whole = lw.LiveLossMonitor(patience=3, min_delta_se=2.0, display="none")  # one process, all 400 examples
    for epoch in whole.epochs(30):
        whole.log(train=1.0, val=torch.tensor(namespace["full_losses"](epoch)))
    ranks = run_ranks(tmp_path, "shards", worker=LOSSES + SHARD_WORKER)
    expected = whole.history
    for rank in ranks:
        assert rank["last"] == len(expected) - 1 and rank["best"] == whole.best_epoch
        assert rank["val"] == pytest.approx(expected.val.tolist(), rel=1e-12)
        assert rank["val_se"] == pytest.approx(expected["val_se"].tolist(), rel=1e-9)  # not the shards' mean SE
        diff = [x if x == x else None for x in expected["val_diff_se"].tolist()]
        assert rank["diff_se"][1:] == pytest.approx(diff[1:], rel=1e-9) and diff[1] is not None
    status = [line for line in str(whole.explain()).splitlines() if "since the best epoch" in line]
    assert ranks[0]["status"] == status and "the same 400 examples" in status[0]
    # the part of the sampling error inside the wobble: the shards' second differences pooled, as one process reads it
    wobble = [line for line in str(whole.explain()).splitlines() if "measured on the curve" in line]
    assert ranks[0]["wobble"] == ranks[1]["wobble"] == wobble and "that part ≈ " in wobble[0]


def test_one_ranks_shuffled_shard_makes_every_rank_compare_unpaired_and_say_so_once(tmp_path):
    ranks = run_ranks(tmp_path, "shuffled", worker=LOSSES + SHARD_WORKER)
    assert ranks[0]["last"] == ranks[1]["last"] and ranks[0]["best"] == ranks[1]["best"]
    assert ranks[0]["diff_se"] == ranks[1]["diff_se"] and ranks[0]["status"] == ranks[1]["status"]
    for rank in ranks:
        assert len(rank["unordered"]) == 1 and "epoch 0 and epoch 1 hardly correlate" in rank["unordered"][0]
        assert rank["status"] and "unpaired" in rank["status"][0]
        # the unpaired standard error: the two epochs' own errors combined, never the paired one
        best, last = rank["best"], rank["last"]
        assert rank["diff_se"][last] == pytest.approx(math.hypot(rank["val_se"][best], rank["val_se"][last]))
