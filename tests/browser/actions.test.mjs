// Issue 16: Clear all, remove, re-add, policy and filter changes in any
// order must leave no console error (a disposed reactive value read after
// its owner is gone panics as "already disposed", then `unreachable`). A
// seeded random sequence of user actions, property-style: a failure names
// its seed and the actions so far, and the same seed replays it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { openApp, waitForReady, repoRoot } from "./harness.mjs";

const dataDir = path.join(repoRoot, "data");
const sampleFiles = () =>
  JSON.parse(readFileSync(path.join(dataDir, "manifest.json"), "utf8")).files.map((f) =>
    path.join(dataDir, f.name),
  );

/** mulberry32: a small seeded generator, so a failing order can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const exists = async (page, sel) => (await page.locator(sel).count()) > 0;

async function clickIf(page, sel) {
  if (await exists(page, sel)) {
    await page.locator(sel).first().click({ timeout: 5_000 }).catch(() => {});
  }
}

const ACTIONS = {
  "add some files": async (page, r) => {
    const all = sampleFiles();
    const some = all.filter(() => r() < 0.5);
    await page.setInputFiles("[data-testid=file-input]", some.length ? some : all.slice(0, 3));
  },
  "load samples": (page) => clickIf(page, "[data-testid=load-samples]"),
  "clear all": (page) => clickIf(page, "[data-testid=clear]"),
  "undo the last removal": (page) => clickIf(page, "[data-testid=undo]"),
  "remove a file": async (page) => {
    await clickIf(page, "[data-testid=tab-files]");
    await clickIf(page, "[data-testid=file-row] td.remove button");
  },
  "policy first": (page) => page.selectOption("[data-testid=policy]", "first").catch(() => {}),
  "policy mean": (page) => page.selectOption("[data-testid=policy]", "mean").catch(() => {}),
  "dashboard tab": (page) => clickIf(page, "[data-testid=tab-dashboard]"),
  "report tab, by quarter": async (page) => {
    await clickIf(page, "[data-testid=tab-report]");
    await clickIf(page, "[data-testid=report-by-quarter]");
  },
  "qa tab": (page) => clickIf(page, "[data-testid=tab-qa]"),
  "all dates": async (page) => {
    await clickIf(page, "[data-testid=tab-dashboard]");
    await clickIf(page, "[data-testid=filter-all-dates]");
  },
  "a plant": async (page, r) => {
    if (await exists(page, "[data-testid=filter-plant]")) {
      const values = await page.$$eval("[data-testid=filter-plant] option", (o) => o.map((x) => x.value));
      const v = values[Math.floor(r() * values.length)] ?? "";
      await page.selectOption("[data-testid=filter-plant]", v).catch(() => {});
    }
  },
  "toggle a flag": async (page, r) => {
    const boxes = page.locator("[data-testid^=flag-]");
    const n = await boxes.count();
    if (n > 0) await boxes.nth(Math.floor(r() * n)).click({ timeout: 5_000 }).catch(() => {});
  },
  "wait for the worker": (page) =>
    page
      .waitForFunction(() => !document.querySelector("[data-testid=progress]"), null, { timeout: 60_000 })
      .catch(() => {}),
};

// CREW_ACTION_SEEDS=1,2,3 tries other orders.
const seeds = (process.env.CREW_ACTION_SEEDS ?? "16,1616").split(",").map(Number);
for (const seed of seeds) {
  test(`30 random user actions (seed ${seed}) leave no console error`, async () => {
    const app = await openApp();
    try {
      await waitForReady(app);
      const { page } = app;
      const r = rng(seed);
      const names = Object.keys(ACTIONS);
      const done = [];
      await ACTIONS["load samples"](page, r);
      for (let i = 0; i < 30; i++) {
        const name = names[Math.floor(r() * names.length)];
        done.push(name);
        await ACTIONS[name](page, r);
        assert.deepEqual(app.errors, [], `seed ${seed} after: ${done.join(", ")}`);
      }
      await ACTIONS["wait for the worker"](page, r);
      // Let tasks queued by the last actions run.
      await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
      await page.waitForTimeout(300);
      assert.deepEqual(app.errors, [], `seed ${seed}: ${done.join(", ")}`);
    } finally {
      await app.close();
    }
  });
}
