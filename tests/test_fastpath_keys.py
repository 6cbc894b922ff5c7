"""The key index of the fast path against a plain dict of last rows."""

from __future__ import annotations

import random

import numpy as np
import pytest

from opendata_sofia.fastpath import keys
from opendata_sofia.fastpath.keys import KeyIndex, combine


def dict_previous_rows(batches):
    """Return, per key, the last earlier row with it, as frictionless' dict of values does."""
    last, found = {}, []
    for batch_keys, batch_rows in batches:
        for key, row in zip(batch_keys.tolist(), batch_rows.tolist()):
            found.append(last.get(key, -1))
            last[key] = row
    return found


@pytest.mark.parametrize("max_run_keys", [5, 64, 2_000_000])
def test_key_index_matches_dict(max_run_keys, monkeypatch):
    monkeypatch.setattr(keys, "MAX_RUN_KEYS", max_run_keys)
    rng = random.Random(7)
    batches, row = [], 2
    for _ in range(60):
        size = rng.randrange(0, 40)
        batch_keys = np.array([rng.randrange(150) for _ in range(size)], dtype=np.uint64)
        batches.append((batch_keys, np.arange(row, row + size, dtype=np.int64)))
        row += size

    index = KeyIndex()
    found = [int(previous) for batch_keys, batch_rows in batches for previous in index.previous_rows(batch_keys, batch_rows)]

    assert found == dict_previous_rows(batches)
    assert max(len(run_keys) for run_keys, _ in index.runs) <= max(max_run_keys, 40)


def test_combine_depends_on_order():
    first = np.array([1, 2], dtype=np.uint64)
    second = np.array([2, 1], dtype=np.uint64)

    assert combine([first, second])[0] != combine([second, first])[0]
    assert combine([first, second])[0] != combine([first, second])[1]
