// After start, before any file is dropped, the workers read a few sample
// files and the page draws one chart off-screen, so that V8 has compiled
// the code a user's first files and first report run (README,
// Performance). Both must happen, show nothing, and leave nothing behind.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openApp, waitForReady } from "./harness.mjs";

// Runs in the page before anything else: notes every Plotly chart added.
function watchCharts() {
  window.__chartsSeen = 0;
  new MutationObserver((changes) => {
    for (const c of changes) {
      for (const n of c.addedNodes) {
        if (n.nodeType === 1 && (n.matches(".js-plotly-plot") || n.querySelector(".js-plotly-plot"))) {
          window.__chartsSeen += 1;
        }
      }
      if (c.type === "attributes" && c.target.classList?.contains("js-plotly-plot")) {
        window.__chartsSeen += 1;
      }
    }
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
}

test("after start the workers read sample files and the page draws a chart off-screen, then nothing is left", async () => {
  const app = await openApp({ init: watchCharts });
  try {
    await waitForReady(app);
    const { page } = app;
    // The warm-up chart is removed five seconds after it was drawn.
    await page.waitForFunction(() => window.__chartsSeen > 0, null, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelectorAll(".js-plotly-plot").length === 0, null, {
      timeout: 15_000,
    });
    const fetched = app.requests.filter((u) => /\/data\/.+\.(xlsx|xls|csv)$/i.test(u));
    assert.ok(
      fetched.some((u) => /\.xlsx$/i.test(u)) && fetched.some((u) => /\.xls$/i.test(u)) && fetched.some((u) => /\.csv$/i.test(u)),
      `the workers read a workbook of each format and a CSV: ${fetched.join(", ")}`,
    );
    // Nothing of it shows: no report, no notice, no chart.
    assert.equal(await page.locator("[data-testid=chart-co2]").count(), 0);
    assert.equal(await page.getAttribute("[data-testid=app-ready]", "data-generation"), "0");
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});
