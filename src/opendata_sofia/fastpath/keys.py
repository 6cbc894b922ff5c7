"""Find repeated keys across batches with memory bounded by the number of distinct keys.

The index keeps, for every distinct 64-bit key seen so far, the last row that had it, in
sorted runs of numpy arrays (16 bytes per distinct key, up to three times that during a
merge). Runs of similar size are merged, so a lookup searches O(log n) runs.
"""

from __future__ import annotations

import numpy as np

# Mixing constants of splitmix64, which spreads the bits of each field's key before combining.
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)


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
        self._add(sorted_keys[last], sorted_rows[last].astype(np.int64))
        return previous

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        found = np.full(len(keys), -1, dtype=np.int64)
        for run_keys, run_rows in reversed(self.runs):
            positions = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hit = (run_keys[positions] == keys) & (found < 0)
            found[hit] = run_rows[positions[hit]]
        return found

    def _add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self.runs.append((keys, rows))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            newer_keys, newer_rows = self.runs.pop()
            older_keys, older_rows = self.runs.pop()
            merged_keys = np.concatenate((older_keys, newer_keys))
            merged_rows = np.concatenate((older_rows, newer_rows))
            order = np.argsort(merged_keys, kind="stable")
            merged_keys, merged_rows = merged_keys[order], merged_rows[order]
            # The stable sort puts the newer row of a repeated key last: keep that one.
            last = np.concatenate((merged_keys[1:] != merged_keys[:-1], [True]))
            self.runs.append((merged_keys[last], merged_rows[last]))


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
