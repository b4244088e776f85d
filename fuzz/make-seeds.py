#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, cut from the sample files in data/.

Seeds are kept small (the head of each CSV, the XML parts of each .xlsx,
the Workbook stream of each .xls) so the fuzzers spend their time on
structure, not on megabytes of minute data. Writes fuzz/corpus/<target>/;
an existing seed is left alone, so the corpora the fuzzers grew survive.
"""
import hashlib
import os
import re
import struct
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
SEP = b"\0--8<--\0"


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest()[:16])
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)


def head(path, lines):
    with open(path, "rb") as f:
        return b"".join(f.readline() for _ in range(lines))


def trim_rows(xml, first, last):
    """The sheet XML with only its first and last few rows."""
    starts = [m.start() for m in re.finditer(rb"<row[ >]", xml)]
    end = xml.find(b"</sheetData>")
    if len(starts) <= first + last or end < 0:
        return xml
    keep = xml[:starts[first]] + xml[starts[-last]:end]
    return keep + xml[end:]


def xlsx_parts(path, first, last):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        sheet = next(n for n in names if n.startswith("xl/worksheets/sheet"))
        parts = [trim_rows(z.read(sheet), first, last)]
        for n in ("xl/sharedStrings.xml", "xl/styles.xml"):
            parts.append(z.read(n) if n in names else b"")
    return b"\0".join(parts)


def ole_stream(data, want):
    """The named stream of a compound file (enough of MS-CFB for seeds)."""
    ssz = 1 << struct.unpack_from("<H", data, 30)[0]
    sec = lambda i: data[(i + 1) * ssz:(i + 2) * ssz]
    difat = [x for x in struct.unpack_from("<109I", data, 76) if x < 0xFFFFFFFA]
    fat = []
    for s in difat:
        fat += struct.unpack("<%dI" % (len(sec(s)) // 4), sec(s))

    def chain(i):
        out = []
        while i < 0xFFFFFFFA and len(out) <= len(fat):
            out.append(i)
            i = fat[i]
        return out

    dirs = b"".join(sec(i) for i in chain(struct.unpack_from("<I", data, 48)[0]))
    for off in range(0, len(dirs) - 127, 128):
        e = dirs[off:off + 128]
        nlen = struct.unpack_from("<H", e, 64)[0]
        name = e[:max(nlen - 2, 0)].decode("utf-16-le", "replace")
        start, size = struct.unpack_from("<II", e, 116)
        if name == want and size >= 4096:
            return b"".join(sec(i) for i in chain(start))[:size]
    return None


def tiny_xls():
    """A three-day Plant A sheet as a bare BIFF8 stream, when xlwt is here."""
    try:
        import xlwt
    except ImportError:
        return None
    wb = xlwt.Workbook()
    ws = wb.add_sheet("OPERATOR DATA")
    head = ["OPERATOR DATA\nDaily\n4/1/2025 - 4/3/2025",
            "Plnt Ef\n50050\nFLOW MGD\nMGD\nDaily",
            "Bypass\nDIVERSION/HRS\nHRS/DAY\nDaily"]
    for c, h in enumerate(head):
        ws.write(0, c, h)
    for r, (d, flow, hrs) in enumerate([("4/1/2025", "36.8", "0"),
                                        ("4/2/2025", "1,437.30", "2.5"),
                                        ("4/3/2025", "#N/A", "")], start=1):
        ws.write(r, 0, d)
        ws.write(r, 1, flow)
        ws.write(r, 2, hrs)
    ws.write(4, 0, "Sum")
    ws.write(4, 1, 38.2)
    ws.write(5, 0, xlwt.Formula("1+1"))
    return wb.get_biff_data()


REVIEWS = (
    b"plant_id,date,review_status,note,reviewer\n"
    b"PLANT_A,2025-04-01,approved,checked,J. Doe\n"
    b"PLANT_A,2025-04-02,rejected,,\n"
    b"PLANT_B,not a date,maybe,\"quoted, note\",\n"
)


def main():
    files = sorted(os.listdir(DATA))
    small = {}
    # CSV kinds are told apart by content: the CSV targets read any of them.
    put("lab_csv", REVIEWS)
    profile = open(os.path.join(DATA, "PLANT_C-profile.toml"), "rb").read()
    for name in files:
        path = os.path.join(DATA, name)
        if name.startswith("PLANT_C"):
            # A profile, a NUL, the file it reads (fuzz_targets/profile.rs).
            if name.endswith(".csv"):
                put("profile", profile + b"\0" + head(path, 12))
            elif name.endswith(".xlsx"):
                put("profile", profile + b"\0" + open(path, "rb").read())
            continue
        if name.startswith("calcium") and name.endswith(".csv"):
            small[name] = head(path, 12)
            put("lab_csv", small[name])
            put("lab_csv", head(path, 40))
        elif "_PH_" in name and name.endswith(".csv"):
            small[name] = head(path, 20)
            put("ph_csv", small[name])
        elif name.endswith(".xlsx"):
            target = "plant_a_xlsx" if name.startswith("PLANT_A") else "plant_b_xlsx"
            raw = open(path, "rb").read()
            put(target, raw)
            keep = (4, 2) if name.startswith("PLANT_A") else (14, 3)
            put(target, xlsx_parts(path, *keep))
            small[name] = raw
        elif name.endswith(".xls"):
            tiny = tiny_xls()
            if tiny:
                put("plant_a_xls", tiny)
            raw = open(path, "rb").read()
            put("plant_a_xls", raw)
            stream = ole_stream(raw, "Workbook")
            if stream:
                put("plant_a_xls", stream)
            small[name] = raw
    # The built-in profiles (format version 2) with a file of their plant:
    # the profile target parses them and reads the file with them.
    builtins = os.path.join(ROOT, "crates", "core", "profiles")
    for plant, toml in (("PLANT_A", "plant_a.toml"), ("PLANT_B", "plant_b.toml")):
        book = next((n for n in files if n.startswith(plant) and n.endswith(".xlsx")), None)
        if book:
            text = open(os.path.join(builtins, toml), "rb").read()
            put("profile", text + b"\0" + open(os.path.join(DATA, book), "rb").read())
    # The pipeline: a few files together, names included.
    groups = [
        [n for n in small if n.startswith("calcium") or n.startswith("PLANT_B")][:3],
        [n for n in small if n.startswith("calcium") or n.startswith("PLANT_A")][:3],
        [n for n in small if "_PH_" in n][:2],
    ]
    for g in groups:
        put("pipeline", SEP.join(n.encode() + b"\n" + small[n] for n in g))
    # Review decisions on the days of a lab file and a Plant A month.
    small["reviews.csv"] = REVIEWS
    put("pipeline", SEP.join(n.encode() + b"\n" + small[n] for n in groups[1] + ["reviews.csv"]))
    # The structure-aware targets read their input as choices; any bytes
    # are a valid description, these start them on a few shapes.
    for target in ("xlsx_parts", "xls_parts"):
        for seed in (b"", bytes(range(64)), bytes([3] * 64), bytes([255, 1] * 48), b"fan-out" * 12):
            put(target, seed)
    # Inputs that once found something, replayed by every run (the smoke
    # run included). xlsx_parts: 10,000 cells of 2,000 empty rich-text runs
    # each, a 147 MB workbook from 68 bytes (the builder bounded text, not
    # markup); a timeout until the builder counted the XML's bytes.
    put("xlsx_parts", bytes.fromhex(
        "ff01ff01ff01ff01ff01ff01ff01ff01ff01ff0101ff01ff01ff01ff048401ff00"
        "0000000101ff01ff01ff01ff01ff01ff01ff01ff01ff01ff01ff048401ff0004"
        "000001"))
    # xls_parts: a long shared string led by whitespace in thousands of cells;
    # the header search trimmed it for every cell, row and layout (64 s
    # under the sanitizer) until a sheet worked out a long text's
    # blankness once.
    put("xls_parts", bytes.fromhex(
        "66616e2d6f757466616e2d6f757466726f77736102010003040506070809bf0a"
        "0b0c0d0e0f1011121314151617181e1c1b1a191d1f202122232425262728292a"
        "2b2c2d2e2f303132336e2d6f757466616e2d6f757466613435366e3738392d6f"))
    # profile: a CSV no profile reads whole, with a quoted field across
    # two lines (a lone `\r` inside the quotes); the proposed profile's
    # preview rejected both lines as rows and counted one inside the field
    # too, until a rejected CSV's rows skipped a field's continuation lines.
    put("profile", b"\0Date flow,\"\r\"\n3")
    return 0


if __name__ == "__main__":
    sys.exit(main())
