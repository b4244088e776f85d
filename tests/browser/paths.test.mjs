// The user paths app.test.mjs does not take: Clear all, the visible
// "Add files…" button, drag and drop, remove then re-add, the same file
// picked twice then one removed, the policy switched while files load,
// keyboard-only use; the visible KPI text read; every chart's data checked
// against the CLI's outputs. After each step the downloads are compared
// with what `crew-mrv run` (with `--sql`) writes for the same files, byte
// for byte.
//
// No fixed sleeps and no internal counters: every wait is on something a
// user could see (the progress bar gone, a row count, a KPI's text).
// Every test fails on a console error or an uncaught page error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");
const LAB = "calcium_lab_results_2025Q2.csv";
const SQL = "crew_mrv_batch.sql";

function sampleFiles() {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8"));
  return manifest.files.map((f) => path.join(dataDir, f.name));
}

/** The CLI's outputs for these files and options, by name (the SQL script as `crew_mrv_batch.sql`). */
function cli(args, files) {
  const out = mkdtempSync(path.join(tmpdir(), "crew-paths-"));
  execFileSync(cliBin, ["run", "--quiet", "--out", out, "--sql", path.join(out, SQL), ...args, ...files], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return (name) => readFileSync(path.join(out, name));
}

/** A copy of a sample file under the same name in a directory of its own. */
function copyOf(name) {
  const dir = mkdtempSync(path.join(tmpdir(), "crew-copy-"));
  const to = path.join(dir, name);
  copyFileSync(path.join(dataDir, name), to);
  return to;
}

/** Minimal CSV reader for our own outputs (RFC 4180 quoting). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n") {
      row.push(field.replace(/\r$/, ""));
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

/** Idle: no progress bar, and the page has a report (or is empty on purpose). */
async function settled(page, { empty = false } = {}) {
  await page.waitForFunction(
    (empty) =>
      !document.querySelector("[data-testid=progress]") &&
      (empty ? !!document.querySelector("section.empty") : !!document.querySelector("[data-testid=tab-files]")),
    empty,
    { timeout: 60_000 },
  );
}

async function fileRows(page) {
  await page.click("[data-testid=tab-files]");
  const names = await page.$$eval("[data-testid=file-row]", (r) => r.map((x) => x.dataset.file));
  await page.click("[data-testid=tab-dashboard]");
  return names;
}

/** Wait until the files panel lists exactly `n` files. */
async function waitForFileCount(page, n) {
  await page.click("[data-testid=tab-files]");
  await page.waitForFunction(
    (n) =>
      !document.querySelector("[data-testid=progress]") &&
      document.querySelectorAll("[data-testid=file-row]").length === n,
    n,
    { timeout: 60_000 },
  );
  await page.click("[data-testid=tab-dashboard]");
}

async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=${testid}]`)]);
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

/**
 * The downloads a user can take, by panel: [tab, button, the CLI's file,
 * the name the browser saves it as (null: it carries the filter's plant
 * and dates)].
 */
const DOWNLOADS = [
  ["tab-dashboard", "download-co2", "co2_removal.csv", null],
  ["tab-dashboard", "download-summary", "summary.json", "summary.json"],
  ["tab-files", "download-files", "files.csv", "files.csv"],
  ["tab-files", "download-lab", "lab_readings.csv", "lab_readings.csv"],
  ["tab-files", "download-ops", "plant_operations.csv", "plant_operations.csv"],
  ["tab-files", "download-sql", SQL, SQL],
  ["tab-qa", "download-qa", "qa_findings.csv", "qa_findings.csv"],
];

/**
 * Every download equals the CLI's for `files` (all dates, no filter),
 * the SQL script included (`run --sql`).
 */
async function downloadsEqualCli(page, files, args = [], step = "") {
  const want = cli(args, files);
  await page.click("[data-testid=tab-dashboard]");
  await page.click("[data-testid=filter-all-dates]");
  for (const [tab, id, name, savedAs] of DOWNLOADS) {
    await page.click(`[data-testid=${tab}]`);
    const d = await download(page, id);
    if (savedAs !== null) assert.equal(d.name, savedAs, `${step}: ${id} saved as`);
    assert.ok(d.bytes.equals(want(name)), `${step}: ${name} differs from the CLI's`);
  }
  await page.click("[data-testid=tab-dashboard]");
  return want;
}

