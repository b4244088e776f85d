// Issue #15 in the app: a day's calculation sheet (the CLI's `explain`,
// built in the worker), the evidence bundle download (byte for byte the
// CLI's `run --bundle`) and bundle verification by dropping the bundle
// with the files it was made from.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");
// Built by `cargo test` (examples are built with the tests) from the
// samples crate's builders.
const workedExampleBin = path.join(repoRoot, "target", "debug", "examples", "worked_example");

function sampleFiles() {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8"));
  return manifest.files.map((f) => path.join(dataDir, f.name));
}

function workedExampleFiles() {
  const dir = mkdtempSync(path.join(tmpdir(), "crew-worked-"));
  execFileSync(workedExampleBin, [dir]);
  return ["PLANT_A-OPS DATA-APR25.xlsx", "lab_results.csv"].map((n) => path.join(dir, n));
}

function explain(plant, date, files) {
  return execFileSync(cliBin, ["explain", plant, date, ...files], { encoding: "utf8" });
}

async function load(app, files) {
  await waitForReady(app);
  const { page } = app;
  const gen = Number(await page.getAttribute("[data-testid=app-ready]", "data-generation"));
  await page.setInputFiles("[data-testid=file-input]", files);
  await page.waitForFunction(
    (n) => {
      const el = document.querySelector("[data-testid=app-ready]");
      return el && Number(el.dataset.generation) >= n && !document.querySelector("[data-testid=progress]");
    },
    gen + 1,
    { timeout: 60_000 },
  );
}

