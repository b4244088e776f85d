// The app end to end, against the CLI: the sample files go in through the
// file input (as a user would pick them), and the KPIs and every download
// must equal what `crew-mrv run` writes for the same files, policy and
// filters, byte for byte.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, screenshot, repoRoot, expectLeftOut } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");

function sampleFiles() {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8"));
  return manifest.files.map((f) => path.join(dataDir, f.name));
}

/** Runs the CLI on the sample files and returns a reader for its outputs. */
function cli(args, files = sampleFiles()) {
  const out = mkdtempSync(path.join(tmpdir(), "crew-cli-"));
  execFileSync(cliBin, ["run", "--quiet", "--out", out, ...args, ...files], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return (name) => readFileSync(path.join(out, name));
}

async function loadSamples(app) {
  await waitForReady(app);
  const gen = Number(await app.page.getAttribute("[data-testid=app-ready]", "data-generation"));
  await app.page.setInputFiles("[data-testid=file-input]", sampleFiles());
  await waitForGeneration(app, gen + 1);
}

async function waitForGeneration(app, n) {
  await app.page.waitForFunction(
    (n) => {
      const el = document.querySelector("[data-testid=app-ready]");
      return el && Number(el.dataset.generation) >= n && !document.querySelector("[data-testid=progress]");
    },
    n,
    { timeout: 60_000 },
  );
}

/**
 * Waits until nothing is loading and `selector`'s text equals `want` (a
 * string) or matches it (a RegExp): a condition a user could see, rather
 * than a count of the page's internal updates.
 */
async function waitForVisible(page, selector, want) {
  const [source, flags, exact] =
    want instanceof RegExp ? [want.source, want.flags, null] : [null, null, want];
  await page.waitForFunction(
    ({ selector, source, flags, exact }) => {
      if (document.querySelector("[data-testid=progress]")) return false;
      const t = document.querySelector(selector)?.textContent.trim();
      if (t === undefined) return false;
      return exact !== null ? t === exact : new RegExp(source, flags).test(t);
    },
    { selector, source, flags, exact },
    { timeout: 60_000 },
  );
}

async function generation(app) {
  return Number(await app.page.getAttribute("[data-testid=app-ready]", "data-generation"));
}

async function kpis(page) {
  const raw = async (id) => (await page.textContent(`[data-testid=${id}]`))?.trim() ?? "";
  const num = (s) => (s === "" ? null : Number(s));
  return {
    total: num(await raw("kpi-total-raw")),
    mean: num(await raw("kpi-mean-raw")),
    delta: num(await raw("kpi-delta-raw")),
    days: num(await raw("kpi-days")),
  };
}

async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=${testid}]`)]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(file) };
}

async function dateFilter(page) {
  return {
    from: await page.inputValue("[data-testid=filter-from]"),
    to: await page.inputValue("[data-testid=filter-to]"),
  };
}

async function uncertaintyKpis(page) {
  const raw = async (id) => (await page.textContent(`[data-testid=${id}]`))?.trim() ?? "";
  return {
    conservative: Number(await raw("kpi-conservative-raw")),
    sigma: Number(await raw("kpi-sigma-raw")),
  };
}

function assertUncertaintyEqual(ui, all) {
  assert.equal(ui.conservative, all.conservative_t);
  assert.equal(ui.sigma, all.sigma_t);
}

function assertKpisEqual(ui, summary) {
  assert.equal(ui.total, summary.co2_removed_t);
  assert.equal(ui.mean, summary.co2_removed_mean_t_per_day);
  assert.equal(ui.delta, summary.ca_delta_mean_mg_per_l);
  assert.equal(ui.days, summary.days);
}

before(() => {
  assert.ok(sampleFiles().length >= 10, "data/ holds the sample set");
});

test("sample files picked by the user: files panel, KPIs and downloads equal the CLI", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;

    // Every file recognised, with a complete row account.
    await page.click("[data-testid=tab-files]");
    const rows = await page.$$("[data-testid=file-row]");
    assert.equal(rows.length, sampleFiles().length);
    assert.equal(await page.$$eval("[data-testid=file-error]", (e) => e.length), 0);
    const kinds = await page.$$eval("[data-testid=file-kind]", (e) => e.map((x) => x.textContent));
    assert.ok(!kinds.includes("not recognised"), kinds.join(","));
    await page.click("[data-testid=tab-dashboard]");

    // Default range: the last three months of data; the same filter on the CLI.
    const range = await dateFilter(page);
    assert.ok(range.from && range.to, "a default date range is set");
    const filtered = cli(["--from", range.from, "--to", range.to]);
    const summary = JSON.parse(filtered("summary.json"));
    assertKpisEqual(await kpis(page), summary.all_plants);

    const co2 = await download(page, "download-co2");
    assert.equal(co2.name, `co2_removal_all-plants_${range.from}_${range.to}.csv`);
    assert.ok(co2.bytes.equals(filtered("co2_removal.csv")), "co2_removal.csv equals the CLI's");
    const sum = await download(page, "download-summary");
    assert.ok(sum.bytes.equals(filtered("summary.json")), "summary.json equals the CLI's");
    // METHOD §7: the creditable total and σ shown are summary.json's, and
    // sensitivity.csv is the CLI's for the same filter.
    assertUncertaintyEqual(await uncertaintyKpis(page), summary.uncertainty.all);
    const sens = await download(page, "download-sensitivity");
    assert.equal(sens.name, "sensitivity.csv");
    assert.ok(sens.bytes.equals(filtered("sensitivity.csv")), "sensitivity.csv equals the CLI's");

    // All dates: the whole record, as the CLI without filters.
    await page.click("[data-testid=filter-all-dates]");
    const all = cli([]);
    assertKpisEqual(await kpis(page), JSON.parse(all("summary.json")).all_plants);
    assert.ok((await download(page, "download-co2")).bytes.equals(all("co2_removal.csv")));

    await page.click("[data-testid=tab-files]");
    for (const [id, name] of [
      ["download-files", "files.csv"],
      ["download-lab", "lab_readings.csv"],
      ["download-ops", "plant_operations.csv"],
    ]) {
      const d = await download(page, id);
      assert.equal(d.name, name);
      assert.ok(d.bytes.equals(all(name)), `${name} equals the CLI's`);
    }
    await page.click("[data-testid=tab-qa]");
    const qa = await download(page, "download-qa");
    assert.ok(qa.bytes.equals(all("qa_findings.csv")), "qa_findings.csv equals the CLI's");
    await page.click("[data-testid=tab-dashboard]");
    // Charts draw as they come into view: scroll through all five.
    for (const id of ["chart-co2", "chart-sensitivity", "chart-ph", "chart-ca", "chart-delta", "chart-flow"]) {
      await page.locator(`[data-testid=${id}]`).scrollIntoViewIfNeeded();
      await page.waitForSelector(`[data-testid=${id}] .main-svg`);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, "dashboard");

    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});

