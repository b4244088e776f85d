// The static server sends the page's Content-Security-Policy as an HTTP
// header (a <meta> policy does not cover the worker's scripts and cannot
// forbid framing), on every response, the same policy as the tag plus
// frame-ancestors 'none'. No browser needed: this runs without dist/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, cspHeader } from "../../.ci/serve.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function metaPolicy(html) {
  return html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]*)"/)[1];
}

test("every response carries the page's policy and frame-ancestors 'none'", async () => {
  const root = await mkdtemp(path.join(tmpdir(), "crew-serve-"));
  const srv = await (async () => {
    await copyFile(path.join(repo, "index.html"), path.join(root, "index.html"));
    await writeFile(path.join(root, "worker.js"), "self.onmessage = () => {};\n");
    return startServer({ root });
  })();
  try {
    const html = await readFile(path.join(repo, "index.html"), "utf8");
    const want = `${metaPolicy(html)}; frame-ancestors 'none'`;
    for (const p of ["", "index.html", "worker.js", "missing.js"]) {
      const res = await fetch(srv.url + p);
      await res.arrayBuffer();
      assert.equal(res.headers.get("content-security-policy"), want, p || "/");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", p || "/");
    }
  } finally {
    await srv.close();
    await rm(root, { recursive: true, force: true });
  }
});

test("the README's CloudFront policy is the served one", async () => {
  const html = await readFile(path.join(repo, "index.html"), "utf8");
  const readme = await readFile(path.join(repo, "README.md"), "utf8");
  const block = readme.match(/"ContentSecurityPolicy":\s*"([^"]*)"/);
  assert.ok(block, "README gives a CloudFront ContentSecurityPolicy");
  assert.equal(block[1], cspHeader(html));
});

test("a page without a policy tag gets no policy header", () => {
  assert.equal(cspHeader("<html><head></head></html>"), null);
  assert.equal(
    cspHeader('<meta http-equiv="Content-Security-Policy" content="default-src \'self\';" />'),
    "default-src 'self'; frame-ancestors 'none'",
  );
});
