// Starts the wasm app without an inline script, so the page's CSP can
// forbid inline scripts. Trunk writes the hashed file names into the two
// preload links (see pattern_script in Trunk.toml); we read them back here.
const js = document.getElementById("app-js");
const wasm = document.getElementById("app-wasm");
if (!js || !wasm) {
  throw new Error("boot.js: app preload links missing; was index.html built by Trunk?");
}
const { default: init } = await import(js.href);
await init({ module_or_path: wasm.href });
