// Starts the wasm app without an inline script, so the page's CSP can
// forbid inline scripts. Trunk writes the hashed file names into the two
// preload links (see pattern_script in Trunk.toml); we read them back here.
// It then installs the service worker (src/web/sw.js) that makes the app
// work offline, and says so when a visit brings a new build.

// The build this page runs, as the service worker that serves it says; the
// last build this browser ran is kept in localStorage so a change shows.
const SEEN = "crew-mrv-build";

const js = document.getElementById("app-js");
const wasm = document.getElementById("app-wasm");
if (!js || !wasm) {
  throw new Error("boot.js: app preload links missing; was index.html built by Trunk?");
}
const { default: init } = await import(js.href);
await init({ module_or_path: wasm.href });

// Only once the app runs: installing the service worker downloads the whole
// build again into its cache, which must not compete with the first start.
startOffline();

function startOffline() {
  if (!("serviceWorker" in navigator)) {
    return;
  }
  const sw = navigator.serviceWorker;
  let controller = sw.controller;
  sw.addEventListener("controllerchange", () => {
    // A page running without a worker (the first visit) is taken by the
    // first one installed. A page that had one keeps running the build it
    // started with, while the worker now serves a newer one.
    if (controller) {
      notice("A newer version of CREW MRV is installed. Reload to use it.");
    }
    controller = sw.controller;
    remember(sw.controller);
  });
  remember(sw.controller);
  // Relative, so the app also works from a sub-path; "none" makes the
  // browser check sw.js itself on every visit, never an HTTP-cached copy.
  sw.register("sw.js", { updateViaCache: "none" }).catch((err) => {
    console.warn(`CREW MRV will not work offline: ${err.message}`);
  });
}

async function remember(worker) {
  if (!worker) {
    return;
  }
  const version = await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    worker.postMessage({ type: "version" }, [channel.port2]);
  });
  if (typeof version !== "string") {
    return;
  }
  document.documentElement.dataset.build = version;
  let seen = null;
  try {
    seen = localStorage.getItem(SEEN);
    localStorage.setItem(SEEN, version);
  } catch {
    // Storage refused (a private window's quota): no notice, nothing else lost.
  }
  if (seen && seen !== version) {
    notice(`CREW MRV was updated (build ${version.slice(0, 8)}).`);
  }
}

function notice(text) {
  let box = document.querySelector("[data-testid=app-updated]");
  if (!box) {
    box = document.createElement("div");
    box.className = "update-notice";
    box.setAttribute("role", "status");
    box.dataset.testid = "app-updated";
    const message = document.createElement("span");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "button small";
    close.textContent = "Dismiss";
    close.addEventListener("click", () => box.remove());
    box.append(message, close);
    document.body.append(box);
  }
  box.firstChild.textContent = text;
}
