// CREW MRV's service worker: after one visit the app starts from this
// browser's cache, without the network, and a new deployment replaces the
// cached one whole, never file by file.
//
// One cache per build, named after the build's version. A build is
// installed only when every one of its files has been fetched and matches
// the SHA-256 the build listed (a server halfway through a deployment fails
// the install and the cached build stays), and the old build's cache is
// deleted only once the new one is active. Pages are served cache first, so
// a page and everything it loads later (the workers, the sample data) come
// from the one build it started with.

// Filled in at build time by .ci/precache.mjs (Trunk's post_build hook): the
// version and every file of dist/ with its SHA-256. Unbuilt, it caches nothing.
const BUILD = { version: "unbuilt", files: [] };

const PREFIX = "crew-mrv-";
const CACHE = PREFIX + BUILD.version;

const urlOf = (file) => new URL(file.url, self.location.href).href;
const PRECACHED = new Set(BUILD.files.map(urlOf));

self.addEventListener("install", (event) => event.waitUntil(install()));
self.addEventListener("activate", (event) => event.waitUntil(activate()));
self.addEventListener("message", onMessage);
self.addEventListener("fetch", onFetch);

async function install() {
  const fetched = await Promise.all(
    BUILD.files.map(async (file) => {
      const url = urlOf(file);
      // "no-cache" revalidates with the server, so an older copy in the HTTP
      // cache is never taken for this build's file.
      const res = await fetch(new Request(url, { cache: "no-cache" }));
      if (!res.ok) {
        throw new Error(`${file.url}: HTTP ${res.status}`);
      }
      const digest = await crypto.subtle.digest("SHA-256", await res.clone().arrayBuffer());
      if (hex(digest) !== file.sha256) {
        throw new Error(`${file.url} is not this build's file`);
      }
      return [url, res];
    }),
  );
  // Left from an attempt that failed halfway.
  await caches.delete(CACHE);
  const cache = await caches.open(CACHE);
  await Promise.all(fetched.map(([url, res]) => cache.put(url, res)));
}

async function activate() {
  const old = (await caches.keys()).filter((name) => name.startsWith(PREFIX) && name !== CACHE);
  await Promise.all(old.map((name) => caches.delete(name)));
  // On the first install, take the page that registered us, so it already
  // works offline. Not on an update: the pages still open were served by
  // the old worker and finish with it.
  if (old.length === 0) {
    await self.clients.claim();
  }
}

function onMessage(event) {
  const kind = event.data?.type;
  if (kind === "version") {
    event.ports[0]?.postMessage(BUILD.version);
  } else if (kind === "skip-waiting") {
    self.skipWaiting();
  }
}

function onFetch(event) {
  const req = event.request;
  if (req.method !== "GET") {
    return;
  }
  const url = new URL(req.url);
  url.search = "";
  url.hash = "";
  if (req.mode === "navigate") {
    event.respondWith(navigate(req, url));
  } else if (url.href === UPDATE_SCRIPT) {
    event.respondWith(updateScript());
  } else if (PRECACHED.has(url.href)) {
    event.respondWith(fromCache(req, url.href));
  }
  // Anything else (not part of the app) goes to the network untouched.
}

async function fromCache(req, key) {
  const hit = await caches.match(key, { cacheName: CACHE });
  // Only if the browser dropped the cache under us: the network is all there is.
  return hit ?? fetch(req);
}

async function navigate(req, url) {
  if (await handOver(req)) {
    return updatingPage();
  }
  const key = url.pathname.endsWith("/") ? `${url.href}index.html` : url.href;
  return PRECACHED.has(key) ? fromCache(req, key) : fetch(req);
}

// Set once this worker has asked its successor to take over; from then on
// every page it is asked for is the update page, until the successor serves.
let handingOver = false;

/**
 * A newer build that has installed completely waits until no page uses
 * this one. A reload of the only page using it is that moment: the old page
 * is going away and the new one has not started. A new tab beside an open
 * one is not (that page keeps the build it started with), nor is a
 * navigation that is not a reload.
 *
 * The answer is a page without the app, which asks the successor to take
 * over and loads the address again once it serves. The page asks, not this
 * worker: a worker that skips waiting while the old one is still answering
 * starts only on Chromium's next check, about a second later (measured).
 */
async function handOver(req) {
  const next = self.registration.waiting;
  if (!next) {
    return false;
  }
  if (!handingOver) {
    if (req.cache !== "no-cache" && req.cache !== "reload") {
      return false;
    }
    const pages = await self.clients.matchAll({ type: "window" });
    if (pages.length > 1) {
      return false;
    }
    handingOver = true;
  }
  return true;
}

// The update page's one script, served from here so that page needs no
// inline script either. It reloads as soon as the new worker controls the
// page, or at once if it already does; the meta refresh is the fallback.
const UPDATE_SCRIPT = new URL("sw-update.js", self.location.href).href;
const UPDATE_JS = `const sw = navigator.serviceWorker;
sw.addEventListener("controllerchange", () => location.reload());
sw.getRegistration().then((r) => {
  if (r && r.waiting) {
    r.waiting.postMessage({ type: "skip-waiting" });
  } else {
    location.reload();
  }
});
`;

function updatingPage() {
  const html =
    '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2">' +
    `<title>CREW MRV</title><p>Updating CREW MRV…</p><script src="${UPDATE_SCRIPT}"></script>`;
  return new Response(html, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": "default-src 'none'; script-src 'self'; frame-ancestors 'none'",
    },
  });
}

function updateScript() {
  return new Response(UPDATE_JS, { headers: { "Content-Type": "text/javascript; charset=utf-8" } });
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}
