// Shared set-up for the browser tests: serve dist/ on loopback, open it in
// headless Chromium, and watch everything the page does. Files a user loads
// must never leave the machine, so any request to a host other than
// 127.0.0.1 is blocked and recorded as a failure.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "../../.ci/serve.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..");
export const distDir = process.env.CREW_DIST ?? path.join(repoRoot, "dist");
export const artifactsDir = path.join(repoRoot, "tests", "artifacts");
const fixturesDir = path.join(here, "fixtures");

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const LOCAL_HOST = "127.0.0.1";

/** True when a URL stays on this machine: our loopback server or inline data. */
export function isLocalUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol === "data:" || url.protocol === "blob:" || url.protocol === "about:") {
    return true;
  }
  return url.hostname === LOCAL_HOST;
}

/**
 * Serves dist/ (under `base`, default "/"), launches Chromium and opens the
 * app. Returns:
 *   page      the Playwright page
 *   url       the app's address
 *   errors    console errors and uncaught page errors, as strings
 *   requests  every URL the page (and its workers) asked for, in order
 *   swRequests  every URL the service worker fetched itself (its install
 *             downloads the whole build in the background, once the app runs)
 *   outside   what would have left the machine, from either
 *   context, server  the browser context and the static server
 *   close()   shuts browser and server down; call it in a finally block
 * `init` is a function run in the page before any of its scripts (e.g. to
 * install performance observers); `root` serves another directory than dist/;
 * `serviceWorkers: "block"` keeps the app's service worker from installing
 * (its background download of the build would share the CPU with what a
 * benchmark measures).
 * `profile: true` runs Chromium with a profile on disk (a temp dir) instead
 * of the default in-memory one, which Chromium treats as incognito (no app
 * install there).
 */
export async function openApp({
  base = "/",
  path: subPath = "",
  init = null,
  root = distDir,
  profile = false,
  serviceWorkers = "allow",
} = {}) {
  const server = await startServer({
    root,
    host: LOCAL_HOST,
    port: 0,
    base,
    fixtures: fixturesDir,
  });
  let browser;
  let profileDir;
  try {
    const launch = { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS };
    const options = { viewport: { width: 1280, height: 800 }, serviceWorkers };
    let context;
    if (profile) {
      profileDir = await mkdtemp(path.join(tmpdir(), "crew-profile-"));
      context = await chromium.launchPersistentContext(profileDir, { ...launch, ...options });
      browser = context;
    } else {
      browser = await chromium.launch(launch);
      context = await browser.newContext(options);
    }
    const errors = [];
    const requests = [];
    const swRequests = [];
    const outside = [];

    // Block rather than only record: a leak must not happen even once.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (isLocalUrl(url)) {
        return route.continue();
      }
      outside.push(url);
      return route.abort("blockedbyclient");
    });
    context.on("request", (request) =>
      (request.serviceWorker() ? swRequests : requests).push(request.url()),
    );

    if (init) {
      await context.addInitScript(init);
    }
    const page = await context.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error") {
        errors.push(`console: ${msg.text()}`);
      }
    });
    page.on("pageerror", (err) => errors.push(`page: ${err.message}`));
    page.on("websocket", (ws) => {
      requests.push(ws.url());
      if (!isLocalUrl(ws.url())) {
        outside.push(ws.url());
      }
    });

    const url = server.url + subPath;
    await page.goto(url, { waitUntil: "load" });

    const close = async () => {
      await browser.close().catch(() => {});
      await server.close();
      if (profileDir) {
        await rm(profileDir, { recursive: true, force: true });
      }
    };
    return { page, url, errors, requests, swRequests, outside, context, server, close };
  } catch (err) {
    await browser?.close().catch(() => {});
    await server.close();
    if (profileDir) {
      await rm(profileDir, { recursive: true, force: true });
    }
    throw err;
  }
}

/** Waits until the app has mounted, failing with the collected errors if it never does. */
export async function waitForReady(app, timeout = 30_000) {
  try {
    await app.page.waitForSelector("[data-testid=app-ready]", { timeout });
  } catch (err) {
    throw new Error(`app never became ready; errors: ${JSON.stringify(app.errors)}`, {
      cause: err,
    });
  }
}

/**
 * Loads tests/browser/fixtures/<name> as an ordinary <script> and waits for
 * it. Code run through page.evaluate is exempt from the page's CSP; a
 * fixture script is not, so it shows what the app's own code may do.
 */
export async function runFixtureScript(page, name) {
  await page.evaluate(
    (src) =>
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`could not load ${src}`));
        document.head.appendChild(script);
      }),
    `__fixtures__/${name}`,
  );
}

/** Saves a full-page screenshot to tests/artifacts/<name>.png and returns its path. */
export async function screenshot(page, name) {
  await mkdir(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * After a worker died reading `culprit`: the Files tab lists `kept` (file
 * paths) as read and the culprit once as left out, with why. Leaves the
 * page on the Files tab.
 */
export async function expectLeftOut(page, culprit, kept) {
  const { strict: assert } = await import("node:assert");
  await page.click("[data-testid=tab-files]");
  const names = await page.$$eval("[data-testid=file-row]", (r) => r.map((x) => x.dataset.file));
  assert.deepEqual([...names].sort(), kept.map((f) => path.basename(f)).sort());
  // The file left out stays listed, with why, until forgotten.
  const leftOut = page.locator("[data-testid=left-out-row]");
  assert.equal(await leftOut.count(), 1);
  assert.equal(await leftOut.getAttribute("data-file"), culprit);
  assert.match(await leftOut.textContent(), /processing worker stopped/);
}
