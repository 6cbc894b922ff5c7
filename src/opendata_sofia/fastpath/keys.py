"""Find repeated keys across batches with memory bounded by the number of distinct keys.

The index keeps, for every distinct 64-bit key seen so far, the last row that had it, in
sorted runs of numpy arrays: 12 bytes per distinct key (uint64 key, uint32 row). Runs of
similar size are merged up to MAX_RUN_KEYS, so a lookup searches a few runs and a merge
needs at most about 3 × 12 bytes × MAX_RUN_KEYS of temporary memory.
"""

from __future__ import annotations

import numpy as np

# Mixing constants of splitmix64, which spreads the bits of each field's key before combining.
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)
# Runs stop growing at this many keys: about 24 MB each, a few runs for millions of rows.
MAX_RUN_KEYS = 2_000_000


class KeyIndex:
    """The last row of each key seen so far."""

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    def previous_rows(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Return, per key, the last earlier row with the same key (-1 for none), then remember the keys.

        `rows` must be increasing and above every row given before, as frictionless remembers
        the latest row of a value and names it in the error note.
        """
        previous = np.full(len(keys), -1, dtype=np.int64)
        if not len(keys):
            return previous

        # Earlier rows of the same batch
        order = np.argsort(keys, kind="stable")
        sorted_keys, sorted_rows = keys[order], rows[order]
        same = sorted_keys[1:] == sorted_keys[:-1]
        previous_sorted = np.full(len(keys), -1, dtype=np.int64)
        previous_sorted[1:][same] = sorted_rows[:-1][same]

        # Earlier batches, newest run first
        first = np.concatenate(([True], ~same))
        previous_sorted[first] = self._lookup(sorted_keys[first])
        previous[order] = previous_sorted

        last = np.concatenate((~same, [True]))
        self._add(sorted_keys[last], sorted_rows[last])
        return previous

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        found = np.full(len(keys), -1, dtype=np.int64)
        for run_keys, run_rows in reversed(self.runs):
            positions = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hit = (run_keys[positions] == keys) & (found < 0)
            found[hit] = run_rows[positions[hit]]
        return found

    def _add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self.runs.append((keys, rows.astype(np.uint32)))
        while len(self.runs) > 1:
            older, newer = self.runs[-2], self.runs[-1]
            if len(older[0]) > 2 * len(newer[0]) or len(older[0]) + len(newer[0]) > MAX_RUN_KEYS:
                break
            self.runs[-2:] = [_merge(older, newer)]


def _merge(older: tuple[np.ndarray, np.ndarray], newer: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted runs; a key in both keeps the newer (later) row."""
    older_keys, older_rows = older
    newer_keys, newer_rows = newer
    positions = np.minimum(np.searchsorted(newer_keys, older_keys), len(newer_keys) - 1)
    unrepeated = newer_keys[positions] != older_keys
    older_keys, older_rows = older_keys[unrepeated], older_rows[unrepeated]

    insert_at = np.searchsorted(older_keys, newer_keys)
    return np.insert(older_keys, insert_at, newer_keys), np.insert(older_rows, insert_at, newer_rows)


def combine(keys: list[np.ndarray]) -> np.ndarray:
    """Combine the keys of several fields into one 64-bit hash per row."""
    combined = np.zeros(len(keys[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for key in keys:
            mixed = combined ^ key
            mixed = (mixed ^ (mixed >> np.uint64(30))) * MIX_1
            mixed = (mixed ^ (mixed >> np.uint64(27))) * MIX_2
            combined = mixed ^ (mixed >> np.uint64(31))
    return combined