/** Each flag as the page words it (issue 16); the code is its tooltip. */
const FLAG_WORDS = {
  VALID: "Valid",
  INVALID: "Invalid (no removal)",
  MISSING_CA_READINGS: "Missing calcium",
  INVALID_FLOW: "Invalid flow",
  NO_OPS_DATA: "No operations data",
};

/** The KPI text a user reads, against summary.json's key figures. */
async function visibleKpisEqual(page, summary, step = "") {
  const text = async (id) => (await page.textContent(`[data-testid=${id}]`)).trim();
  const fixed = (v, d) => (v === null ? "—" : v.toFixed(d));
  assert.equal(await text("kpi-total"), `${summary.co2_removed_t.toFixed(3)} t`, `${step}: total`);
  assert.equal(await text("kpi-mean"), `${fixed(summary.co2_removed_mean_t_per_day, 3)} t/day`, `${step}: mean`);
  assert.equal(await text("kpi-delta"), `${fixed(summary.ca_delta_mean_mg_per_l, 2)} mg/L`, `${step}: delta`);
  assert.equal(await text("kpi-days"), String(summary.days), `${step}: days`);
  // Flags in words, the code as the tooltip (issue 16).
  const words = FLAG_WORDS;
  for (const [flag, n] of Object.entries(summary.days_by_flag)) {
    assert.equal(await text(`kpi-flag-${flag}`), `${words[flag]}: ${n}`, `${step}: ${flag}`);
    assert.equal(await page.getAttribute(`[data-testid=kpi-flag-${flag}]`, "title"), flag);
  }
}

async function noErrors(app) {
  assert.deepEqual(app.errors, []);
  assert.deepEqual(app.outside, []);
}

test("Clear all empties the page without a panic, and files load again after it", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    await page.setInputFiles("[data-testid=file-input]", files);
    await settled(page);
    // Charts drawing while the report goes away is what used to panic
    // ("reactive value already disposed", then `unreachable`): a draw
    // task queued by a chart outlived the chart.
    await page.click("[data-testid=filter-all-dates]");
    await page.click("[data-testid=clear]");
    await settled(page, { empty: true });
    assert.equal(await page.locator("[data-testid=clear]").count(), 0);
    // The page still works: the same files again give the CLI's results.
    await page.setInputFiles("[data-testid=file-input]", files);
    await settled(page);
    await waitForFileCount(page, files.length);
    await downloadsEqualCli(page, files, [], "after Clear all");
    // Cleared while the charts are on screen and zoomed.
    await page.locator("[data-testid=chart-flow]").scrollIntoViewIfNeeded();
    await page.waitForSelector("[data-testid=chart-flow] .main-svg");
    await page.evaluate(() =>
      window.Plotly.relayout(document.querySelector("[data-testid=chart-ph] .plot"), {
        "xaxis.range": ["2025-05-01", "2025-05-03"],
      }),
    );
    await page.click("[data-testid=clear]");
    await settled(page, { empty: true });
    // Let any task queued before the clear run: wait for the page to have
    // handled a fresh animation frame twice.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await noErrors(app);
  } finally {
    await app.close();
  }
});

