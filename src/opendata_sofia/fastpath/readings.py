"""Frictionless' readings of the distinct texts of one field, kept from batch to batch.

Dates, flags and other low-cardinality columns repeat the same few thousand texts, so each
text is read once by frictionless' cell reader and found again with an Arrow `index_in`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opendata_sofia.fastpath.plan import FieldPlan

# Distinct texts kept per field. A column with more (identifiers read off the fast route)
# starts over, so memory stays near this many entries of a few hundred bytes each.
READINGS_LIMIT = 50_000
NO_NOTES: dict = {}


class Readings:
    """The value and notes frictionless gives each distinct text, with what the outputs need."""

    def __init__(self, plan: FieldPlan, key_of, *, keys: bool, outputs: bool):
        self.plan = plan
        self.key_of = key_of
        self.with_keys = keys
        self.with_outputs = outputs
        self._clear()

    def _clear(self) -> None:
        self.texts: list[str] = []
        self.values: list[Any] = []
        self.notes: list[dict] = []
        self.keys: list[int | None] = []
        self.arrow_values: list[Any] = []
        self.csv: list[str] = []
        self.json: list[str] = []
        self._arrays: dict[str, Any] = {}

    def positions(self, raw: pa.Array, mask: np.ndarray) -> np.ndarray:
        """Return the entry of each cell in `mask` (-1 elsewhere), reading new texts first."""
        index = np.full(len(raw), -1, dtype=np.int64)
        if not mask.any():
            return index

        found = self._find(raw)
        unknown = mask & (found < 0)
        if unknown.any():
            new = pc.unique(raw.filter(pa.array(unknown))).to_pylist()
            if len(self.texts) + len(new) > READINGS_LIMIT:
                self._clear()
            self._add(new)
            found = self._find(raw)
        index[mask] = found[mask]
        return index

    def _find(self, raw: pa.Array) -> np.ndarray:
        if not self.texts:
            return np.full(len(raw), -1, dtype=np.int64)
        if "texts" not in self._arrays:
            self._arrays["texts"] = pa.array(self.texts, pa.string())
        return pc.index_in(raw, value_set=self._arrays["texts"]).fill_null(-1).to_numpy(zero_copy_only=False)

    def _add(self, texts: list[str]) -> None:
        plan = self.plan
        for text in texts:
            value, notes = plan.cell_reader(text)
            self.texts.append(text)
            self.values.append(value)
            self.notes.append(notes or NO_NOTES)
            if self.with_keys:
                self.keys.append(self.key_of(plan.type, value))
            if self.with_outputs:
                self.arrow_values.append(None if value is None else plan.arrow_value(value))
                self.csv.append("" if value is None else plan.csv_encoder(value))
                self.json.append("null" if value is None else plan.json_encoder(value))
        self._arrays = {}

    def flags(self, name: str) -> np.ndarray:
        """Return per entry whether frictionless noted `name` ("type" or a constraint)."""
        key = f"flag:{name}"
        if key not in self._arrays:
            self._arrays[key] = np.array([name in notes for notes in self.notes], dtype=bool)
        return self._arrays[key]

    def key_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the key of each entry and whether it has one."""
        if "keys" not in self._arrays:
            keys = np.array([0 if key is None else key for key in self.keys], dtype=np.uint64)
            self._arrays["keys"] = (keys, np.array([key is not None for key in self.keys], dtype=bool))
        return self._arrays["keys"]

    def output_arrays(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Return the Parquet value, CSV text and JSON text of each entry."""
        if "outputs" not in self._arrays:
            self._arrays["outputs"] = (
                pa.array(self.arrow_values, type=self.plan.arrow_type),
                pa.array(self.csv, pa.string()),
                pa.array(self.json, pa.string()),
            )
        return self._arrays["outputs"]
