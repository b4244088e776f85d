// The harness itself: it must notice what the other tests rely on it to
// notice, or their "no errors, no outside requests" asserts prove nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openApp, waitForReady, isLocalUrl } from "./harness.mjs";

test("isLocalUrl accepts loopback and inline data only", () => {
  assert.ok(isLocalUrl("http://127.0.0.1:8080/app.wasm"));
  assert.ok(isLocalUrl("data:,"));
  assert.ok(isLocalUrl("blob:http://127.0.0.1:8080/0b7c"));
  assert.ok(!isLocalUrl("http://localhost.example.com/"));
  assert.ok(!isLocalUrl("https://cdn.plot.ly/plotly-3.0.1.min.js"));
  assert.ok(!isLocalUrl("http://127.0.0.1.nip.io/"));
  assert.ok(!isLocalUrl("not a url"));
});

test("the harness blocks and reports outside requests and records errors", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    await app.page.evaluate(() => fetch("does-not-exist.json"));
    await assert.rejects(app.page.goto("https://example.com/"), /ERR_BLOCKED_BY_CLIENT/);
    assert.deepEqual(app.outside, ["https://example.com/"]);
    assert.ok(app.errors.some((e) => /404/.test(e)), JSON.stringify(app.errors));
  } finally {
    await app.close();
  }
});