test("the visible Add files… button opens the picker; the KPIs a user reads equal the CLI's", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("[data-testid=add-files]")]);
    assert.ok(chooser.isMultiple(), "several files at once");
    await chooser.setFiles(files);
    await settled(page);
    await waitForFileCount(page, files.length);
    const want = await downloadsEqualCli(page, files, [], "Add files…");
    await visibleKpisEqual(page, JSON.parse(want("summary.json")).all_plants, "all dates");
    // One plant: the visible figures follow.
    await page.selectOption("[data-testid=filter-plant]", "PLANT_B");
    const b = JSON.parse(cli(["--plant", "PLANT_B"], files)("summary.json")).all_plants;
    await visibleKpisEqual(page, b, "PLANT_B");
    await noErrors(app);
  } finally {
    await app.close();
  }
});

test("files dropped on the page load as picked ones do", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    const payload = files.map((f) => ({ name: path.basename(f), b64: readFileSync(f).toString("base64") }));
    const dataTransfer = await page.evaluateHandle((payload) => {
      const dt = new DataTransfer();
      for (const { name, b64 } of payload) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], name));
      }
      return dt;
    }, payload);
    await page.dispatchEvent(".app", "dragover", { dataTransfer });
    await page.waitForSelector(".app.dragging");
    await page.dispatchEvent(".app", "drop", { dataTransfer });
    await settled(page);
    assert.equal(await page.locator(".app.dragging").count(), 0, "the drop highlight goes away");
    await waitForFileCount(page, files.length);
    await downloadsEqualCli(page, files, [], "dropped");
    await noErrors(app);
  } finally {
    await app.close();
  }
});

test("a removed file can be added again; the results follow each step", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    await page.setInputFiles("[data-testid=file-input]", files);
    await settled(page);
    await waitForFileCount(page, files.length);
    const rest = files.filter((f) => path.basename(f) !== LAB);
    await page.click("[data-testid=tab-files]");
    await page.click(`button[aria-label='Remove ${LAB}']`);
    await waitForFileCount(page, rest.length);
    assert.ok(!(await fileRows(page)).includes(LAB));
    await downloadsEqualCli(page, rest, [], "lab file removed");
    await page.setInputFiles("[data-testid=file-input]", [path.join(dataDir, LAB)]);
    await waitForFileCount(page, files.length);
    await downloadsEqualCli(page, files, [], "lab file added again");
    await noErrors(app);
  } finally {
    await app.close();
  }
});

test("the same file picked twice, then one removed: one click removes one", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    await page.setInputFiles("[data-testid=file-input]", files);
    await waitForFileCount(page, files.length);
    await page.setInputFiles("[data-testid=file-input]", [path.join(dataDir, LAB)]);
    await waitForFileCount(page, files.length + 1);
    // Two rows of the same name: the second is the duplicate, ignored.
    assert.equal((await fileRows(page)).filter((n) => n === LAB).length, 2);
    await downloadsEqualCli(page, [...files, copyOf(LAB)], [], "picked twice");
    await page.click("[data-testid=tab-files]");
    const remove = page.locator(`button[aria-label='Remove ${LAB}']`);
    assert.equal(await remove.count(), 2);
    await remove.first().click();
    // Whatever the click did, once it is done: one row fewer, not two.
    await page.waitForFunction(
      (n) =>
        !document.querySelector("[data-testid=progress]") &&
        document.querySelectorAll("[data-testid=file-row]").length !== n,
      files.length + 1,
      { timeout: 60_000 },
    );
    assert.equal((await fileRows(page)).length, files.length, "one click removes one file");
    assert.equal((await fileRows(page)).filter((n) => n === LAB).length, 1, "one click removes one file");
    await downloadsEqualCli(page, files, [], "one of the two removed");
    await noErrors(app);
  } finally {
    await app.close();
  }
});

