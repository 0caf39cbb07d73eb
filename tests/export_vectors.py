"""CSV export records written out by hand (RFC 4180), for both sides of an export.

The emulator writes them with the standard library's `csv`, the SDK parses
them with its own incremental reader; each side is pinned to these bytes,
not to the other side. Quoting is minimal: a field is quoted only if it holds
a comma, a quote or a line break; a quote inside is doubled; `None` is empty.
"""

from __future__ import annotations

HEADER = ["id", "failure_summary", "logs_ref"]
HEADER_BYTES = b"id,failure_summary,logs_ref\r\n"

CSV_RECORDS: list[tuple[list[object], bytes]] = [
    (["res_1", "plain", None], b"res_1,plain,\r\n"),
    (["res_2", "a,b", ""], b'res_2,"a,b",\r\n'),
    (["res_3", 'say "hi"', "x"], b'res_3,"say ""hi""",x\r\n'),
    (["res_4", "line1\nline2", None], b'res_4,"line1\nline2",\r\n'),
    (["res_5", "a\r\nb", None], b'res_5,"a\r\nb",\r\n'),
    (["res_6", "a\x00b", None], b"res_6,a\x00b,\r\n"),  # NUL: Python 3.10's csv cannot
    (["res_7", " caf\u00e9 \u2713 ", None], b"res_7, caf\xc3\xa9 \xe2\x9c\x93 ,\r\n"),
    (["res_8", "", 12], b"res_8,,12\r\n"),
    (["res_9", '"', "\r"], b'res_9,"""","\r"\r\n'),
]
