// The Report tab (issue 16): a quarter's per-plant report in three clicks,
// its CSV byte for byte what `crew-mrv report --csv` writes, and a page
// that prints as a report (no controls, the table whole, the provenance
// a reader needs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");

function sampleFiles() {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8"));
  return manifest.files.map((f) => path.join(dataDir, f.name));
}

function cliReport(by) {
  const dir = mkdtempSync(path.join(tmpdir(), "crew-report-"));
  try {
    const csv = path.join(dir, "report.csv");
    execFileSync(cliBin, ["report", "--by", by, "--csv", csv, ...sampleFiles()], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return readFileSync(csv);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function quarterReport(page) {
  // The three clicks: sample data, the Report tab, By quarter.
  await page.click("[data-testid=load-samples]");
  await page.waitForSelector("[data-testid=tab-report]", { timeout: 60_000 });
  await page.waitForFunction(() => !document.querySelector("[data-testid=progress]"), null, {
    timeout: 60_000,
  });
  await page.click("[data-testid=tab-report]");
  await page.click("[data-testid=report-by-quarter]");
  await page.waitForFunction(
    () => document.querySelector("[data-testid=report-row]")?.dataset.period?.includes("-Q"),
    null,
    { timeout: 30_000 },
  );
}

test("a quarter's report in three clicks; its CSV is the CLI's bytes", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    await quarterReport(page);
    const rows = await page.$$eval("[data-testid=report-row]", (rs) =>
      rs.map((r) => [r.dataset.period, r.dataset.plant]),
    );
    assert.deepEqual(rows, [
      ["2025-Q1", "PLANT_B"],
      ["2025-Q2", "PLANT_A"],
      ["2025-Q2", "PLANT_B"],
      ["2025-Q2", "PLANT_C"],
      ["2025-Q3", "PLANT_B"],
    ]);
    assert.match(await page.textContent("[data-testid=report-range]"), /21 Mar – 11 Jul 2025, 3 plants/);
    assert.match(await page.textContent("[data-testid=report-method]"), /\d+\.\d+\.\d+/);
    assert.ok((await page.$$("[data-testid=report-inputs] li")).length >= 10);
    await page.waitForSelector("[data-testid=chart-cumulative] .main-svg", { timeout: 30_000 });

    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=download-report]"),
    ]);
    assert.equal(dl.suggestedFilename(), "period_report_quarter.csv");
    assert.ok(readFileSync(await dl.path()).equals(cliReport("quarter")));

    await page.click("[data-testid=report-by-month]");
    await page.waitForFunction(
      () => !document.querySelector("[data-testid=report-row]")?.dataset.period?.includes("-Q"),
      null,
      { timeout: 30_000 },
    );
    const [dm] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=download-report]"),
    ]);
    assert.ok(readFileSync(await dm.path()).equals(cliReport("month")));
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("printing the report shows the report and its provenance, no controls, the table whole", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    await quarterReport(page);
    await page.emulateMedia({ media: "print" });
    const seen = async (sel) => page.locator(sel).first().isVisible();
    for (const sel of [
      "[data-testid=report-view] h2",
      "[data-testid=report-range]",
      "[data-testid=report-plants]",
      "[data-testid=report-method]",
      "[data-testid=report-generated]",
      "[data-testid=report-inputs]",
      "[data-testid=report-table]",
    ]) {
      assert.ok(await seen(sel), `${sel} prints`);
    }
    for (const sel of [
      "[data-testid=tab-report]",
      "[data-testid=load-samples]",
      "[data-testid=download-report]",
      "[data-testid=report-by-quarter]",
      "[data-testid=clear]",
      "button",
    ]) {
      assert.equal(await seen(sel), false, `${sel} does not print`);
    }
    assert.notEqual((await page.textContent("[data-testid=report-generated]")).trim(), "");
    // Every row is on paper: no pager, and the table is not cut by a
    // scrolling box.
    assert.equal(await page.locator(".pager").count(), 0);
    const cut = await page.$eval("[data-testid=report-table]", (t) => {
      const wrap = t.parentElement;
      return wrap.scrollHeight > wrap.clientHeight + 1 || wrap.scrollWidth > wrap.clientWidth + 1
        ? getComputedStyle(wrap).overflow
        : "whole";
    });
    assert.ok(cut === "whole" || cut === "visible", `the table's box is ${cut}`);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("the dashboard says the range behind its totals and refuses From after To", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    await page.click("[data-testid=load-samples]");
    await page.waitForSelector("[data-testid=range-note]", { timeout: 60_000 });
    await page.waitForFunction(() => !document.querySelector("[data-testid=progress]"), null, {
      timeout: 60_000,
    });
    // The default (last three months) leaves days out, and says how many.
    assert.match(
      await page.textContent("[data-testid=range-note]"),
      /^\d+ \w{3} – 11 Jul 2025, 3 plants; \d+ plant-days outside the range$/,
    );
    await page.click("[data-testid=filter-all-dates]");
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=range-note]")?.textContent.includes("every plant-day"),
    );
    assert.equal(
      (await page.textContent("[data-testid=range-note]")).trim(),
      "21 Mar – 11 Jul 2025, 3 plants; every plant-day loaded",
    );
    const setDate = (id, v) =>
      page.$eval(
        `[data-testid=${id}]`,
        (el, v) => {
          el.value = v;
          el.dispatchEvent(new Event("change", { bubbles: true }));
        },
        v,
      );
    await setDate("filter-from", "2025-06-30");
    await setDate("filter-to", "2025-04-01");
    await page.waitForSelector("[data-testid=range-error]");
    assert.match(await page.textContent("[data-testid=range-error]"), /From 30 Jun 2025 is after To 1 Apr 2025/);
    assert.equal(await page.locator("[data-testid=range-note]").count(), 0);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a file that could not be read is named by a banner on the Dashboard, linked to the Files tab", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    await page.setInputFiles("[data-testid=file-input]", [
      { name: "notes.xlsx", mimeType: "application/octet-stream", buffer: Buffer.from("plain text, not a workbook\n") },
    ]);
    await page.waitForSelector("[data-testid=unread-banner]", { timeout: 60_000 });
    assert.match(await page.textContent("[data-testid=unread-banner]"), /1 file could not be read/);
    await page.click("[data-testid=unread-banner-files]");
    await page.waitForSelector("[data-testid=files-table]");
    assert.equal(await page.getAttribute("[data-testid=tab-files]", "aria-selected"), "true");
    assert.equal(await page.locator("[data-testid=unread-banner]").count(), 0);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});
