#!/usr/bin/env python3
"""An independent implementation of METHOD §2 and §4, in Python 3 stdlib.

This is the script behind the golden values in tests/golden.rs. It shares
no code with the crate: it reads the calcium lab CSV files in DATA_DIR
itself (METHOD §2: one sample one reading, then the replicate policy),
takes each plant-day's effluent flow from the crate's normalized
plant_operations.csv (the METHOD §3 merge of overlapping reports is not
re-implemented here: reading legacy .xls needs more than the stdlib),
then walks METHOD §4's checks and formula in its order and sums VALID days
in date order.

It then compares, to the last bit (floats parsed, never rounded):
  - every row of the crate's co2_removal.csv, under both replicate
    policies (OUT_MEAN and OUT_FIRST are `crew-mrv run` output directories);
  - summary.json's key figures per plant and for all plants;
  - the literal golden values written in tests/golden.rs.

Usage: method.py DATA_DIR OUT_MEAN OUT_FIRST GOLDEN_RS
Exit status 0 when everything agrees, 1 otherwise (each difference printed).
"""

import csv
import json
import os
import re
import sys

# METHOD §4, exactly.
MW_CA = 40.078
MW_CACO3 = 100.0869
MW_CO2 = 44.0095
M3_PER_MG = 3785.41

UPSTREAM = {"primary_clarifier"}
DOWNSTREAM = {"secondary_clarifier"}


def read_lab_points(data_dir):
    """plant -> (upstream units, downstream units) from the `[lab]` table of
    every plant profile (.toml) in DATA_DIR (PROFILES.md "The lab side");
    plants without one use the defaults above."""
    import tomllib

    points = {}
    for name in sorted(os.listdir(data_dir)):
        if not name.lower().endswith(".toml"):
            continue
        with open(os.path.join(data_dir, name), "rb") as f:
            p = tomllib.load(f)
        lab = p.get("lab")
        if lab:
            points[p["plant_id"]] = (set(lab["upstream"]), set(lab["downstream"]))
    return points


LAB_POINTS = {}


def location(plant, unit):
    up, down = LAB_POINTS.get(plant, (UPSTREAM, DOWNSTREAM))
    return "up" if unit in up else "down" if unit in down else None


def ascending_mean(values):
    """METHOD §2: sum in ascending order of value, then divide. Not
    math.fsum (correctly rounded): the method fixes the order instead."""
    total = 0.0
    for v in sorted(values):
        total += v
    return total / len(values)


