// The built site loads in a real browser, mounts, logs no errors and makes
// no request that leaves the machine.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openApp, waitForReady, screenshot } from "./harness.mjs";

test("the app mounts with no errors and no outside requests", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    assert.equal(await app.page.title(), "CREW MRV");
    assert.equal((await app.page.textContent("h1"))?.trim(), "CREW MRV");
    // Plotly must be loaded before the wasm so the UI can draw charts.
    assert.equal(await app.page.evaluate(() => typeof window.Plotly), "object");
    await screenshot(app.page, "smoke");

    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
    assert.ok(app.requests.some((url) => url.endsWith(".wasm")), "the wasm was requested");
  } finally {
    await app.close();
  }
});

test("the app works from a sub-path, as under an S3 prefix", async () => {
  const app = await openApp({ base: "/some/prefix/" });
  try {
    await waitForReady(app);
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});

test("data/manifest.json is served alongside the app", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    const manifest = await app.page.evaluate(async () => {
      const res = await fetch("data/manifest.json");
      return { status: res.status, body: await res.json() };
    });
    assert.equal(manifest.status, 200);
    assert.ok(Array.isArray(manifest.body.files));
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});