test("the policy switched while files load applies to the result", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    await page.setInputFiles("[data-testid=file-input]", files);
    // While the progress bar shows, switch to `first`.
    await page.waitForSelector("[data-testid=progress]");
    await page.selectOption("[data-testid=policy]", "first");
    const want = cli(["--replicate-policy", "first"], files);
    const total = String(JSON.parse(want("summary.json")).all_plants.co2_removed_t);
    await settled(page);
    await page.click("[data-testid=filter-all-dates]");
    // The figure the CLI gives under `first`, however the two requests
    // interleaved in the worker.
    await page.waitForFunction(
      (total) =>
        !document.querySelector("[data-testid=progress]") &&
        document.querySelector("[data-testid=kpi-total-raw]")?.textContent.trim() === total,
      total,
      { timeout: 60_000 },
    );
    assert.equal(await page.inputValue("[data-testid=policy]"), "first");
    await downloadsEqualCli(page, files, ["--replicate-policy", "first"], "policy switched while loading");
    await visibleKpisEqual(page, JSON.parse(want("summary.json")).all_plants, "first");
    await noErrors(app);
  } finally {
    await app.close();
  }
});

test("keyboard only: load the samples, switch the policy, change tab and download", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid ?? "");
    // Tab to a control, as a keyboard user does; fail if it is never reached.
    // The bound is a loop guard, not a budget: the way round the whole page
    // back to the toolbar took 89 presses once the dashboard held the
    // review bar and the evidence bundle's two controls.
    const tabTo = async (testid) => {
      for (let i = 0; i < 120; i++) {
        if ((await focused()) === testid) return;
        await page.keyboard.press("Tab");
      }
      throw new Error(`${testid} cannot be reached with Tab`);
    };
    await tabTo("add-files");
    await tabTo("load-samples");
    await page.keyboard.press("Enter");
    await settled(page);
    await waitForFileCount(page, sampleFiles().length);
    await page.evaluate(() => document.activeElement?.blur());
    await tabTo("policy");
    // A focused <select> changes with the arrow keys.
    await page.keyboard.press("ArrowDown");
    const want = cli(["--replicate-policy", "first"], sampleFiles());
    const summary = JSON.parse(want("summary.json")).all_plants;
    await tabTo("tab-dashboard");
    await tabTo("filter-all-dates");
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      (total) => document.querySelector("[data-testid=kpi-total-raw]")?.textContent.trim() === total,
      String(summary.co2_removed_t),
      { timeout: 60_000 },
    );
    assert.equal(await page.inputValue("[data-testid=policy]"), "first");
    await visibleKpisEqual(page, summary, "keyboard, first");
    await tabTo("download-co2");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
    assert.ok(readFileSync(await dl.path()).equals(want("co2_removal.csv")), "co2_removal.csv by keyboard");
    // The Files tab by keyboard.
    await tabTo("tab-files");
    await page.keyboard.press("Enter");
    await page.waitForSelector("[data-testid=files-table]");
    await noErrors(app);
  } finally {
    await app.close();
  }
});

/** A drawn chart's traces: name → [[x, y], …]. */
async function traces(page, testid) {
  const sel = `[data-testid=${testid}] .plot`;
  await page.locator(`[data-testid=${testid}]`).scrollIntoViewIfNeeded();
  await page.waitForSelector(`${sel} .main-svg`);
  return page.evaluate((sel) => {
    const out = {};
    for (const t of document.querySelector(sel).data) {
      out[t.name] = Array.from(t.x, (x, i) => [String(x), t.y[i]]);
    }
    return out;
  }, sel);
}

function group(rows, key, point) {
  const out = {};
  for (const r of rows) {
    const k = key(r);
    const p = point(r);
    if (k === null || p === null) continue;
    (out[k] ??= []).push(p);
  }
  return out;
}

const num = (s) => (s === "" || s === undefined ? null : Number(s));