def read_lab(data_dir):
    """Calcium rows of every lab CSV in DATA_DIR, in input order (files by
    name, rows top to bottom): (plant, date, unit, unique_id, value)."""
    rows = []
    for name in sorted(os.listdir(data_dir)):
        if not name.lower().endswith(".csv"):
            continue
        with open(os.path.join(data_dir, name), newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            if "unique_id" not in fields or "parameter_name" not in fields:
                continue
            for r in reader:
                if r["parameter_name"].strip().lower() != "calcium":
                    continue
                try:
                    value = float(r["value"])
                except ValueError:
                    continue
                rows.append(
                    (r["plant_id"], r["date"], r["unit_type_id"], r["unique_id"], value)
                )
    return rows


def calcium_days(rows, policy):
    """(plant, date) -> {"up": (value, n), "down": (value, n)} and the set of
    plant-days with any calcium reading."""
    samples = {}  # (plant, date, unit, id) -> [values], insertion = input order
    for plant, date, unit, uid, value in rows:
        samples.setdefault((plant, date, unit, uid), []).append(value)
    groups = {}  # (plant, date, location) -> [sample means]
    for (plant, date, unit, _uid), values in samples.items():
        loc = location(plant, unit)
        if loc is not None:
            groups.setdefault((plant, date, loc), []).append(ascending_mean(values))
    firsts = {}  # (plant, date, location) -> value of the first row
    any_day = set()
    for plant, date, unit, _uid, value in rows:
        any_day.add((plant, date))
        loc = location(plant, unit)
        if loc is not None:
            firsts.setdefault((plant, date, loc), value)
    days = {}
    for (plant, date, loc), means in groups.items():
        value = ascending_mean(means) if policy == "mean" else firsts[(plant, date, loc)]
        days.setdefault((plant, date), {})[loc] = (value, len(means))
    return days, any_day


def read_ops(out_dir):
    """(plant, date) -> effluent flow in MGD, or None when blank/provisional;
    and (plant, date) -> the flow in m3/day when it was read in a metric
    unit (PROFILES.md "Units": the chain then starts from the m3/day)."""
    ops = {}
    metric = {}
    with open(os.path.join(out_dir, "plant_operations.csv"), newline="") as f:
        for r in csv.DictReader(f):
            flow = r["actual_eff_flow_mgd"]
            provisional = r["provisional"] == "true"
            key = (r["plant_id"], r["date"])
            ops[key] = None if provisional or flow == "" else float(flow)
            if r["flow_unit"] in ("m3/d", "ML/d") and r["actual_eff_flow_m3_per_day"] != "":
                metric[key] = float(r["actual_eff_flow_m3_per_day"])
    return ops, metric


def co2_day(flow, up, down, flow_m3=None):
    """METHOD §4's formula, in its order."""
    delta = down - up
    if flow_m3 is None:
        flow_m3 = flow * M3_PER_MG
    flow_l = flow_m3 * 1000
    ca_to_caco3 = MW_CACO3 / MW_CA
    co2_to_caco3 = MW_CO2 / MW_CACO3
    caco3_mg = delta * flow_l * ca_to_caco3
    co2_mg = caco3_mg * co2_to_caco3
    return {
        "ca_delta_mg_per_l": delta,
        "flow_m3_per_day": flow_m3,
        "flow_l_per_day": flow_l,
        "ca_to_caco3_ratio": ca_to_caco3,
        "co2_to_caco3_ratio": co2_to_caco3,
        "caco3_mg": caco3_mg,
        "co2_mg": co2_mg,
        "co2_removed_metric_tons_per_day": co2_mg / 1e9,
    }


def method(data_dir, ops_metric, policy):
    """Every plant-day: a dict of the co2_removal.csv fields this script
    checks (floats as float, blank as None)."""
    ops, metric = ops_metric
    calcium, any_day = calcium_days(read_lab(data_dir), policy)
    out = {}
    for key in sorted(set(ops) | any_day):
        ca = calcium.get(key, {})
        up = ca.get("up")
        down = ca.get("down")
        row = {
            "ca_upstream_mg_per_l": up[0] if up else None,
            "ca_downstream_mg_per_l": down[0] if down else None,
            "ca_upstream_n": up[1] if up else 0,
            "ca_downstream_n": down[1] if down else 0,
            "flow_mgd": ops.get(key),
        }
        flow = ops.get(key)
        if key not in ops:
            flag = "NO_OPS_DATA"
        elif flow is None or flow <= 0:
            flag = "INVALID_FLOW"
        elif up is None or down is None:
            flag = "MISSING_CA_READINGS"
        else:
            calc = co2_day(flow, up[0], down[0], metric.get(key))
            row.update(calc)
            flag = "VALID" if calc["ca_delta_mg_per_l"] > 0 else "INVALID"
        row["quality_flag"] = flag
        out[key] = row
    return out


def kpis(rows):
    """VALID days summed in date order (plant breaking ties)."""
    total = 0.0
    delta_sum = 0.0
    valid = 0
    for (plant, date) in sorted(rows, key=lambda k: (k[1], k[0])):
        r = rows[(plant, date)]
        if r["quality_flag"] == "VALID":
            total += r["co2_removed_metric_tons_per_day"]
            delta_sum += r["ca_delta_mg_per_l"]
            valid += 1
    return {
        "days": len(rows),
        "valid_days": valid,
        "co2_removed_t": total,
        "co2_removed_mean_t_per_day": total / valid if valid else None,
        "ca_delta_mean_mg_per_l": delta_sum / valid if valid else None,
    }


class Diff:
    def __init__(self):
        self.n = 0

    def check(self, what, ours, theirs, where="crate"):
        if ours != theirs:
            self.n += 1
            if self.n <= 40:
                print(f"DIFF {what}: independent {ours!r}, {where} {theirs!r}")


def parse_field(name, text):
    if text == "":
        return None
    if name in ("ca_upstream_n", "ca_downstream_n"):
        return int(text)
    if name == "quality_flag":
        return text
    return float(text)


def compare_csv(diff, policy, ours, out_dir):
    with open(os.path.join(out_dir, "co2_removal.csv"), newline="") as f:
        theirs = {(r["plant_id"], r["date"]): r for r in csv.DictReader(f)}
    diff.check(f"{policy}: days", sorted(ours), sorted(theirs))
    for key, row in ours.items():
        t = theirs.get(key)
        if t is None:
            continue
        for name in (
            "quality_flag",
            "ca_upstream_mg_per_l",
            "ca_downstream_mg_per_l",
            "ca_upstream_n",
            "ca_downstream_n",
            "flow_mgd",
            "ca_delta_mg_per_l",
            "flow_m3_per_day",
            "flow_l_per_day",
            "ca_to_caco3_ratio",
            "co2_to_caco3_ratio",
            "caco3_mg",
            "co2_mg",
            "co2_removed_metric_tons_per_day",
        ):
            diff.check(f"{policy} {key} {name}", row.get(name), parse_field(name, t[name]))


def compare_summary(diff, policy, ours, out_dir):
    with open(os.path.join(out_dir, "summary.json")) as f:
        s = json.load(f)
    scopes = [("all_plants", ours, s["all_plants"])]
    for plant in sorted({k[0] for k in ours}):
        rows = {k: v for k, v in ours.items() if k[0] == plant}
        scopes.append((plant, rows, s["plants"].get(plant, {})))
    for name, rows, theirs in scopes:
        for field, value in kpis(rows).items():
            diff.check(f"{policy} summary {name} {field}", value, theirs.get(field))


def num(text):
    return None if text == "" else float(text)


def compare_golden(diff, mean, first, golden_rs):
    """The literals of tests/golden.rs, recomputed here."""
    with open(golden_rs) as f:
        src = f.read()
    table = src[src.index("const MEAN"):src.index("#[test]")]
    tuples = re.findall(r"\(\s*" + r",\s*".join([r'"([^"]*)"'] * 7) + r",?\s*\)", table)
    diff.check("golden.rs MEAN table has rows", len(tuples) > 0, True)
    for plant, date, flag, up, down, flow, co2 in tuples:
        r = mean.get((plant, date), {})
        diff.check(
            f"golden MEAN {plant} {date}",
            (r.get("quality_flag"), r.get("ca_upstream_mg_per_l"), r.get("ca_downstream_mg_per_l"),
             r.get("flow_mgd"), r.get("co2_removed_metric_tons_per_day")),
            (flag, num(up), num(down), num(flow), num(co2)),
            "golden.rs",
        )
    block = src[src.index("fn hand_checked_days_first_policy"):src.index("fn hand_checked_totals")]
    firsts = re.findall(r'\("(PLANT_\w+)", "([\d-]+)", "([^"]+)"\)', block)
    diff.check("golden.rs first-policy table has rows", len(firsts) > 0, True)
    for plant, date, co2 in firsts:
        r = first.get((plant, date), {})
        diff.check(f"golden FIRST {plant} {date}", r.get("co2_removed_metric_tons_per_day"), float(co2), "golden.rs")
    block = src[src.index("fn hand_checked_totals"):]
    for plant, field, literal in re.findall(
        r'(a|b|c)\["(co2_removed_t|valid_days)"\]\.as_(?:f64|u64)\(\),\s*Some\(([\d.]+)\)', block
    ):
        plant_id = "PLANT_" + plant.upper()
        k = kpis({k: v for k, v in mean.items() if k[0] == plant_id})
        want = float(literal) if field == "co2_removed_t" else int(literal)
        diff.check(f"golden total {plant_id} {field}", k[field], want, "golden.rs")
    all_days = kpis(mean)
    m = re.search(r'summary\["all_plants"\]\["days"\]\.as_u64\(\),\s*Some\((\d+)\)', block)
    diff.check("golden all_plants days", all_days["days"], int(m.group(1)) if m else None, "golden.rs")


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    data_dir, out_mean, out_first, golden_rs = argv[1:]
    LAB_POINTS.update(read_lab_points(data_dir))
    ops = read_ops(out_mean)
    mean = method(data_dir, ops, "mean")
    first = method(data_dir, ops, "first")
    diff = Diff()
    compare_csv(diff, "mean", mean, out_mean)
    compare_csv(diff, "first", first, out_first)
    compare_summary(diff, "mean", mean, out_mean)
    compare_summary(diff, "first", first, out_first)
    compare_golden(diff, mean, first, golden_rs)
    valid = sum(1 for r in mean.values() if r["quality_flag"] == "VALID")
    if diff.n:
        print(f"independent METHOD §2/§4: {diff.n} differences")
        return 1
    print(
        f"independent METHOD §2/§4: {len(mean)} days ({valid} VALID) agree with "
        "co2_removal.csv and summary.json under both policies, and with tests/golden.rs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
