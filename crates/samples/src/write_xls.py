"""Write one legacy .xls (BIFF8) workbook for the CREW MRV sample generator.

Driven by crates/samples/src/xls.rs, which embeds this file: a JSON grid comes in on
stdin, the workbook bytes go out on stdout. Real plant exports of this kind
are BIFF8 files written by old tools; xlwt 1.3.0 writes the same format and
its output depends only on its input, which keeps the samples reproducible.
Exit status 3: xlwt missing; 4: another xlwt version.

Input: {"sheet": name, "rows": [[str|null, ...], ...], "bold_rows": [int],
        "widths": [int (1/256 of a character)], "row_heights": {row: twips}}
"""
import io
import json
import sys

try:
    import xlwt
except ImportError:
    sys.stderr.write("no module named xlwt\n")
    sys.exit(3)

if getattr(xlwt, "__VERSION__", "unknown") != "1.3.0":
    sys.stderr.write(getattr(xlwt, "__VERSION__", "unknown"))
    sys.exit(4)

spec = json.load(sys.stdin)
book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet(spec["sheet"])
header = xlwt.easyxf("font: bold on; align: wrap on, vert top")
plain = xlwt.easyxf("")
bold_rows = set(spec.get("bold_rows", []))
for r, row in enumerate(spec["rows"]):
    style = header if r in bold_rows else plain
    for c, value in enumerate(row):
        if value is not None:
            sheet.write(r, c, value, style)
for c, width in enumerate(spec.get("widths", [])):
    sheet.col(c).width = width
for r, twips in spec.get("row_heights", {}).items():
    sheet.row(int(r)).height_mismatch = True
    sheet.row(int(r)).height = twips

out = io.BytesIO()
book.save(out)
sys.stdout.buffer.write(out.getvalue())
