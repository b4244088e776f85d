// The Content-Security-Policy keeps the page on its own origin, and the
// libraries we ship must work under it (Plotly must not need eval).

import { test } from "node:test";
import assert from "node:assert/strict";
import { openApp, waitForReady, runFixtureScript } from "./harness.mjs";

test("page code cannot eval or reach other origins, and Plotly still draws", async () => {
  const app = await openApp();
  try {
    await waitForReady(app);
    await runFixtureScript(app.page, "csp-probe.js");
    const probe = await app.page.evaluate(() => window.__cspProbe);

    assert.equal(probe.evalBlocked, true, "eval must be blocked");
    assert.equal(probe.outsideFetchBlocked, true, "fetch to another origin must be blocked");
    assert.equal(probe.plotly, "drawn");
    assert.ok((await app.page.locator("#csp-probe-plot .main-svg").count()) > 0);
    // The two refusals we provoked, and nothing else (in particular nothing
    // from Plotly).
    assert.deepEqual(probe.violations.sort(), ["connect-src https://example.com/", "script-src eval"].sort());
    // Both the tag and the server's header were in force (the header is
    // what covers the worker and forbids framing).
    assert.equal(probe.policies.length, 2, JSON.stringify(probe.policies));
    assert.ok(
      probe.policies.some((p) => p.endsWith("frame-ancestors 'none'")),
      JSON.stringify(probe.policies),
    );
    assert.ok(
      app.errors.every((e) => /Content Security Policy/i.test(e)),
      `unexpected errors: ${JSON.stringify(app.errors)}`,
    );
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});