test("every chart draws the CLI's numbers", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    await page.setInputFiles("[data-testid=file-input]", files);
    await settled(page);
    await page.click("[data-testid=filter-all-dates]");
    const want = cli([], files);
    const co2 = parseCsv(want("co2_removal.csv").toString("utf8"));
    const ops = parseCsv(want("plant_operations.csv").toString("utf8"));
    const calculated = co2.filter((r) => r.quality_flag === "VALID" || r.quality_flag === "INVALID");

    // CO2 and Ca delta: a bar per calculated day, a trace per plant and flag.
    const byPlantFlag = (col) =>
      group(calculated, (r) => `${r.plant_id} ${FLAG_WORDS[r.quality_flag]}`, (r) => [r.date, num(r[col])]);
    assert.deepEqual(await traces(page, "chart-co2"), byPlantFlag("co2_removed_metric_tons_per_day"));
    assert.deepEqual(await traces(page, "chart-delta"), byPlantFlag("ca_delta_mg_per_l"));

    // Calcium: every day with a reading, upstream and downstream per plant.
    const ca = {
      ...group(co2, (r) => `${r.plant_id} upstream`, (r) => (r.ca_upstream_mg_per_l === "" ? null : [r.date, num(r.ca_upstream_mg_per_l)])),
      ...group(co2, (r) => `${r.plant_id} downstream`, (r) => (r.ca_downstream_mg_per_l === "" ? null : [r.date, num(r.ca_downstream_mg_per_l)])),
    };
    assert.deepEqual(await traces(page, "chart-ca"), ca);

    // Flow: the merged operations (provisional days left out), and bypass
    // flow where there was some, in the plants' own unit when they share
    // one, else in m3/day (PLANT_C reports m3/d, A and B MGD).
    const unitOf = {};
    for (const r of ops) unitOf[r.plant_id] ??= r.flow_unit || undefined;
    const units = new Set(Object.values(unitOf).map((u) => u ?? "MGD"));
    const unit = units.size === 1 ? [...units][0] : "m3/d";
    const effluent = (r) =>
      unit === "MGD" ? num(r.actual_eff_flow_mgd) : unit === "m3/d" ? num(r.actual_eff_flow_m3_per_day) : num(r.actual_eff_flow_m3_per_day) / 1000;
    const inUnit = (mgd) => (unit === "MGD" ? mgd : unit === "m3/d" ? mgd * 3785.41 : (mgd * 3785.41) / 1000);
    const flow = {
      ...group(ops, (r) => `${r.plant_id} effluent`, (r) =>
        r.provisional === "true" || r.actual_eff_flow_mgd === "" ? null : [r.date, effluent(r)],
      ),
      ...group(ops, (r) => `${r.plant_id} bypass`, (r) => (num(r.bypass_flow_mgd) > 0 ? [r.date, inUnit(num(r.bypass_flow_mgd))] : null)),
    };
    assert.deepEqual(await traces(page, "chart-flow"), flow);
    const flowTitle = await page.locator("[data-testid=chart-flow] .chart-title").innerText();
    assert.equal(flowTitle.trim(), `Effluent flow with bypass (${{ MGD: "MGD", "m3/d": "m³/d", "ML/d": "ML/d" }[unit]})`);

    // pH: the daily mean of each plant unit's readings in lab_readings.csv.
    const readings = parseCsv(want("lab_readings.csv").toString("utf8")).filter((r) => r.parameter_name === "pH");
    const sums = {};
    for (const r of readings) {
      const k = `${r.plant_id} ${r.plant_unit_id}`;
      const day = r.datetime.slice(0, 10);
      ((sums[k] ??= {})[day] ??= []).push(num(r.value));
    }
    const ph = await traces(page, "chart-ph");
    assert.deepEqual(Object.keys(ph).sort(), Object.keys(sums).sort());
    for (const [k, days] of Object.entries(sums)) {
      const wantDays = Object.keys(days).sort();
      assert.deepEqual(ph[k].map((p) => p[0]), wantDays, `${k}: pH days`);
      for (const [d, y] of ph[k]) {
        const v = days[d];
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        // Summation order may differ from the core's: equal to 1e-12.
        assert.ok(Math.abs(y - mean) <= 1e-12 * Math.abs(mean), `${k} ${d}: ${y} vs ${mean}`);
      }
    }
    await noErrors(app);
  } finally {
    await app.close();
  }
});
