"""`make bench`'s reference: pandas *reading* the files `crew-mrv run` reads.

Every .csv through `pd.read_csv`, every .xlsx (openpyxl) and .xls (xlrd)
through `pd.read_excel` with every sheet, into DataFrames that are then
dropped: no method, no output. The bench times this script as a whole
process, as it times `crew-mrv run`, so both pay their start-up. Prints
the files and rows read, for the table.
"""

import os
import sys

import pandas as pd


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: pandas_read.py DIR", file=sys.stderr)
        return 2
    root = sys.argv[1]
    files = rows = 0
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        ext = os.path.splitext(name)[1].lower()
        if ext == ".csv":
            # Mixed columns (a note beside numbers) are read as they come.
            frames = [pd.read_csv(path, low_memory=False)]
        elif ext in (".xlsx", ".xls"):
            engine = "openpyxl" if ext == ".xlsx" else "xlrd"
            frames = list(pd.read_excel(path, sheet_name=None, engine=engine).values())
        else:
            continue
        files += 1
        rows += sum(len(f) for f in frames)
    print(f"{files} files, {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