test("filters change the table and the KPIs as the CLI's filters do", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    await page.click("[data-testid=filter-all-dates]");
    const before = await kpis(page);

    await page.selectOption("[data-testid=filter-plant]", "PLANT_A");
    const a = cli(["--plant", "PLANT_A"]);
    assertKpisEqual(await kpis(page), JSON.parse(a("summary.json")).all_plants);
    assert.ok((await kpis(page)).days < before.days);
    const rowsA = await page.$$eval("[data-testid=result-row] td:nth-child(2)", (t) => t.map((x) => x.textContent));
    assert.ok(rowsA.length > 0 && rowsA.every((p) => p === "PLANT_A"));
    const co2 = await download(page, "download-co2");
    assert.ok(co2.name.startsWith("co2_removal_PLANT_A_"));
    assert.ok(co2.bytes.equals(a("co2_removal.csv")));
    assert.ok((await download(page, "download-sensitivity")).bytes.equals(a("sensitivity.csv")));

    // Only VALID days.
    for (const f of ["INVALID", "MISSING_CA_READINGS", "INVALID_FLOW", "NO_OPS_DATA"]) {
      await page.uncheck(`[data-testid=flag-${f}]`);
    }
    const v = cli(["--plant", "PLANT_A", "--flag", "VALID"]);
    assertKpisEqual(await kpis(page), JSON.parse(v("summary.json")).all_plants);
    // Flags read in words; the code is the badge's tooltip.
    const flags = await page.$$eval("[data-testid=result-row] .flag-badge", (t) =>
      t.map((x) => [x.textContent, x.title]),
    );
    assert.ok(flags.length > 0 && flags.every(([w, code]) => w === "Valid" && code === "VALID"));
    assert.ok((await download(page, "download-co2")).bytes.equals(v("co2_removal.csv")));

    // Replicate policy `first` recomputes at once.
    await page.selectOption("[data-testid=filter-plant]", "");
    for (const f of ["INVALID", "MISSING_CA_READINGS", "INVALID_FLOW", "NO_OPS_DATA"]) {
      await page.check(`[data-testid=flag-${f}]`);
    }
    const gen = await generation(app);
    await page.selectOption("[data-testid=policy]", "first");
    await waitForGeneration(app, gen + 1);
    const first = cli(["--replicate-policy", "first"]);
    assertKpisEqual(await kpis(page), JSON.parse(first("summary.json")).all_plants);
    assert.ok((await download(page, "download-co2")).bytes.equals(first("co2_removal.csv")));
    assert.ok((await download(page, "download-sensitivity")).bytes.equals(first("sensitivity.csv")));

    // METHOD §7's settings: p5 and a 3 % lab default, as the CLI's flags.
    let g = await generation(app);
    await page.selectOption("[data-testid=confidence]", "p5");
    await waitForGeneration(app, g + 1);
    g = await generation(app);
    await page.locator("[data-testid=lab-default]").fill("0.03");
    await page.locator("[data-testid=lab-default]").dispatchEvent("change");
    await waitForGeneration(app, g + 1);
    const p5 = cli(["--replicate-policy", "first", "--confidence", "p5", "--lab-uncertainty", "0.03"]);
    const p5Summary = JSON.parse(p5("summary.json"));
    assert.equal(p5Summary.uncertainty.all.confidence, "p5");
    assertUncertaintyEqual(await uncertaintyKpis(page), p5Summary.uncertainty.all);
    for (const [id, name] of [
      ["download-co2", "co2_removal.csv"],
      ["download-summary", "summary.json"],
      ["download-sensitivity", "sensitivity.csv"],
    ]) {
      assert.ok((await download(page, id)).bytes.equals(p5(name)), `${name} equals the CLI's under p5`);
    }

    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});

