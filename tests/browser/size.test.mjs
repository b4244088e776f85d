// Issue #11's budget over the built site (dist/, `make dist`): what a
// visitor downloads to use the app, the page's wasm and the processing
// worker's, stays under 1,000,000 bytes gzipped. The evidence worker's
// wasm (issue #15: bundles and their verification) is loaded only when a
// bundle is asked for or dropped, so it is reported beside the budget, not
// in it; evidence.test.mjs checks that it is not loaded before.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { distDir } from "./harness.mjs";

const BUDGET = 1_000_000;

function gzipped(name) {
  return gzipSync(readFileSync(path.join(distDir, name)), { level: 9 }).length;
}

test("page + processing worker wasm gzipped stay under 1,000,000 bytes; the lazy evidence worker is reported apart", () => {
  const html = readFileSync(path.join(distDir, "index.html"), "utf8");
  // The page's wasm is the one index.html preloads (its name carries a hash).
  const page = html.match(/id="app-wasm" href="\.\/([^"]+\.wasm)"/)?.[1];
  assert.ok(page, "index.html preloads the page's wasm");
  const wasm = readdirSync(distDir).filter((f) => f.endsWith(".wasm"));
  assert.ok(wasm.includes("worker_bg.wasm"), wasm.join(", "));
  assert.ok(wasm.includes("evidence_bg.wasm"), wasm.join(", "));
  // Nothing in index.html starts the evidence worker: only the page does, on use.
  assert.ok(!html.includes("evidence"), "index.html names no evidence file");
  const sizes = {
    page: gzipped(page),
    worker: gzipped("worker_bg.wasm"),
    evidence: gzipped("evidence_bg.wasm"),
  };
  const loaded = sizes.page + sizes.worker;
  console.log(
    `wasm gzipped: page ${sizes.page} + worker ${sizes.worker} = ${loaded} bytes (budget ${BUDGET}); ` +
      `evidence worker ${sizes.evidence} bytes, loaded only on use`,
  );
  assert.ok(loaded <= BUDGET, `page ${sizes.page} + worker ${sizes.worker} = ${loaded} > ${BUDGET}`);
});
