"""CSV text for downloads (audit log, token list) that is safe to open in a spreadsheet.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula; exported text comes from clients (user names, user agents, token
descriptions), so such cells get a leading apostrophe. Every CSV export writes its lines
through ``csv_line``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """One cell: None is empty, a dict or list is JSON, a formula-like text is quoted."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_line(values: list[Any]) -> str:
    """One CSV line (``\\r\\n``-terminated) of escaped cells."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([csv_cell(v) for v in values])
    return buffer.getvalue()