test("a bad file shows its message while the others still load", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const gen = await generation(app);
    const asBuffer = (f) => ({ name: path.basename(f), mimeType: "application/octet-stream", buffer: readFileSync(f) });
    await page.setInputFiles("[data-testid=file-input]", [
      ...sampleFiles().slice(0, 3).map(asBuffer),
      { name: "broken.xlsx", mimeType: "application/octet-stream", buffer: Buffer.from("PK\u0003\u0004 not really a zip") },
      { name: "notes.csv", mimeType: "text/csv", buffer: Buffer.from("name,comment\nbob,hello\n") },
    ]);
    await waitForGeneration(app, gen + 1);
    await page.click("[data-testid=tab-files]");
    const errors = await page.$$eval("[data-testid=file-error]", (e) => e.map((x) => x.textContent));
    assert.equal(errors.length, 2, errors.join("\n"));
    assert.ok(errors.some((e) => e.includes("damaged")), errors.join("\n"));
    assert.ok(errors.some((e) => e.includes("neither a calcium lab export")), errors.join("\n"));
    assert.equal((await page.$$("[data-testid=file-row]")).length, 5);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("the sample-data button loads data/ in one click", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const gen = await generation(app);
    await app.page.click("[data-testid=load-samples]");
    await waitForGeneration(app, gen + 1);
    await app.page.click("[data-testid=tab-files]");
    assert.equal((await app.page.$$("[data-testid=file-row]")).length, sampleFiles().length);
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});