async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=${testid}]`)]);
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

async function sheetText(page) {
  await page.waitForSelector("[data-testid=day-sheet]", { timeout: 30_000 });
  return (await page.textContent("[data-testid=day-sheet]")).trimEnd();
}

async function closeSheet(page) {
  await page.keyboard.press("Escape");
  await page.waitForSelector("[data-testid=day-sheet-dialog]", { state: "detached" });
}

test("the worked example day's calculation sheet is the CLI's explain, to 1.8026969 t; click, Enter and Space open it", async () => {
  const files = workedExampleFiles();
  const cliText = explain("PLANT_A", "2025-04-01", files).trimEnd();
  assert.ok(cliText.includes("CO2 removed: 1.8026969 t"), cliText);
  const app = await openApp();
  try {
    await load(app, files);
    const { page } = app;
    await page.click("[data-testid=filter-all-dates]");
    const row = page.locator("[data-testid=result-row]", { hasText: "2025-04-01" });
    await row.click();
    const text = await sheetText(page);
    assert.equal(text, cliText);
    assert.ok(text.includes("CO2 removed: 1.8026969 t"), text);
    assert.ok(text.includes("cell B2"), text);
    await closeSheet(page);

    // Keyboard: the row takes focus, Enter and Space open the sheet.
    await row.focus();
    await page.keyboard.press("Enter");
    assert.equal(await sheetText(page), cliText);
    await closeSheet(page);
    await row.focus();
    await page.keyboard.press(" ");
    assert.equal(await sheetText(page), cliText);
    await page.click("[data-testid=day-sheet-close]");
    await page.waitForSelector("[data-testid=day-sheet-dialog]", { state: "detached" });
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a day of the sample data: the sheet equals `crew-mrv explain` on data/", async () => {
  const app = await openApp();
  try {
    await load(app, sampleFiles());
    const { page } = app;
    const row = page.locator("[data-testid=result-row]").first();
    const date = (await row.locator("td[data-label=Date]").textContent()).trim();
    const plant = (await row.locator("td[data-label=Plant]").textContent()).trim();
    await row.click();
    const text = await sheetText(page);
    assert.equal(text, explain(plant, date, sampleFiles()).trimEnd());
    assert.ok(/CO2 removed|not calculated|Quality flag/.test(text), text);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("the evidence bundle equals the CLI's byte for byte, with and without inputs, and verifies with the CLI", async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "crew-bundle-"));
  const app = await openApp();
  try {
    await load(app, sampleFiles());
    const { page } = app;
    const from = await page.inputValue("[data-testid=filter-from]");
    const to = await page.inputValue("[data-testid=filter-to]");
    assert.ok(from && to, "a default date range is set");

    // The evidence worker's wasm is not part of the load (issue #11's
    // budget): it comes with the first bundle asked for.
    const evidenceLoads = () => app.requests.filter((u) => /evidence(_bg\.wasm|\.js|_loader\.js)/.test(u));
    assert.deepEqual(evidenceLoads(), [], "the evidence worker loads only on use");

    // Default: no inputs, the dashboard's filter.
    const plain = await download(page, "download-bundle");
    assert.ok(
      evidenceLoads().some((u) => u.endsWith("evidence_bg.wasm")),
      `the bundle started the evidence worker: ${app.requests.filter((u) => u.endsWith(".wasm")).join(", ")}`,
    );
    assert.ok(plain.name.endsWith(".zip"), plain.name);
    const cliPlain = path.join(tmp, "cli-plain.zip");
    execFileSync(cliBin, ["run", "--quiet", "--out", path.join(tmp, "o1"), "--from", from, "--to", to, "--bundle", cliPlain, ...sampleFiles()]);
    assert.ok(plain.bytes.equals(readFileSync(cliPlain)), "the bundle without inputs equals the CLI's");

    // All dates, inputs included.
    await page.click("[data-testid=filter-all-dates]");
    await page.check("[data-testid=bundle-inputs]");
    const full = await download(page, "download-bundle");
    const cliFull = path.join(tmp, "cli-full.zip");
    execFileSync(cliBin, ["run", "--quiet", "--out", path.join(tmp, "o2"), "--bundle", cliFull, "--bundle-inputs", ...sampleFiles()]);
    assert.ok(full.bytes.equals(readFileSync(cliFull)), "the bundle with inputs equals the CLI's");

    const browserFull = path.join(tmp, "browser-full.zip");
    writeFileSync(browserFull, full.bytes);
    const v = spawnSync(cliBin, ["verify", browserFull], { encoding: "utf8" });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a CLI bundle dropped with its files verifies in the app; a one-byte change in any input fails naming that file", async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "crew-verify-"));
  const bundle = path.join(tmp, "evidence.zip");
  execFileSync(cliBin, ["run", "--quiet", "--out", path.join(tmp, "o"), "--bundle", bundle, ...sampleFiles()]);
  const app = await openApp();
  try {
    await waitForReady(app);
    const { page } = app;
    // No data loaded: verification needs none.
    await page.setInputFiles("[data-testid=file-input]", [bundle, ...sampleFiles()]);
    await page.waitForSelector("[data-testid=verify-report]", { timeout: 60_000 });
    const verdict = (await page.textContent("[data-testid=verify-verdict]")).trim();
    assert.match(verdict, /^Verified: evidence\.zip/);
    const ok = await page.$$eval("[data-testid=verify-ok]", (e) => e.map((x) => x.textContent));
    assert.ok(ok.includes("ok co2_removal.csv"), ok.join(","));
    assert.equal(await page.$$eval("[data-testid=verify-problem]", (e) => e.length), 0);
    // Nothing was loaded as data.
    assert.equal(await page.$$eval("[data-testid=result-row]", (e) => e.length), 0);

    // One byte changed in any one input, same name: each input in turn
    // (lab CSVs, pH CSVs, workbooks) fails verification naming that file.
    const changedDir = mkdtempSync(path.join(tmpdir(), "crew-changed-"));
    const files = sampleFiles();
    for (const victim of files) {
      const bytes = readFileSync(victim);
      const at = Math.floor(bytes.length / 2);
      bytes[at] ^= 0x01;
      const changed = path.join(changedDir, path.basename(victim));
      writeFileSync(changed, bytes);
      await page.click("[data-testid=verify-report] button");
      await page.waitForSelector("[data-testid=verify-report]", { state: "detached" });
      await page.setInputFiles("[data-testid=file-input]", [bundle, ...files.map((f) => (f === victim ? changed : f))]);
      await page.waitForSelector("[data-testid=verify-report]", { timeout: 60_000 });
      const verdict = (await page.textContent("[data-testid=verify-verdict]")).trim();
      assert.match(verdict, /^Not verified/, path.basename(victim));
      const problems = await page.$$eval("[data-testid=verify-problem]", (e) => e.map((x) => x.textContent));
      assert.ok(
        problems.some((p) => p.startsWith(`FAILED changed input: ${path.basename(victim)} (sha256 `)),
        `${path.basename(victim)}: ${problems.join("\n")}`,
      );
    }
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});
