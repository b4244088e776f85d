// Expert review in the dashboard (issue #15): decisions taken on the page
// are the decisions CSV the CLI reads. The certified total shown must be
// what `crew-mrv run` computes with the downloaded CSV; the decisions
// survive a reload and come back when that CSV is dropped into a fresh
// session; a changed input re-opens the days it feeds.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");
const LAB = "calcium_lab_results_2025Q2.csv";

function sampleFiles() {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8"));
  return manifest.files.map((f) => path.join(dataDir, f.name));
}

function cliSummary(files) {
  const out = mkdtempSync(path.join(tmpdir(), "crew-cli-"));
  execFileSync(cliBin, ["run", "--quiet", "--out", out, ...files], { stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8"));
}

async function idle(page) {
  await page.waitForFunction(() => !document.querySelector("[data-testid=progress]"), null, {
    timeout: 60_000,
  });
}

async function load(app, files) {
  await waitForReady(app);
  await app.page.setInputFiles("[data-testid=file-input]", files);
  await app.page.waitForSelector("[data-testid=result-row]", { timeout: 60_000 });
  await idle(app.page);
  await app.page.click("[data-testid=filter-all-dates]");
}

const row = (plant, date) => `tr[data-testid=result-row][data-plant="${plant}"][data-date="${date}"]`;

async function click(page, plant, date, action) {
  const details = `${row(plant, date)} details.review-actions`;
  if (!(await page.$eval(details, (d) => d.open))) await page.click(`${details} summary`);
  await page.click(`${details} [data-testid=${action}]`);
}

async function waitReview(page, plant, date, status) {
  await page.waitForSelector(`${row(plant, date)}[data-review="${status}"]`, { timeout: 60_000 });
  await idle(page);
}

async function statusOf(page, plant, date) {
  return page.getAttribute(row(plant, date), "data-review");
}

async function noticeSays(page, text) {
  await page.waitForFunction((t) => document.querySelector(".notice")?.textContent.includes(t), text, {
    timeout: 10_000,
  });
}

async function certifiedRaw(page) {
  return Number((await page.textContent("[data-testid=kpi-certified-raw]")).trim());
}

test("approve and reject on the page: certified total as the CLI's, kept across reloads and through the CSV", async () => {
  const app = await openApp();
  const tmp = mkdtempSync(path.join(tmpdir(), "crew-review-"));
  let csvPath;
  let chosen;
  let certified;
  try {
    const { page } = app;
    await load(app, sampleFiles());
    // Two VALID days of the first page.
    chosen = await page.$$eval("tr[data-testid=result-row].flag-VALID", (rows) =>
      rows.slice(0, 2).map((r) => [r.dataset.plant, r.dataset.date]),
    );
    assert.equal(chosen.length, 2);
    const [[pa, da], [pb, db]] = chosen;
    assert.equal(await certifiedRaw(page), 0);

    // No reviewer yet: the page refuses.
    await click(page, pa, da, "approve");
    await noticeSays(page, "name as reviewer");
    assert.equal(await statusOf(page, pa, da), "unreviewed");
    await page.fill("[data-testid=reviewer]", "A. Reviewer");
    await page.press("[data-testid=reviewer]", "Tab");

    await click(page, pa, da, "approve");
    await waitReview(page, pa, da, "approved");

    // A rejection without a note is refused.
    await click(page, pb, db, "reject");
    await noticeSays(page, "rejection needs a note");
    assert.equal(await statusOf(page, pb, db), "unreviewed");
    await page.fill("[data-testid=review-note]", "downstream sample taken before dosing, 3 pm");
    await click(page, pb, db, "reject");
    await waitReview(page, pb, db, "rejected");
    assert.match(await page.textContent(row(pb, db)), /downstream sample taken before dosing/);
    // The rejected day keeps its numbers.
    assert.match(await page.textContent(`${row(pb, db)} td[data-label="CO2 t/day"]`), /\d/);

    certified = await certifiedRaw(page);
    assert.ok(certified > 0, "the approved day is certified");
    assert.match(await page.textContent("[data-testid=kpi-reviews]"), /^1 approved · 1 rejected · \d+ unreviewed/);

    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=download-reviews]")]);
    assert.equal(dl.suggestedFilename(), "reviews.csv");
    const csv = readFileSync(await dl.path());
    csvPath = path.join(tmp, "reviews.csv");
    writeFileSync(csvPath, csv);
    const text = csv.toString("utf8");
    assert.match(text, /^plant_id,date,review_status,note,reviewer,inputs_sha256\n/);
    assert.equal(text.trim().split("\n").length, 3);
    const summary = cliSummary([...sampleFiles(), csvPath]);
    assert.equal(summary.all_plants.co2_certified_t, certified);
    assert.equal(summary.all_plants.certified_days, 1);

    // Reload: the decisions come back with the data.
    await page.reload();
    await load(app, sampleFiles());
    await waitReview(page, pa, da, "approved");
    await waitReview(page, pb, db, "rejected");
    assert.equal(await certifiedRaw(page), certified);
    assert.equal(await page.inputValue("[data-testid=reviewer]"), "A. Reviewer");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }

  // A fresh browser: the downloaded CSV dropped with the data restores them.
  const fresh = await openApp();
  try {
    const { page } = fresh;
    const [[pa, da], [pb, db]] = chosen;
    await load(fresh, [...sampleFiles(), csvPath]);
    await waitReview(page, pa, da, "approved");
    await waitReview(page, pb, db, "rejected");
    assert.equal(await certifiedRaw(page), certified);
    // Taken into this browser's decisions: they outlive a reload.
    await page.reload();
    await load(fresh, sampleFiles());
    await waitReview(page, pa, da, "approved");
    assert.deepEqual(fresh.errors, []);
  } finally {
    await fresh.close();
  }

  // A changed lab file: the decided days it feeds re-open, the others stay
  // unreviewed, and nothing is certified.
  const changed = await openApp();
  try {
    const { page } = changed;
    const [[pa, da], [pb, db]] = chosen;
    const lab = readFileSync(path.join(dataDir, LAB), "utf8");
    const labChanged = path.join(tmp, LAB);
    writeFileSync(labChanged, lab.endsWith("\n") ? `${lab}\n` : `${lab}\n\n`);
    const files = sampleFiles().map((f) => (path.basename(f) === LAB ? labChanged : f));
    await load(changed, [...files, csvPath]);
    await waitReview(page, pa, da, "input_changed");
    await waitReview(page, pb, db, "input_changed");
    assert.match(await page.textContent(row(pa, da)), /input changed since approval/);
    assert.equal(await page.$$eval("tr[data-review=input_changed]", (r) => r.length), 2);
    assert.equal(await certifiedRaw(page), 0);
  } finally {
    await changed.close();
  }
});

test("each day carries its QA findings; needs-review filter keeps only days asking for review", async () => {
  const app = await openApp();
  try {
    const { page } = app;
    await load(app, sampleFiles());
    const all = await page.textContent("[data-testid=results-page]");
    // Warnings on a day show as a badge whose title lists the messages.
    const badge = page.locator("[data-testid=badge-warning]").first();
    await badge.waitFor();
    assert.match(await badge.getAttribute("title"), /warning · /);
    const described = await badge.getAttribute("aria-describedby");
    assert.ok(await page.$(`[id="${described}"]`), "the messages the badge points at exist");
    await page.check("[data-testid=filter-needs-review]");
    await page.waitForFunction(
      (all) => document.querySelector("[data-testid=results-page]").textContent !== all,
      all,
    );
    const shown = await page.textContent("[data-testid=results-page]");
    const n = Number(/· (\d+) plant-days/.exec(shown)[1]);
    assert.ok(n > 0 && n < Number(/· (\d+) plant-days/.exec(all)[1]), `${shown} vs ${all}`);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("the QA tab opens on warnings and errors grouped by plant-day, infos folded", async () => {
  const app = await openApp();
  try {
    const { page } = app;
    await load(app, sampleFiles());
    await page.click("[data-testid=tab-qa]");
    await page.waitForSelector("[data-testid=qa-row]");
    const severities = await page.$$eval("[data-testid=qa-row] .sev", (e) => e.map((x) => x.textContent));
    assert.ok(severities.length > 0);
    assert.ok(!severities.includes("info"), severities.join(","));
    const groups = await page.$$eval("[data-testid=qa-group]", (e) => e.map((x) => x.textContent));
    assert.match(groups[0], /^PLANT_[AB] \d{4}-\d{2}-\d{2} · /);
    // One heading per plant-day: no day's heading repeats on the page.
    assert.equal(new Set(groups).size, groups.length);
    // Numbers in messages carry no float noise.
    const messages = await page.$$eval("[data-testid=qa-row] td:last-child", (e) => e.map((x) => x.textContent));
    assert.ok(!messages.some((m) => /\d\.\d*0000000\d|\d\.\d*9999999\d/.test(m)), messages.join("\n"));
    const folded = Number(/^(\d+)/.exec(await page.textContent("[data-testid=qa-shown]"))[1]);
    await page.check("[data-testid=qa-show-info]");
    await page.waitForFunction(
      (n) => Number(/^(\d+)/.exec(document.querySelector("[data-testid=qa-shown]").textContent)[1]) > n,
      folded,
    );
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});
