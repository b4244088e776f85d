// Issue 16, the dashboard's rough edges: charts that read on every screen
// (a colour per flag, plants by pattern, legends below, one date axis,
// units), chart PNGs worth sharing, keyboard and screen-reader use (skip
// link, one menu per chart instead of Plotly's toolbar, text summaries, an
// axe-core check on every tab), undo for remove and Clear all, honest file
// messages, and layouts that fit at 390, 768 and 1400 px.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const axePath = path.join(repoRoot, "node_modules", "axe-core", "axe.min.js");
const sampleFiles = () =>
  JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8")).files.map((f) =>
    path.join(dataDir, f.name),
  );

const FLAG_COLORS = {
  VALID: "#2e7d32",
  INVALID: "#c62828",
  MISSING_CA_READINGS: "#f9a825",
  INVALID_FLOW: "#6a1b9a",
  NO_OPS_DATA: "#757575",
};
const TIME_CHARTS = ["chart-co2", "chart-ph", "chart-ca", "chart-delta", "chart-flow"];

const settled = (page) =>
  page.waitForFunction(() => !document.querySelector("[data-testid=progress]"), null, {
    timeout: 60_000,
  });

async function generation(page) {
  return Number(await page.getAttribute("[data-testid=app-ready]", "data-generation"));
}

async function nextGeneration(page, after) {
  await page.waitForFunction(
    (g) => Number(document.querySelector("[data-testid=app-ready]")?.dataset.generation) > g,
    after,
    { timeout: 60_000 },
  );
  await settled(page);
}

async function loadSamples(app) {
  await waitForReady(app);
  const { page } = app;
  const gen = await generation(page);
  await page.click("[data-testid=load-samples]");
  await nextGeneration(page, gen);
  await page.waitForSelector("[data-testid=kpis]");
}

