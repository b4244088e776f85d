// Issue 13, "Proposed profiles in the app": a workbook no profile reads
// opens the mapping view; the user picks the effluent column the proposal
// could not place, saves, and sees the plant's numbers (the CLI's, for the
// same files and the downloaded profile, which `crew-mrv profile check`
// accepts). After a reload the profile kept in this browser reads the same
// workbook without asking; deleting it from the Profiles list un-reads it.
// The files come from the samples crate (example `unmapped_plant`, built
// by `cargo test`); the page is used at tablet width.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");
const fixtureBin = path.join(repoRoot, "target", "debug", "examples", "unmapped_plant");
const WORKBOOK = "PLANT_D-ops log May 2025.xlsx";
const LAB = "calcium_PLANT_D_2025-05.csv";

async function waitIdle(page) {
  await page.waitForFunction(() => !document.querySelector("[data-testid=progress]"), null, {
    timeout: 60_000,
  });
}

async function rawTotal(page) {
  await page.click("[data-testid=tab-dashboard]");
  return Number((await page.textContent("[data-testid=kpi-total-raw]")).trim());
}

test("an unknown workbook is mapped, saved, kept over a reload and deleted", async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "crew-mapping-"));
  const app = await openApp();
  try {
    execFileSync(fixtureBin, [tmp]);
    const files = [WORKBOOK, LAB].map((n) => path.join(tmp, n));
    await waitForReady(app);
    const { page } = app;
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.setInputFiles("[data-testid=file-input]", files);

    // The proposal: header row 3, the plant from the file name, and no
    // effluent column, so nothing can be saved yet.
    await page.waitForSelector("[data-testid=mapping-view]", { timeout: 60_000 });
    await page.waitForSelector("[data-testid=mapping-problems]");
    assert.equal(await page.inputValue("[data-testid=map-plant-id]"), "PLANT_D");
    assert.equal(await page.inputValue("[data-testid=map-header-row]"), "3");
    assert.equal(await page.inputValue("[data-testid=map-col-effluent_flow]"), "");
    assert.equal(await page.inputValue("[data-testid=map-col-precipitation]"), "3");
    assert.ok(await page.isDisabled("[data-testid=mapping-save]"));
    const choices = await page.$$eval("[data-testid=map-col-effluent_flow] option", (os) =>
      os.map((o) => o.textContent),
    );
    assert.deepEqual(choices.slice(1), [
      "A: day",
      "B: inflow (ml/d)",
      "C: outfall flow (ml/d)",
      "D: rain (mm)",
      "E: notes",
    ]);
    // The header's height: two rows take the first day into every column's
    // header (one day less read); back to one, the proposal's headers again.
    const firstChoice = () =>
      page.$eval("[data-testid=map-col-effluent_flow] option:nth-child(2)", (o) => o.textContent);
    assert.equal(await page.inputValue("[data-testid=map-header-rows]"), "1");
    await page.fill("[data-testid=map-header-rows]", "2");
    await page.press("[data-testid=map-header-rows]", "Tab");
    await page.waitForFunction(
      () => document.querySelector("[data-testid=map-col-effluent_flow] option:nth-child(2)")?.textContent === "A: day 2025-05-01",
      null,
      { timeout: 30_000 },
    );
    assert.equal(await page.inputValue("[data-testid=map-header-rows]"), "2");
    await page.fill("[data-testid=map-header-rows]", "1");
    await page.press("[data-testid=map-header-rows]", "Tab");
    await page.waitForFunction(
      () => document.querySelector("[data-testid=map-col-effluent_flow] option:nth-child(2)")?.textContent === "A: day",
      null,
      { timeout: 30_000 },
    );
    assert.equal(await firstChoice(), "A: day");
    const unlabelled = await page.$$eval(
      "[data-testid=mapping-view] select, [data-testid=mapping-view] input",
      (els) => els.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.outerHTML),
    );
    assert.deepEqual(unlabelled, [], "every control has a label");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 768, `the view fits 768 px (page is ${width} px wide)`);

    // The user's choices: the outfall is the effluent (its unit comes from
    // its header), the inflow the influent.
    await page.selectOption("[data-testid=map-col-effluent_flow]", "2");
    await page.waitForSelector("[data-testid=mapping-save]:not([disabled])", { timeout: 30_000 });
    assert.equal(await page.inputValue("[data-testid=map-unit-effluent_flow]"), "ML/d");
    await page.selectOption("[data-testid=map-col-influent_flow]", "1");
    await page.waitForFunction(
      () => document.querySelector("[data-testid=map-col-influent_flow]")?.value === "1" &&
        document.querySelector("[data-testid=mapping-toml]")?.textContent.includes("influent_flow"),
      null,
      { timeout: 30_000 },
    );
    const days = await page.$$eval("[data-testid=mapping-day]", (rs) =>
      rs.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent)),
    );
    assert.equal(days.length, 8);
    assert.equal(days[0][0], "2025-05-01");
    assert.ok(days[0].includes("40") && days[0].includes("40000"), JSON.stringify(days[0]));
    assert.match(await page.textContent("[data-testid=mapping-account]"), /^8 days read; .*= 8 records \+/);

    // The download is a profile the CLI accepts for this workbook.
    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=mapping-download]"),
    ]);
    assert.equal(dl.suggestedFilename(), "PLANT_D-profile.toml");
    const toml = path.join(tmp, "PLANT_D-profile.toml");
    await dl.saveAs(toml);
    const check = spawnSync(cliBin, ["profile", "check", toml, files[0]], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /read by PLANT_D/);
    const out = path.join(tmp, "out");
    execFileSync(cliBin, ["run", "--quiet", "--out", out, toml, ...files]);
    const cliTotal = JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")).all_plants
      .co2_removed_t;
    assert.ok(cliTotal > 0);

    // Saved from the keyboard: the button after the last field.
    await page.focus("#map-file-name");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "mapping-save");
    await page.keyboard.press("Enter");
    await page.waitForSelector("[data-testid=mapping-view]", { state: "detached", timeout: 60_000 });
    await waitIdle(page);
    await page.waitForSelector("[data-testid=profile-item][data-plant=PLANT_D] [data-testid=profile-applied]");
    assert.equal(await rawTotal(page), cliTotal);
    await page.click("[data-testid=tab-files]");
    const kinds = await page.$$eval("[data-testid=file-row]", (rs) =>
      Object.fromEntries(rs.map((r) => [r.dataset.file, r.querySelector("[data-testid=file-kind]").textContent])),
    );
    assert.equal(kinds[WORKBOOK], "Plant operations data");
    assert.equal(kinds["PLANT_D profile (in this browser).toml"], "Plant profile");

    // Next visit: the kept profile reads the same workbook without asking.
    await page.reload({ waitUntil: "load" });
    await waitForReady(app);
    await page.waitForSelector("[data-testid=profile-item][data-plant=PLANT_D]");
    await page.setInputFiles("[data-testid=file-input]", files);
    await page.waitForSelector("[data-testid=profile-applied]", { timeout: 60_000 });
    await waitIdle(page);
    assert.equal(await page.locator("[data-testid=mapping-view]").count(), 0);
    assert.equal(await rawTotal(page), cliTotal);

    // Deleted: gone from the list and the storage, and the workbook is
    // again a file no profile reads.
    await page.click("[data-testid=profile-delete]");
    await page.waitForSelector("[data-testid=profiles-panel]", { state: "detached" });
    assert.equal(await page.evaluate(() => localStorage.getItem("crew-mrv-profiles")), "[]");
    await page.waitForSelector("[data-testid=mapping-view]", { timeout: 60_000 });
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
