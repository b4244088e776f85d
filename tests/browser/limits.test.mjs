// Sizes before bytes (issue #12): a picked file over `max_file_bytes` is
// judged by its `File.size` and never read or hashed, with the clear
// per-file message, and the other files still load.
//
// The limit is lowered through the worker's test hook
// (`crewMrvMaxFileBytes`, see crates/worker/src/lib.rs) to the largest
// sample file, so a file one byte larger is over it. The worker is also
// told to trap if it ever reads that file (`crewMrvTrapOn`): a read would
// kill it, and the test would see a restart instead of the message.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");
const BIG = "too_big_lab.csv";

function sampleFiles() {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8"));
  return manifest.files.map((f) => path.join(dataDir, f.name));
}

function cliSummary(files) {
  const out = mkdtempSync(path.join(tmpdir(), "crew-limits-"));
  execFileSync(cliBin, ["run", "--quiet", "--out", out, ...files], { stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8"));
}

test("a file over the size limit is reported from its size alone; the others still load", async () => {
  // One worker: the limit and the trap are set on it, and any file could go
  // to a pool worker otherwise (the pool's own tests are pool.test.mjs).
  const app = await openApp({ path: "?pool=1" });
  try {
    await waitForReady(app);
    const { page } = app;
    const files = sampleFiles();
    const limit = Math.max(...files.map((f) => statSync(f).size));
    // A real lab export padded with blank lines to one byte over the
    // limit: only its size can keep it out.
    const lab = readFileSync(path.join(dataDir, "calcium_lab_results_2025Q2.csv"));
    const big = path.join(mkdtempSync(path.join(tmpdir(), "crew-big-")), BIG);
    writeFileSync(big, Buffer.concat([lab, Buffer.alloc(limit + 1 - lab.length, 0x0a)]));
    assert.equal(statSync(big).size, limit + 1);

    const worker = page.workers()[0] ?? (await page.waitForEvent("worker"));
    await worker.evaluate(
      ({ limit, name }) => {
        self.crewMrvMaxFileBytes = limit;
        self.crewMrvTrapOn = name;
      },
      { limit, name: BIG },
    );
    const gen = Number(await page.getAttribute("[data-testid=app-ready]", "data-generation"));
    await page.setInputFiles("[data-testid=file-input]", [...files, big]);
    await page.waitForFunction(
      (n) =>
        Number(document.querySelector("[data-testid=app-ready]")?.dataset.generation) >= n &&
        !document.querySelector("[data-testid=progress]"),
      gen + 1,
      { timeout: 60_000 },
    );

    // No worker died (the trap was never reached): no alert, nothing left out.
    assert.equal(await page.locator("[role=alert]").count(), 0);
    assert.equal(page.workers().length, 1, "the first worker is still the only one");
    await page.click("[data-testid=tab-files]");
    assert.equal(await page.locator("[data-testid=left-out-row]").count(), 0);
    const rows = await page.$$eval("[data-testid=file-row]", (r) =>
      r.map((x) => [x.dataset.file, x.querySelector("[data-testid=file-error]")?.textContent ?? ""]),
    );
    assert.equal(rows.length, files.length + 1);
    const [, why] = rows.find(([name]) => name === BIG) ?? [BIG, "(not listed)"];
    assert.match(why, new RegExp(`the file \\(${limit + 1} bytes\\) exceeds the limit of ${limit}`));
    // Every other file, the largest exactly at the limit included, was read.
    for (const [name, error] of rows.filter(([name]) => name !== BIG)) {
      assert.equal(error, "", `${name} was read`);
    }
    await page.click("[data-testid=tab-dashboard]");
    await page.click("[data-testid=filter-all-dates]");
    const want = String(cliSummary(files).all_plants.co2_removed_t);
    assert.equal((await page.textContent("[data-testid=kpi-total-raw]")).trim(), want);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});