test("the table sorts and pages, QA filters narrow the list, a removed file is gone", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    await page.click("[data-testid=filter-all-dates]");
    const pageText = async () => (await page.textContent("[data-testid=results-page]")).trim();
    assert.match(await pageText(), /^Page 1 of \d+ · \d+ plant-days$/);

    // Sort by CO2, descending: the first row holds the largest value.
    const co2Header = page.locator("button.sort", { hasText: "CO2 t/day" });
    await co2Header.click();
    await co2Header.click();
    const co2s = await page.$$eval("[data-testid=result-row] td:nth-child(8)", (t) =>
      t.map((x) => x.textContent).filter((v) => v !== "—").map(Number),
    );
    assert.ok(co2s.length > 1);
    assert.deepEqual(co2s, [...co2s].sort((a, b) => b - a));

    const firstPage = await page.$$eval("[data-testid=result-row] td:first-child", (t) => t.map((x) => x.textContent));
    await page.click("button:has-text('Next ›') >> nth=0");
    assert.match(await pageText(), /^Page 2 of/);
    const secondPage = await page.$$eval("[data-testid=result-row] td:first-child", (t) => t.map((x) => x.textContent));
    assert.notDeepEqual(firstPage, secondPage);

    // QA: level 4 warnings only.
    await page.click("[data-testid=tab-qa]");
    const all = Number((await page.textContent("[data-testid=qa-shown]")).split(" ")[0]);
    await page.selectOption("[data-testid=qa-level]", "4");
    await page.selectOption("[data-testid=qa-severity]", "warning");
    const shown = Number((await page.textContent("[data-testid=qa-shown]")).split(" ")[0]);
    assert.ok(shown > 0 && shown < all, `${shown} of ${all}`);
    const levels = await page.$$eval("[data-testid=qa-table] tbody tr td:first-child", (t) => t.map((x) => x.textContent));
    assert.ok(levels.every((l) => l === "4"));

    // Remove the lab files (PLANT_C has its own): every day loses its calcium.
    await page.click("[data-testid=tab-files]");
    let gen = await generation(app);
    await page.click("button[aria-label='Remove calcium_lab_results_2025Q2.csv']");
    await waitForGeneration(app, gen + 1);
    gen = await generation(app);
    await page.click("button[aria-label='Remove calcium_lab_results_PLANT_C_2025-04.csv']");
    await waitForGeneration(app, gen + 1);
    assert.equal((await page.$$("[data-testid=file-row]")).length, sampleFiles().length - 2);
    await page.click("[data-testid=tab-dashboard]");
    assert.equal(await page.textContent("[data-testid=kpi-flag-VALID]"), "Valid: 0");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("the pH chart shows daily means, and the readings themselves when zoomed below two weeks", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    await page.click("[data-testid=filter-all-dates]");
    const plot = "[data-testid=chart-ph] .plot";
    await page.locator("[data-testid=chart-ph]").scrollIntoViewIfNeeded();
    await page.waitForSelector(`${plot} .main-svg`);
    const points = () =>
      page.evaluate((sel) => document.querySelector(sel).data.map((t) => t.x.length), plot);
    const daily = await points();
    // One point per day per plant unit: a quarter at most.
    assert.ok(daily.every((n) => n <= 92), daily.join(","));
    await page.evaluate(
      (sel) => window.Plotly.relayout(document.querySelector(sel), { "xaxis.range": ["2025-05-01", "2025-05-03"] }),
      plot,
    );
    // Readings every 15 minutes over two days: far more than daily points.
    await page.waitForSelector("[data-testid=chart-ph][data-note=readings]");
    await page.waitForFunction(
      (sel) => document.querySelector(sel).data.some((t) => t.x.length > 100),
      plot,
      { timeout: 20_000 },
    );
    const yTitle = await page.evaluate((sel) => document.querySelector(sel).layout.yaxis.title.text, plot);
    assert.equal(yTitle, "pH readings (pH units)");
    const traces = () => page.evaluate((sel) => document.querySelector(sel).data.map((t) => t.name), plot);
    assert.ok((await traces()).some((n) => n.startsWith("PLANT_A")), (await traces()).join(","));
    // One plant picked while zoomed: the readings are fetched again, for it alone.
    await page.selectOption("[data-testid=filter-plant]", "PLANT_B");
    await page.waitForFunction(
      (sel) => {
        const d = document.querySelector(sel).data;
        return d.length > 0 && d.every((t) => t.name.startsWith("PLANT_B ") && t.x.length > 100);
      },
      plot,
      { timeout: 20_000 },
    );
    await page.selectOption("[data-testid=filter-plant]", "");
    // Zoomed out again: back to daily means.
    await page.evaluate((sel) => window.Plotly.relayout(document.querySelector(sel), { "xaxis.autorange": true }), plot);
    await page.waitForFunction((sel) => document.querySelector(sel).data.every((t) => t.x.length <= 92), plot);
    // Zoomed into days without readings, the daily chart stays (there is
    // something to zoom back out of) rather than an empty box.
    await page.evaluate(
      (sel) => window.Plotly.relayout(document.querySelector(sel), { "xaxis.range": ["2024-01-01", "2024-01-03"] }),
      plot,
    );
    await page.waitForSelector("[data-testid=chart-ph][data-note='no readings in this window: daily means']");
    const after = await points();
    assert.deepEqual(after, daily);
    assert.equal(await page.locator("[data-testid=chart-ph] p.muted").count(), 0);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a worker that dies is replaced: the file it was reading is named and left out, the rest reload", async () => {
  // The assembling worker alone, which the trap is set on: with a pool any
  // file could be read by another worker (pool.test.mjs kills those).
  const app = await openApp({ path: "?pool=1" });
  try {
    await waitForReady(app);
    const { page } = app;
    const worker = page.workers()[0] ?? (await page.waitForEvent("worker"));
    // The worker traps for real (see `trap_requested` in crates/worker/src/lib.rs), as
    // an out-of-memory abort on a huge file would.
    const culprit = "PLANT_B-MPOR_Crew_04182025to05232025.xlsx";
    await worker.evaluate((name) => {
      self.crewMrvTrapOn = name;
    }, culprit);
    const rest = sampleFiles().filter((f) => path.basename(f) !== culprit);
    assert.equal(rest.length, sampleFiles().length - 1);

    const gen = await generation(app);
    await page.setInputFiles("[data-testid=file-input]", sampleFiles());
    await waitForGeneration(app, gen + 1);
    const notice = await page.textContent("[role=alert]");
    assert.ok(notice.includes(`stopped while reading ${culprit}`), notice);
    assert.ok(notice.includes("left out"), notice);
    await expectLeftOut(page, culprit, rest);
    assert.match(await page.textContent("[data-testid=tab-files]"), /Files \(17, 1 not read\)/);
    await page.click("[data-testid=tab-dashboard]");
    await page.click("[data-testid=filter-all-dates]");
    assertKpisEqual(await kpis(page), JSON.parse(cli([], rest)("summary.json")).all_plants);

    // The new worker works, and a second death (idle, this time) loses
    // nothing: files and the policy change are replayed.
    await page.selectOption("[data-testid=policy]", "first");
    const first = JSON.parse(cli(["--replicate-policy", "first"], rest)("summary.json")).all_plants;
    // Waits on what the user sees (the figure under `first`), not on how
    // many reports the page has applied.
    await waitForVisible(page, "[data-testid=kpi-total-raw]", String(first.co2_removed_t));
    assertKpisEqual(await kpis(page), first);
    const second = page.workers().find((w) => w !== worker);
    assert.ok(second, "a new worker is running");
    // Two errors at once: the second must not make the page replace the
    // worker it has just started for the first.
    await second.evaluate(() => {
      setTimeout(() => {
        queueMicrotask(() => {
          throw new Error("simulated crash");
        });
        queueMicrotask(() => {
          throw new Error("and a second error from the same worker");
        });
      });
    });
    await waitForVisible(page, "[role=alert]", /restarted with the same files/);
    assert.match(await page.textContent("[role=alert]"), /restarted with the same files/);
    assert.equal(await page.inputValue("[data-testid=policy]"), "first");
    await page.click("[data-testid=filter-all-dates]");
    assertKpisEqual(await kpis(page), first);
    const exported = await download(page, "download-co2");
    assert.ok(exported.bytes.equals(cli(["--replicate-policy", "first"], rest)("co2_removal.csv")));

    // Death while writing a download (lab_readings.csv is written in the
    // worker): the files survive, and the user is told to ask again.
    const third = page.workers().find((w) => w !== worker && w !== second);
    assert.ok(third, "a third worker is running");
    await third.evaluate(() => {
      self.crewMrvTrapOn = "lab_readings.csv";
    });
    await page.click("[data-testid=tab-files]");
    await page.click("[data-testid=download-lab]");
    await waitForVisible(page, "[role=alert]", /download that was being prepared was lost/);
    assert.match(await page.textContent("[role=alert]"), /download that was being prepared was lost: start it again/);
    assert.equal((await page.$$("[data-testid=file-row]")).length, rest.length);
    const lab = await download(page, "download-lab");
    assert.ok(lab.bytes.equals(cli(["--replicate-policy", "first"], rest)("lab_readings.csv")));
    await page.click(`button[aria-label='Forget ${culprit}']`);
    assert.equal(await page.locator("[data-testid=left-out-row]").count(), 0);
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});

test("on a tablet held upright or a phone every table fits the screen: rows become labelled cards", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    await page.setViewportSize({ width: 768, height: 1024 });
    const gen = await generation(app);
    await page.click("[data-testid=load-samples]");
    await waitForGeneration(app, gen + 1);
    // Nothing wider than its box: no table hides columns behind a sideways scroll.
    const overflow = () =>
      page.evaluate(() => {
        const wide = [...document.querySelectorAll(".table-wrap")]
          .filter((w) => w.scrollWidth > w.clientWidth + 1)
          .map((w) => `${w.querySelector("table")?.dataset.testid}: ${w.scrollWidth} > ${w.clientWidth}`);
        if (document.documentElement.scrollWidth > window.innerWidth) {
          wide.push(`page: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
        }
        return wide;
      });
    for (const width of [768, 390]) {
      await page.setViewportSize({ width, height: 1024 });
      for (const tab of ["dashboard", "files", "qa"]) {
        await page.click(`[data-testid=tab-${tab}]`);
        assert.deepEqual(await overflow(), [], `${tab} tab, ${width} px wide`);
      }
    }
    await page.setViewportSize({ width: 768, height: 1024 });
    // Each value keeps its label, and the results can still be sorted.
    await page.click("[data-testid=tab-files]");
    const label = await page.$eval("[data-testid=file-kind]", (td) => getComputedStyle(td, "::before").content);
    assert.equal(label, '"Kind"');
    await page.click("[data-testid=tab-dashboard]");
    const co2Header = page.locator("button.sort", { hasText: "CO2 t/day" });
    assert.ok(await co2Header.isVisible());
    await co2Header.click();
    await co2Header.click();
    const co2s = await page.$$eval("[data-testid=result-row] td:nth-child(8)", (t) =>
      t.map((x) => x.textContent).filter((v) => v !== "—").map(Number),
    );
    assert.deepEqual(co2s, [...co2s].sort((a, b) => b - a));
    await screenshot(page, "tablet-results");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

/** One CSV line's fields (quoted fields may hold commas and doubled quotes). */
function csvFields(line) {
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

test("a reviewer's decisions dropped with the data become findings at their rows", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    const gen = await generation(app);
    const reviews = "plant_id,date,review_status,note,reviewer\nPLANT_A,2025-04-02,rejected,sampler fault,J. Doe\n";
    const asBuffer = (f) => ({ name: path.basename(f), mimeType: "application/octet-stream", buffer: readFileSync(f) });
    await page.setInputFiles("[data-testid=file-input]", [
      ...sampleFiles().map(asBuffer),
      { name: "reviews.csv", mimeType: "text/csv", buffer: Buffer.from(reviews) },
    ]);
    await waitForGeneration(app, gen + 1);
    await page.click("[data-testid=tab-files]");
    const kind = await page.textContent("[data-testid=file-row][data-file='reviews.csv'] [data-testid=file-kind]");
    assert.equal(kind, "Expert review decisions");
    await page.click("[data-testid=tab-qa]");
    await page.selectOption("[data-testid=qa-check]", "review_status");
    const rows = await page.$$eval("[data-testid=qa-table] tbody tr", (r) => r.map((x) => x.textContent));
    assert.ok(
      rows.some((t) => t.includes("Day rejected by J. Doe: sampler fault.") && t.includes("reviews.csv, row 2")),
      rows.join("\n"),
    );
    // The numbers are the CLI's for the same files: reviews never change them.
    const dir = mkdtempSync(path.join(tmpdir(), "crew-reviews-"));
    const file = path.join(dir, "reviews.csv");
    writeFileSync(file, reviews);
    const withReviews = cli([], [...sampleFiles(), file]);
    // Only the review columns may differ (the rejected day's status and note).
    const numbers = (bytes) => {
      const [head, ...rows] = bytes.toString("utf8").trimEnd().split("\n").map(csvFields);
      const keep = head.map((h, i) => (["review_status", "review_note"].includes(h) ? -1 : i)).filter((i) => i >= 0);
      return rows.map((r) => keep.map((i) => r[i]));
    };
    const before = cli([])("co2_removal.csv");
    assert.ok(!withReviews("co2_removal.csv").equals(before), "the rejection shows in co2_removal.csv");
    assert.deepEqual(numbers(withReviews("co2_removal.csv")), numbers(before));
    const qa = await download(page, "download-qa");
    assert.ok(qa.bytes.equals(withReviews("qa_findings.csv")), "qa_findings.csv equals the CLI's");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});
