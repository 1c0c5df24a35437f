"""How the archive's per-vessel stage cuts vessels into tasks (pure parts, no cluster): runs of
hashed MMSIs bounded by a fix count, and the hash the same in every process. Also the compact
event position ids. Oracles: hand-counted cases, a numpy searchsorted + pandas group-by of
random counts, and a second interpreter with another hash seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.events import position_ids
from tracker.jobs.archive_detect import mmsi_hash, vessel_divisions


def _assign(keys: np.ndarray, divisions: list[int]) -> np.ndarray:
    """Partition of each key under range ``divisions`` (last bound inclusive), as dask's
    ``set_index(divisions=...)`` defines them."""
    part = np.searchsorted(np.asarray(divisions), keys, side="right") - 1
    return np.minimum(part, len(divisions) - 2)


def test_divisions_by_hand():
    # vessels 1, 3, 5 hold 10 fixes each, 9 holds 100; at most 20 a run:
    # [1, 3] (20), [5] (10 + 100 > 20), [9] alone (more than the limit on its own)
    counts = pd.Series({5: 10, 1: 10, 3: 10, 9: 100})
    assert vessel_divisions(counts, 20) == [1, 5, 9, 9]  # last run [9, 9]: 9 alone
    assert vessel_divisions(counts, 1000) == [1, 9]  # one run: [1, 9] inclusive
    assert vessel_divisions(pd.Series({7: 3}), 20) == [7, 7]
    assert vessel_divisions(pd.Series(dtype="int64"), 20) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_divisions_bound_every_run_and_keep_vessels_whole(seed):
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, 2**62, 3000))
    counts = pd.Series(rng.integers(1, 4000, len(keys)), index=keys)
    counts.iloc[::500] = 50_000  # a few vessels larger than a run
    limit = 20_000
    divisions = vessel_divisions(counts, limit)
    # increasing, as dask requires (the last bound, inclusive, may equal the one before)
    assert divisions[:-1] == sorted(set(divisions[:-1])) and divisions[-1] >= divisions[-2]
    part = _assign(counts.index.to_numpy(), divisions)
    per_run = counts.groupby(part).agg(["sum", "size"])
    assert len(per_run) == len(divisions) - 1  # no empty run
    assert per_run["sum"].sum() == counts.sum()  # every fix in exactly one run
    too_big = per_run[per_run["sum"] > limit]
    assert len(too_big) == (counts > limit).sum() and (too_big["size"] == 1).all()
    # runs are filled: a run and the next together would exceed the limit
    sums = per_run["sum"].to_numpy()
    assert (sums[:-1] + sums[1:] > limit).all()


def test_mmsi_hash_is_the_same_in_another_process():
    mmsis = [999100000, 999100001, 273123456, 1, 0]
    here = mmsi_hash(np.array(mmsis)).tolist()
    assert all(h >= 0 for h in here) and len(set(here)) == len(mmsis)
    code = (
        "import json, numpy as np; from tracker.jobs.archive_detect import mmsi_hash; "
        f"print(json.dumps(mmsi_hash(np.array({mmsis})).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(out.stdout) == here


def test_position_ids_are_compact_and_keep_every_value():
    small = [1, 2, 2**31 - 1]
    big = [5, 2**31, 2**62 + 7]  # archive transmission keys are 64-bit
    assert position_ids(small).dtype == np.int32 and position_ids(small).tolist() == small
    assert position_ids(big).dtype == np.int64 and position_ids(big).tolist() == big
    assert position_ids([-(2**31) - 1]).tolist() == [-(2**31) - 1]
    assert position_ids([]).tolist() == []
