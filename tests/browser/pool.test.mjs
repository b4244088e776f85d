// The browser pool (README, Browser pool): with several processing workers
// the sample set gives the same downloads, byte for byte, as with one; a
// pool worker that dies loses only the file it was reading, named, and a
// new one takes its place. The size is forced with `?pool=N` (this
// machine's two cores would give a pool of one).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, repoRoot, expectLeftOut } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const cliBin = process.env.CREW_MRV_BIN ?? path.join(repoRoot, "target", "debug", "crew-mrv");

function sampleFiles() {
  const manifest = JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8"));
  return manifest.files.map((f) => path.join(dataDir, f.name));
}

function cliSummary(files) {
  const out = mkdtempSync(path.join(tmpdir(), "crew-pool-"));
  execFileSync(cliBin, ["run", "--quiet", "--out", out, ...files], { stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8"));
}

async function generation(page) {
  return Number(await page.getAttribute("[data-testid=app-ready]", "data-generation"));
}

async function waitForGeneration(page, n) {
  await page.waitForFunction(
    (n) => {
      const el = document.querySelector("[data-testid=app-ready]");
      return el && Number(el.dataset.generation) >= n && !document.querySelector("[data-testid=progress]");
    },
    n,
    { timeout: 120_000 },
  );
}

/** Waits until the page has started `n` workers (the assembling one and the pool). */
async function waitForWorkers(page, n) {
  const deadline = Date.now() + 30_000;
  while (page.workers().length < n) {
    assert.ok(Date.now() < deadline, `${page.workers().length} of ${n} workers started`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The worker with `members` pool workers wired to it, once it has them. */
async function waitForPool(workers, members) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const w of workers) {
      if ((await w.evaluate(() => self.crewMrvPoolMembers ?? 0)) >= members) return w;
    }
    assert.ok(Date.now() < deadline, `no worker has a pool of ${members}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=${testid}]`)]);
  return readFileSync(await dl.path());
}

/** Every download of the loaded sample set, all dates, by test id. */
async function outputs(size) {
  const app = await openApp({ path: `?pool=${size}` });
  try {
    await waitForReady(app);
    const { page } = app;
    await waitForWorkers(page, size);
    // Files handed over before the pool is wired would all be read by the
    // assembling worker, and the pool would not be what is compared.
    if (size > 1) await waitForPool(page.workers(), size - 1);
    const gen = await generation(page);
    await page.setInputFiles("[data-testid=file-input]", sampleFiles());
    await waitForGeneration(page, gen + 1);
    await page.click("[data-testid=filter-all-dates]");
    const out = { workers: page.workers().length };
    for (const id of ["download-co2", "download-summary", "download-sensitivity"]) {
      out[id] = await download(page, id);
    }
    await page.click("[data-testid=tab-files]");
    for (const id of ["download-files", "download-lab", "download-ops", "download-sql"]) {
      out[id] = await download(page, id);
    }
    await page.click("[data-testid=tab-qa]");
    out["download-qa"] = await download(page, "download-qa");
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
    return out;
  } finally {
    await app.close();
  }
}

test("a pool of three gives every download of one worker, byte for byte", async () => {
  const one = await outputs(1);
  const three = await outputs(3);
  assert.equal(one.workers, 1);
  assert.equal(three.workers, 3, "the assembling worker and two in the pool");
  const ids = Object.keys(one).filter((k) => k !== "workers");
  assert.equal(ids.length, 8);
  for (const id of ids) {
    assert.ok(one[id].length > 0, id);
    assert.ok(one[id].equals(three[id]), `${id} differs between a pool of 1 and of 3`);
  }
});

test("a pool worker that dies loses the file it was reading, named; the others load and a new worker takes its place", async () => {
  const app = await openApp({ path: "?pool=3" });
  try {
    await waitForReady(app);
    const { page } = app;
    await waitForWorkers(page, 3);
    // The assembling worker is the one the pool is wired to (the order of
    // page.workers() is not the order they were started in), and until it
    // has its pool it reads every file itself.
    const assembler = await waitForPool(page.workers(), 2);
    const pool = page.workers().filter((w) => w !== assembler);
    // The files go out largest first: the assembling worker reads the
    // largest itself and hands the next ones to the pool, so the second
    // largest is a pool worker's. Every worker traps on it for real, as an
    // out-of-memory abort would.
    const data = sampleFiles().filter((f) => !f.endsWith(".toml"));
    const bySize = [...data].sort((a, b) => statSync(b).size - statSync(a).size);
    const culprit = path.basename(bySize[1]);
    for (const w of [assembler, ...pool]) {
      await w.evaluate((name) => {
        self.crewMrvTrapOn = name;
      }, culprit);
    }
    const rest = sampleFiles().filter((f) => path.basename(f) !== culprit);
    const gen = await generation(page);
    await page.setInputFiles("[data-testid=file-input]", sampleFiles());
    await waitForGeneration(page, gen + 1);
    const notice = await page.textContent("[role=alert]");
    assert.ok(notice.includes(`stopped while reading ${culprit}`), notice);
    assert.ok(notice.includes("left out"), notice);
    // A pool worker died, not the assembling one, and was replaced.
    assert.ok(page.workers().includes(assembler), "the assembling worker lives on");
    await waitForWorkers(page, 3);
    assert.equal(page.workers().filter((w) => pool.includes(w)).length, 1, "one pool worker replaced");

    await expectLeftOut(page, culprit, rest);
    await page.click("[data-testid=tab-dashboard]");
    await page.click("[data-testid=filter-all-dates]");
    const all = cliSummary(rest).all_plants;
    assert.equal(Number((await page.textContent("[data-testid=kpi-total-raw]")).trim()), all.co2_removed_t);

    // The new pool worker works: the file, picked again without its trap, loads.
    for (const w of page.workers()) {
      await w.evaluate(() => {
        self.crewMrvTrapOn = undefined;
      });
    }
    const again = await generation(page);
    await page.setInputFiles("[data-testid=file-input]", bySize.slice(1, 6));
    await waitForGeneration(page, again + 1);
    await page.click("[data-testid=tab-files]");
    const after = await page.$$eval("[data-testid=file-row]", (r) => r.map((x) => x.dataset.file));
    assert.ok(after.includes(culprit), after.join(", "));
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});
