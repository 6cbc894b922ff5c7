"""Check record batches of the work CSV against a Table Schema, as frictionless-py 5.21 does.

Errors carry the attributes of frictionless' errors that `validation` reads (type, note,
row_number, field_name, cell, cells). They come in frictionless' order, row by row. Within a
row, the cell errors come first, field by field: a type error, or the broken constraints in
the order of the field's `supported_constraints`. One `blank-row` error replaces them when
every cell is missing. Then come the `unique` errors, field by field, and the `primary-key` error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from opendata_sofia.fastpath.columns import NULL_KEY, ParsedColumn, key_is_exact, parse_column, python_key
from opendata_sofia.fastpath.keys import KeyIndex, combine
from opendata_sofia.fastpath.plan import FieldPlan, plan_fields
from opendata_sofia.fastpath.readings import Readings
from opendata_sofia.normalise import primary_key

PRIMARY_KEY = "primary-key"


@functools.cache
def _column_workers() -> ThreadPoolExecutor:
    """Return the thread pool shared by all checkers, one thread per CPU."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="fastpath-column")


@dataclass
class FastError:
    """One error, with the attributes of the frictionless error it stands for."""

    type: str
    note: str
    row_number: int  # in the work CSV, whose header is row 1
    field_name: str | None = None
    cell: str | None = None
    cells: list[str] = field(default_factory=list)
    order: tuple = ()  # position among the errors of its row
    candidate: tuple | None = None  # (key index name, key) of a repeat found by hash


@dataclass
class CheckedBatch:
    """The parsed columns of one batch and the errors in it."""

    columns: list[ParsedColumn]
    errors: list[FastError]


class TableChecker:
    """Check batch after batch, remembering the keys of `unique` fields and the primary key."""

    def __init__(self, schema: dict[str, Any], *, outputs: bool = False):
        self.plans = plan_fields(schema)
        self.outputs = outputs
        by_name = {plan.name: plan for plan in self.plans}
        self.primary_key = [by_name[name] for name in primary_key(schema) if name in by_name]
        self.unique = [plan for plan in self.plans if plan.field.constraints.get("unique")]
        self.key_fields = {plan.name for plan in self.unique + self.primary_key}
        self.indexes = {name: KeyIndex() for name in self._index_names()}
        self.readings = [
            Readings(plan, python_key, keys=plan.name in self.key_fields, outputs=outputs) for plan in self.plans
        ]

    def _index_names(self) -> list[str]:
        names = [plan.name for plan in self.unique]
        return names + [PRIMARY_KEY] if self.primary_key else names

    def check(self, batch: pa.RecordBatch, first_row: int) -> CheckedBatch:
        """Check `batch`, whose first row is row `first_row` of the work CSV."""
        # Columns are parsed on the worker threads: Arrow kernels release the GIL, and each
        # column has its own readings, so no state is shared.
        columns = list(
            _column_workers().map(
                lambda plan, readings: parse_column(
                    plan, batch.column(plan.index), readings, keys=plan.name in self.key_fields, outputs=self.outputs
                ),
                self.plans,
                self.readings,
            )
        )
        rows = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)

        errors = self._cell_errors(columns, rows)
        for plan in self.unique:
            errors.extend(self._unique_errors(plan, columns[plan.index], rows, self.indexes[plan.name]))
        if self.primary_key:
            errors.extend(self._primary_key_errors(columns, rows, self.indexes[PRIMARY_KEY]))
        errors.sort(key=lambda error: (error.row_number, error.order))
        return CheckedBatch(columns, errors)

    # Cells

    def _cell_errors(self, columns: list[ParsedColumn], rows: np.ndarray) -> list[FastError]:
        blank = np.logical_and.reduce([column.missing for column in columns]) if columns else np.zeros(0, bool)
        errors = []
        for plan, column in zip(self.plans, columns):
            for position in np.flatnonzero(column.type_error & ~blank):
                errors.append(self._cell_error("type-error", plan, column, rows, position, plan.type_note(), 0))
            for number, name in enumerate(plan.constraints, start=1):
                for position in np.flatnonzero(column.violations[name] & ~column.type_error & ~blank):
                    note = plan.constraint_note(name)
                    errors.append(self._cell_error("constraint-error", plan, column, rows, position, note, number))

        for position in np.flatnonzero(blank):
            errors.append(FastError("blank-row", "", int(rows[position]), cells=_row_cells(columns, position), order=(0,)))
        return errors

    @staticmethod
    def _cell_error(type_, plan: FieldPlan, column, rows, position, note, number) -> FastError:
        text = column.raw[int(position)].as_py()
        return FastError(type_, note, int(rows[position]), plan.name, text, order=(0, plan.index, number))

    # Keys

    def _unique_errors(self, plan: FieldPlan, column: ParsedColumn, rows: np.ndarray, index) -> Iterator[FastError]:
        valid = column.key_valid
        previous = index.previous_rows(column.key[valid], rows[valid])
        exact = key_is_exact(plan)
        for position, match in zip(np.flatnonzero(valid)[previous >= 0], previous[previous >= 0]):
            value = plan.value_reader(column.raw[int(position)].as_py())
            yield FastError(
                "unique-error",
                f"the same as in the row at position {match}",
                int(rows[position]),
                plan.name,
                str(value),
                order=(1, plan.index),
                candidate=None if exact else (plan.name, int(column.key[position])),
            )

    def _primary_key_errors(self, columns: list[ParsedColumn], rows: np.ndarray, index) -> Iterator[FastError]:
        key_columns = [columns[plan.index] for plan in self.primary_key]
        none = [column.missing | column.type_error for column in key_columns]
        all_none = np.logical_and.reduce(none)
        # A NaN number equals nothing, so a key holding one never repeats.
        comparable = ~all_none & np.logical_and.reduce([n | c.key_valid for n, c in zip(none, key_columns)])

        exact = len(self.primary_key) == 1 and key_is_exact(self.primary_key[0])
        if exact:
            keys = key_columns[0].key
        else:
            keys = combine([np.where(n, NULL_KEY, c.key) for n, c in zip(none, key_columns)])
        previous = index.previous_rows(keys[comparable], rows[comparable])

        found = [(position, 'cells composing the primary keys are all "None"', None) for position in np.flatnonzero(all_none)]
        for position, match in zip(np.flatnonzero(comparable)[previous >= 0], previous[previous >= 0]):
            candidate = None if exact else (PRIMARY_KEY, int(keys[position]))
            found.append((position, f"the same as in the row at position {match}", candidate))
        for position, note, candidate in found:
            cells = _row_cells(columns, position)
            yield FastError(PRIMARY_KEY, note, int(rows[position]), cells=cells, order=(2,), candidate=candidate)

    # Confirmation

    def confirm(self, errors: list[FastError], batches: Callable[[], Iterator[pa.RecordBatch]], last_row: int) -> list[FastError]:
        """Replace repeats found by hash with repeats of equal values, re-reading rows up to `last_row`.

        A 64-bit hash collision would report two different values as a repeat. For n distinct
        keys its chance is about n²/2^65, an estimate of 1 in 1.5 million at 5 million keys. The rows whose key hash is in doubt are read again
        and compared with frictionless' typed values, as frictionless compares them.
        """
        doubtful: dict[str, set[int]] = {}
        for error in errors:
            if error.candidate:
                doubtful.setdefault(error.candidate[0], set()).add(error.candidate[1])
        if not doubtful:
            return errors

        certain = [error for error in errors if not (error.candidate and error.candidate[1] in doubtful[error.candidate[0]])]
        confirmed = _ExactRepeats(self, doubtful)
        first_row = 2
        for batch in batches():
            if first_row > last_row:
                break
            confirmed.scan(batch, first_row, last_row)
            first_row += batch.num_rows
        return sorted(certain + confirmed.errors, key=lambda error: (error.row_number, error.order))