/** Scroll each chart into view (they draw when seen) and wait for its plot. */
async function drawCharts(page, ids = TIME_CHARTS) {
  for (const id of ids) {
    await page.locator(`[data-testid=${id}]`).scrollIntoViewIfNeeded();
    await page.waitForSelector(`[data-testid=${id}] .main-svg`, { timeout: 30_000 });
  }
  // Plotly finishes its layout in a later frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

const figure = (page, id) =>
  page.$eval(`[data-testid=${id}] .plot`, (el) => ({
    data: el.data.map((t) => ({
      name: t.name,
      type: t.type ?? "scatter",
      marker: t.marker ?? {},
      line: t.line ?? {},
      hovertemplate: t.hovertemplate ?? "",
    })),
    legend: el.layout.legend,
    xrange: el._fullLayout.xaxis.range,
    ytitle: el._fullLayout.yaxis.title.text,
    y2title: el._fullLayout.yaxis2?.title?.text ?? null,
  }));

test("charts: a colour per flag, plants by pattern, legends below, one date axis, units everywhere", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    await page.click("[data-testid=filter-all-dates]");
    await settled(page);
    await drawCharts(page);

    const co2 = await figure(page, "chart-co2");
    const valid = co2.data.filter((t) => / Valid$/.test(t.name));
    const invalid = co2.data.filter((t) => /Invalid/.test(t.name));
    assert.ok(valid.length >= 2, "a VALID trace per plant");
    assert.ok(invalid.length > 0);
    for (const t of valid) assert.equal(t.marker.color, FLAG_COLORS.VALID, t.name);
    for (const t of invalid) assert.equal(t.marker.color, FLAG_COLORS.INVALID, t.name);
    // Plants apart by the bars' pattern, not by hue.
    assert.equal(new Set(valid.map((t) => t.marker.pattern?.shape ?? "")).size, valid.length);

    const flagHues = new Set(Object.values(FLAG_COLORS).filter((c) => c !== FLAG_COLORS.VALID && c !== FLAG_COLORS.INVALID));
    const xranges = [];
    for (const id of TIME_CHARTS) {
      const f = await figure(page, id);
      // Series that are not flags never take a flag's colour.
      if (id !== "chart-co2" && id !== "chart-delta") {
        for (const t of f.data) {
          for (const c of [t.marker.color, t.line.color]) {
            assert.ok(!Object.values(FLAG_COLORS).includes(c), `${id} ${t.name}: ${c} is a flag's colour`);
          }
        }
        const plants = new Set(f.data.map((t) => t.name.split(" ")[0]));
        if (plants.size > 1 && id !== "chart-flow") {
          const marks = new Set(f.data.map((t) => `${t.line.dash ?? ""}|${t.marker.symbol ?? ""}`));
          assert.ok(marks.size > 1, `${id}: plants drawn alike`);
        }
      } else {
        for (const t of f.data) assert.ok(!flagHues.has(t.marker.color));
      }
      // Legend below the plot, horizontal.
      assert.equal(f.legend.orientation, "h", id);
      assert.ok(f.legend.y < 0, `${id}: legend at ${f.legend.y}`);
      // Units in the axis titles and every hover label.
      // (Flows in the plants' own unit: m³/d when PLANT_C's are drawn with
      // A's and B's MGD.)
      assert.match(f.ytitle, /\((t CO2\/day|pH units|mg\/L|MGD|m³\/d|ML\/d)\)/, `${id}: ${f.ytitle}`);
      if (f.y2title !== null) assert.match(f.y2title, /\((MGD|m³\/d|ML\/d)\)/);
      for (const t of f.data) {
        assert.match(t.hovertemplate, /%\{y:\.\df\} (t CO2\/day|pH|mg\/L|MGD|m³\/d|ML\/d)/, `${id} ${t.name}`);
      }
      xranges.push([id, f.xrange.map((d) => String(d).slice(0, 16))]);
    }
    // The same date axis on every time chart.
    for (const [id, r] of xranges) assert.deepEqual(r, xranges[0][1], `${id}'s dates`);

    // No Plotly toolbar anywhere: it covered the first legend entry.
    assert.equal(await page.locator(".modebar-btn").count(), 0);

    // On a phone the legend sits under the plot area, not beside it.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400);
    for (const id of TIME_CHARTS) {
      const box = await page.$eval(`[data-testid=${id}] .plot`, (el) => {
        const plot = el.querySelector(".nsewdrag")?.getBoundingClientRect();
        const legend = el.querySelector(".legend")?.getBoundingClientRect();
        return { plotBottom: plot?.bottom, legendTop: legend?.top, legendRight: legend?.right, width: window.innerWidth };
      });
      assert.ok(box.legendTop >= box.plotBottom, `${id}: legend ${box.legendTop} over plot ${box.plotBottom}`);
      assert.ok(box.legendRight <= box.width, `${id}: legend off screen`);
    }
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("key figures: t/day, plant-days, flags in words with the code as tooltip, the replicate setting explained", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    assert.match((await page.textContent("[data-testid=kpi-mean]")).trim(), /^\d+\.\d{3} t\/day$/);
    const kpiLabels = await page.$$eval("[data-testid=kpis] .label", (l) => l.map((x) => x.textContent));
    assert.ok(kpiLabels.includes("Plant-days monitored"), kpiLabels.join(" | "));
    assert.ok(kpiLabels.includes("Plant-days by flag"));
    assert.match(await page.textContent("[data-testid=results-page]"), /plant-days$/);
    assert.equal((await page.textContent("[data-testid=kpi-flag-MISSING_CA_READINGS]")).split(":")[0], "Missing calcium");
    assert.equal(await page.getAttribute("[data-testid=kpi-flag-MISSING_CA_READINGS]", "title"), "MISSING_CA_READINGS");
    const filterLabel = page.locator("label.flag", { has: page.locator("[data-testid=flag-MISSING_CA_READINGS]") });
    assert.match(await filterLabel.textContent(), /Missing calcium/);
    assert.doesNotMatch(await filterLabel.textContent(), /MISSING_CA_READINGS/);
    assert.equal(await filterLabel.locator("[title]").getAttribute("title"), "MISSING_CA_READINGS");
    // The replicate setting says what it does, to the eye and to a screen reader.
    const help = await page.$eval("[data-testid=policy]", (s) =>
      document.getElementById(s.getAttribute("aria-describedby"))?.textContent ?? "",
    );
    assert.match(help, /replicates/);
    assert.match(help, /mean/);
    assert.match(help, /first row/);
    assert.match(await page.getAttribute("label.policy:has([data-testid=policy])", "title"), /replicates/);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes) {
  assert.equal(bytes.subarray(1, 4).toString("latin1"), "PNG");
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test("a chart's PNG carries its title, filters and total, at 1400×700, with a meaningful name", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    await drawCharts(page, ["chart-co2"]);
    // Record the figure the page hands to Plotly for the picture.
    await page.evaluate(() => {
      const toImage = window.Plotly.toImage;
      window.Plotly.toImage = (fig, opts) => {
        window.__pngFigure = JSON.parse(JSON.stringify(fig));
        return toImage(fig, opts);
      };
    });
    await page.click("[data-testid=chart-co2] [data-testid=chart-menu]");
    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=chart-co2] [data-testid=chart-png]"),
    ]);
    // Named for the chart and the range the note states (the default: the
    // last three months of data, to 11 Jul 2025).
    const from = await page.$eval("[data-testid=filter-from]", (el) => el.value);
    assert.equal(dl.suggestedFilename(), `crew-mrv-co2-${from}-to-2025-07-11.png`);
    assert.notEqual(dl.suggestedFilename(), "newplot.png");
    assert.deepEqual(pngSize(readFileSync(await dl.path())), [1400, 700]);
    const title = await page.evaluate(() => window.__pngFigure.layout.title.text);
    const total = (await page.textContent("[data-testid=kpi-total]")).trim();
    const range = (await page.textContent("[data-testid=range-note]")).trim().split(";")[0];
    assert.match(title, /Daily CO2 removed/);
    assert.ok(title.includes(range), `${title} lacks ${range}`);
    assert.ok(title.includes("PLANT_A, PLANT_B"), title);
    assert.ok(title.includes(`total ${total.replace(" t", "")} t CO2`), `${title} lacks ${total}`);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("keyboard and screen readers: skip link, one stop per chart, chart summaries, no raw values read aloud", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    // The first Tab on a fresh page reaches the skip link.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "skip-link");
    await loadSamples(app);
    await drawCharts(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    // Enter on it lands on the results.
    await page.focus("[data-testid=skip-link]");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "results");
    // From there to the CSV download: every chart is one stop (its menu).
    const stops = [];
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press("Tab");
      const at = await page.evaluate(() => {
        const el = document.activeElement;
        return { id: el?.dataset?.testid ?? el?.tagName, chart: el?.closest(".chart")?.dataset.testid ?? null };
      });
      stops.push(at);
      if (at.id === "download-co2") break;
    }
    assert.equal(stops.at(-1).id, "download-co2", "the CSV download is reachable");
    for (const id of TIME_CHARTS) {
      assert.equal(stops.filter((s) => s.chart === id).length, 1, `${id}: tab stops`);
    }
    // Plotly's toolbars alone were 43 stops on the way.
    assert.ok(stops.length <= 30, `${stops.length} Tab presses to the CSV download`);
    // The menu has the toolbar's functions: reset a zoom.
    const full = await page.$eval("[data-testid=chart-ca] .plot", (el) => el._fullLayout.xaxis.range.map(String));
    await page.evaluate(() =>
      window.Plotly.relayout(document.querySelector("[data-testid=chart-ca] .plot"), {
        "xaxis.range": ["2025-05-01", "2025-05-03"],
      }),
    );
    await page.click("[data-testid=chart-ca] [data-testid=chart-menu]");
    await page.click("[data-testid=chart-ca] [data-testid=chart-reset]");
    await page.waitForFunction(
      (full) =>
        JSON.stringify(document.querySelector("[data-testid=chart-ca] .plot")._fullLayout.xaxis.range.map(String)) ===
        JSON.stringify(full),
      full,
    );
    // Each chart described in words: range, total, the highest day.
    const summary = await page.textContent("[data-testid=chart-co2] [data-testid=chart-summary]");
    const total = (await page.textContent("[data-testid=kpi-total]")).trim().replace(" t", "");
    assert.match(summary, /2025/);
    assert.ok(summary.includes(`total ${total} t CO2`), summary);
    assert.match(summary, /highest \d+\.\d{3} t CO2\/day at 2025-\d\d-\d\d/);
    assert.equal(
      await page.getAttribute("[data-testid=chart-co2] .plot", "aria-describedby"),
      await page.getAttribute("[data-testid=chart-co2] [data-testid=chart-summary]", "id"),
    );
    // What a screen reader meets holds no long raw decimals.
    const tree = await page.locator("body").ariaSnapshot();
    assert.doesNotMatch(tree, /\d\.\d{7,}/);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

async function axeSerious(page) {
  // Evaluated, not added as a <script>: the page's CSP (kept as it is)
  // refuses inline scripts, and Playwright's evaluate is exempt.
  if (!(await page.evaluate(() => typeof window.axe === "object"))) {
    await page.evaluate(readFileSync(axePath, "utf8"));
  }
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  return found;
}

test("axe-core finds no serious or critical violation on any tab", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    assert.deepEqual(await axeSerious(page), [], "before any file");
    await loadSamples(app);
    for (const tab of ["dashboard", "files", "qa", "report"]) {
      await page.click(`[data-testid=tab-${tab}]`);
      if (tab === "dashboard") await drawCharts(page);
      if (tab === "report") await page.waitForSelector("[data-testid=report-row]", { timeout: 30_000 });
      assert.deepEqual(await axeSerious(page), [], `${tab} tab`);
    }
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

const fileRows = (page) => page.locator("[data-testid=file-row]").count();

test("removing a file and Clear all offer an undo that brings the files and figures back", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    const total = async () => (await page.textContent("[data-testid=kpi-total-raw]")).trim();
    await page.click("[data-testid=filter-all-dates]");
    const before = await total();
    await page.click("[data-testid=tab-files]");
    const n = await fileRows(page);
    let gen = await generation(page);
    await page.click("button[aria-label='Remove calcium_lab_results_2025Q2.csv']");
    await nextGeneration(page, gen);
    assert.equal(await fileRows(page), n - 1);
    assert.match(await page.textContent("[data-testid=undo-toast]"), /Removed calcium_lab_results_2025Q2\.csv/);
    gen = await generation(page);
    await page.click("[data-testid=undo]");
    await nextGeneration(page, gen);
    assert.equal(await fileRows(page), n);
    assert.equal(await page.locator("[data-testid=undo-toast]").count(), 0);
    await page.click("[data-testid=tab-dashboard]");
    await page.click("[data-testid=filter-all-dates]");
    assert.equal(await total(), before, "the total is back");

    gen = await generation(page);
    await page.click("[data-testid=clear]");
    await nextGeneration(page, gen);
    assert.equal(await page.locator("[data-testid=kpis]").count(), 0);
    assert.match(await page.textContent("[data-testid=undo-toast]"), new RegExp(`Cleared ${n} files`));
    gen = await generation(page);
    await page.click("[data-testid=undo]");
    await nextGeneration(page, gen);
    await page.click("[data-testid=filter-all-dates]");
    assert.equal(await total(), before, "the total is back after Clear all");
    await page.click("[data-testid=tab-files]");
    assert.equal(await fileRows(page), n);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a text file named .xlsx is described as text, and long messages wrap without pushing controls off screen", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    await page.setViewportSize({ width: 390, height: 844 });
    const longLine = "x".repeat(400) + "\n";
    const gen = await generation(page);
    await page.setInputFiles("[data-testid=file-input]", [
      ...sampleFiles()
        .slice(0, 4)
        .map((f) => ({ name: path.basename(f), mimeType: "application/octet-stream", buffer: readFileSync(f) })),
      { name: "notes.xlsx", mimeType: "application/octet-stream", buffer: Buffer.from(longLine) },
    ]);
    await nextGeneration(page, gen);
    await page.click("[data-testid=tab-files]");
    const row = page.locator("[data-testid=file-row][data-file='notes.xlsx']");
    const msg = await row.locator("[data-testid=file-error]").textContent();
    assert.match(msg, /named \.xlsx but holds plain text, not a workbook/);
    assert.doesNotMatch(msg, /this CSV/);
    const off = await page.evaluate(() => {
      const w = window.innerWidth;
      const out = [...document.querySelectorAll("[data-testid=files-table] .chip, [data-testid=files-table] td.remove button, [data-testid=file-error]")]
        .map((el) => [el.className || el.dataset.testid, el.getBoundingClientRect()])
        .filter(([, r]) => r.left < 0 || r.right > w + 1)
        .map(([c, r]) => `${c}: ${Math.round(r.left)}–${Math.round(r.right)}`);
      if (document.documentElement.scrollWidth > w) out.push(`page ${document.documentElement.scrollWidth} > ${w}`);
      return out;
    });
    assert.deepEqual(off, []);
    assert.ok((await page.locator("[data-testid=files-table] .chip").count()) > 0, "skip chips shown");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("Report, Dashboard and Files fit at 390, 768 and 1400 px: no sideways page, controls on screen", async () => {
  const app = await openApp();
  try {
    await loadSamples(app);
    const { page } = app;
    for (const width of [390, 768, 1400]) {
      await page.setViewportSize({ width, height: 900 });
      for (const tab of ["report", "dashboard", "files"]) {
        await page.click(`[data-testid=tab-${tab}]`);
        if (tab === "report") await page.waitForSelector("[data-testid=report-row]", { timeout: 30_000 });
        await page.waitForTimeout(150);
        const off = await page.evaluate(() => {
          const w = window.innerWidth;
          const out = [];
          if (document.documentElement.scrollWidth > w) out.push(`page ${document.documentElement.scrollWidth} > ${w}`);
          const controls = [...document.querySelectorAll("button, select, input, summary, a[href], .table-wrap, .chart")];
          for (const el of controls) {
            // A table's own box may scroll sideways; the box itself must fit.
            if (el.closest(".table-wrap") && !el.matches(".table-wrap")) continue;
            if (el.closest(".visually-hidden, .skip-link, [hidden]") || el.type === "file") continue;
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            if (r.left < -1 || r.right > w + 1) {
              out.push(`${el.dataset.testid ?? el.className ?? el.tagName}: ${Math.round(r.left)}–${Math.round(r.right)}`);
            }
          }
          return out;
        });
        assert.deepEqual(off, [], `${tab} at ${width} px`);
      }
    }
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});
