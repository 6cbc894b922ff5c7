"""File signatures (magic numbers) that tell a workbook from text whatever the file is named."""

from __future__ import annotations

from pathlib import Path

# An .xlsx workbook is a ZIP archive, and every ZIP archive starts with a local file header.
ZIP_SIGNATURE = b"PK\x03\x04"
# A legacy .xls workbook is an OLE2 compound document.
OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")


def workbook_format(path: Path) -> str | None:
    """Return "xlsx" or "xls" when the file starts with that workbook format's signature, else None.

    NOTE: any ZIP archive counts as "xlsx" (an .ods or a zipped CSV too), and any OLE2 document
    as "xls" (a .doc too), because only the first bytes are read.
    """
    with path.open("rb") as stream:
        head = stream.read(len(OLE_SIGNATURE))
    if head.startswith(ZIP_SIGNATURE):
        return "xlsx"
    if head == OLE_SIGNATURE:
        return "xls"
    return None