class _ExactRepeats:
    """Repeats among the rows whose key hash is in doubt, compared by typed value."""

    def __init__(self, checker: TableChecker, doubtful: dict[str, set[int]]):
        self.checker = checker
        self.doubtful = {name: np.fromiter(keys, dtype=np.uint64) for name, keys in doubtful.items()}
        self.last_rows: dict[str, dict[Any, int]] = {name: {} for name in doubtful}
        self.errors: list[FastError] = []

    def scan(self, batch: pa.RecordBatch, first_row: int, last_row: int) -> None:
        checker = self.checker
        recorders = {name: _Recorder() for name in checker.indexes}
        columns = [
            parse_column(plan, batch.column(plan.index), readings, keys=plan.name in checker.key_fields, outputs=False)
            for plan, readings in zip(checker.plans, checker.readings)
        ]
        rows = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)
        # Replaying the key checks with recorders in place of the key indexes gives each row's key.
        for plan in checker.unique:
            list(checker._unique_errors(plan, columns[plan.index], rows, recorders[plan.name]))
        if checker.primary_key:
            list(checker._primary_key_errors(columns, rows, recorders[PRIMARY_KEY]))

        for name, recorder in recorders.items():
            if name not in self.doubtful:
                continue
            for key, row in zip(recorder.keys, recorder.rows):
                in_doubt = np.isin(key, self.doubtful[name])
                for row_number in row[in_doubt]:
                    if row_number <= last_row:
                        self._compare(name, columns, int(row_number), first_row)

    def _compare(self, name: str, columns: list[ParsedColumn], row_number: int, first_row: int) -> None:
        position = row_number - first_row
        plans = self.checker.primary_key if name == PRIMARY_KEY else [p for p in self.checker.unique if p.name == name]
        values = tuple(plan.cell_reader(columns[plan.index].raw[position].as_py())[0] for plan in plans)
        previous = self.last_rows[name].get(values)
        self.last_rows[name][values] = row_number
        if previous is None:
            return

        note = f"the same as in the row at position {previous}"
        if name == PRIMARY_KEY:
            self.errors.append(FastError(PRIMARY_KEY, note, row_number, cells=_row_cells(columns, position), order=(2,)))
        else:
            plan = plans[0]
            error = FastError("unique-error", note, row_number, name, str(values[0]), order=(1, plan.index))
            self.errors.append(error)


class _Recorder:
    """Stands in for a `KeyIndex` and records the keys and rows it is given."""

    def __init__(self) -> None:
        self.keys: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []

    def previous_rows(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
        self.keys.append(keys)
        self.rows.append(rows)
        return np.full(len(keys), -1, dtype=np.int64)


def _row_cells(columns: list[ParsedColumn], position: int) -> list[str]:
    return [column.raw[int(position)].as_py() for column in columns]
