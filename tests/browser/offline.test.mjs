// Offline and instant (issue #18): after one visit the service worker
// (src/web/sw.js) serves the whole app from this browser's cache, so it
// starts without the network and reads the sample set; the site is
// installable; and a new build replaces the cached one whole on the next
// visit, with a notice. The second visit's time to interactive is printed
// for the README, not asserted (timings on a shared machine vary).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFile, cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openApp, waitForReady, distDir, screenshot } from "./harness.mjs";
import { precache, siteFiles } from "../../.ci/precache.mjs";

// Runs in every document before its scripts: when the app became
// interactive, in ms from the start of that navigation.
function observe() {
  new MutationObserver(() => {
    if (window.__readyAt === undefined && document.querySelector("[data-testid=app-ready]")) {
      window.__readyAt = performance.now();
    }
  }).observe(document, { childList: true, subtree: true });
}

/** The build the page runs once a service worker controls it (boot.js writes it on <html>). */
async function controlledBuild(page) {
  await page.waitForFunction(
    () => navigator.serviceWorker.controller !== null && document.documentElement.dataset.build,
    null,
    { timeout: 60_000 },
  );
  return page.evaluate(() => document.documentElement.dataset.build);
}

async function reloadReady(app) {
  await app.page.reload();
  await waitForReady(app);
  return app.page.evaluate(() => window.__readyAt);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test("after one visit the app is installable, starts from the cache and reads the sample set with the network off", async () => {
  const app = await openApp({ init: observe, profile: true });
  try {
    await waitForReady(app);
    const firstVisit = await app.page.evaluate(() => window.__readyAt);
    const build = await controlledBuild(app.page);
    const installed = (await app.page.evaluate(() => performance.now())) - firstVisit;
    assert.match(build, /^[0-9a-f]{16}$/);

    // Chromium's own installability check: manifest, icons, a worker with a fetch handler.
    const cdp = await app.context.newCDPSession(app.page);
    const manifest = await cdp.send("Page.getAppManifest");
    assert.deepEqual(manifest.errors, [], JSON.stringify(manifest.errors));
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    assert.deepEqual(installabilityErrors, [], JSON.stringify(installabilityErrors));

    // The worker cached every file of the build, under the build's version.
    const cached = await app.page.evaluate(async () => {
      const names = await caches.keys();
      const keys = names.length === 1 ? await (await caches.open(names[0])).keys() : [];
      return { names, urls: keys.map((r) => r.url) };
    });
    assert.deepEqual(cached.names, [`crew-mrv-${build}`]);
    const expected = (await siteFiles(distDir)).map((f) => new URL(f.split("/").map(encodeURIComponent).join("/"), app.url).href);
    assert.deepEqual(cached.urls.sort(), expected.sort());

    // Second visits, online: everything from the cache.
    const online = [];
    for (let i = 0; i < 5; i++) {
      online.push(await reloadReady(app));
    }

    // The network off: offline to the browser, and no server either.
    await app.context.setOffline(true);
    await app.server.close();
    const offline = [];
    for (let i = 0; i < 3; i++) {
      offline.push(await reloadReady(app));
    }
    assert.equal(await app.page.title(), "CREW MRV");
    await app.page.click("[data-testid=load-samples]");
    await app.page.waitForFunction(
      () => {
        const el = document.querySelector("[data-testid=app-ready]");
        return el && Number(el.dataset.generation) >= 1 && !document.querySelector("[data-testid=progress]");
      },
      null,
      { timeout: 60_000 },
    );
    await app.page.waitForSelector("[data-testid=chart-co2] .main-svg");
    assert.match((await app.page.textContent("[data-testid=kpi-total]")) ?? "", /^\d+\.\d{3} t$/);
    await screenshot(app.page, "offline");

    console.log(
      `time to interactive: first visit ${firstVisit.toFixed(0)} ms (the service worker installed ` +
        `${installed.toFixed(0)} ms later); second visit from the service worker's cache ` +
        `${median(online).toFixed(0)} ms online (median of ${online.length}: ${online.map((t) => t.toFixed(0)).join(", ")}), ` +
        `${median(offline).toFixed(0)} ms offline (${offline.map((t) => t.toFixed(0)).join(", ")})`,
    );
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
  }
});

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

test("a new build replaces the cached one whole on the next visit, with a notice", async () => {
  // A copy of the build that the test turns into the next one.
  const root = await mkdtemp(path.join(tmpdir(), "crew-offline-"));
  await cp(distDir, root, { recursive: true });
  const app = await openApp({ root });
  try {
    const { page } = app;
    await waitForReady(app);
    const before = await controlledBuild(page);
    assert.equal(await page.locator("[data-testid=app-updated]").count(), 0, "no notice on a first visit");
    const marker = () => page.evaluate(() => getComputedStyle(document.querySelector("h1"), "::after").content);
    assert.equal(await marker(), "none");

    // The next build changes one file in place (same name, new content, as
    // the workers' unhashed files do; index.html gets the stylesheet's new
    // integrity hash, as Trunk writes it) and gets its new file list.
    const css = (await readdir(root)).find((f) => /^main-.*\.css$/.test(f));
    assert.ok(css, "the build has its stylesheet");
    await appendFile(path.join(root, css), '\nh1::after { content: " (next build)"; }\n');
    const html = path.join(root, "index.html");
    const integrity = `sha384-${createHash("sha384").update(await readFile(path.join(root, css))).digest("base64")}`;
    const page0 = await readFile(html, "utf8");
    const page1 = page0.replace(new RegExp(`(href="\\./${css}" integrity=")[^"]*`), `$1${integrity}`);
    assert.notEqual(page1, page0, "index.html names the stylesheet with its hash");
    await writeFile(html, page1);
    const { version: next } = await precache(root);
    assert.notEqual(next, before);

    // This visit still runs the cached build, whole; the next one installs meanwhile.
    await page.reload();
    await waitForReady(app);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.build), before);
    assert.equal(await marker(), "none");
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      while (!registration.waiting) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    // The next visit runs the new build, says so, and nothing of the old one is left.
    await page.reload();
    await waitForReady(app);
    assert.equal(await controlledBuild(page), next);
    assert.equal(await marker(), '" (next build)"');
    const notice = page.locator("[data-testid=app-updated]");
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? "", new RegExp(`updated \\(build ${next.slice(0, 8)}\\)`));
    assert.deepEqual(await page.evaluate(() => caches.keys()), [`crew-mrv-${next}`]);
    // Every file the page can ask for is the new build's, byte for byte.
    const files = await siteFiles(root);
    const served = await page.evaluate(async (urls) => {
      const out = [];
      for (const url of urls) {
        const res = await fetch(url);
        const digest = await crypto.subtle.digest("SHA-256", await res.arrayBuffer());
        out.push(Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(""));
      }
      return out;
    }, files.map((f) => f.split("/").map(encodeURIComponent).join("/")));
    for (const [i, file] of files.entries()) {
      assert.equal(served[i], sha256(await readFile(path.join(root, file))), file);
    }
    await notice.getByRole("button", { name: "Dismiss" }).click();
    assert.equal(await notice.count(), 0);

    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.outside, []);
  } finally {
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
});
