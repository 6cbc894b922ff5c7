"""Validation and conversion of work tables with Arrow kernels, matching frictionless-py.

The work CSV is read in Arrow record batches with every column as text, checked with
vectorised kernels, and written to CSV, JSON and Parquet batch by batch. Memory is bounded
by the batch size, plus 16 bytes per distinct value of each `unique` field and of the
primary key. `supports(schema)` returns whether a schema is covered. frictionless-py checks
and converts the rest and stays the reference; `support.py` lists what falls back and why.
"""

from opendata_sofia.fastpath.run import convert, find_errors
from opendata_sofia.fastpath.support import supports, unsupported_reason

__all__ = ["convert", "find_errors", "supports", "unsupported_reason"]
