"""Access to the real files and bug-report cases kept in `../shared`, beside the clone.

A developer's clone may not have `../shared` (or `OPENDATA_SOFIA_SHARED`): tests that need it
are skipped there with the reason. CI always has it, so with `CI=true` a missing folder fails the test instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("OPENDATA_SOFIA_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")


def shared_path(*parts: str) -> Path:
    """Return a path inside `../shared`, skipping (or failing under CI) when it is missing."""
    path = SHARED.joinpath(*parts)
    if path.exists():
        return path

    reason = f"{path} not found: the real files and cases live in ../shared beside the clone"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def real_inbox() -> Path:
    """Return the folder of real public files, used as a drop-folder inbox in tests."""
    override = os.environ.get("OPENDATA_SOFIA_REAL_INBOX")
    if override:
        return Path(override)
    return shared_path("data", "real")
