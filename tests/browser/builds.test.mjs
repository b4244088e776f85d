// The Makefile's `dist` runs Trunk's WebAssembly builds itself first (so a
// compiler error ends the log as cargo printed it, see the Makefile), from
// a list that repeats index.html's rust links. A link left out of the list
// would be built by Trunk alone again, one out of step built twice: the
// two must name the same builds.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./harness.mjs";

test("the Makefile's WebAssembly builds are index.html's rust links", () => {
  const html = readFileSync(path.join(repoRoot, "index.html"), "utf8");
  const links = [...html.matchAll(/<link\s+data-trunk\s+rel="rust"[^>]*>/g)].map(([tag]) => {
    const attr = (name) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
    return `${attr("href")}:${attr("data-cargo-profile-release")}:${attr("data-bin")}`;
  });
  const makefile = readFileSync(path.join(repoRoot, "Makefile"), "utf8");
  const list = makefile.match(/^WASM_BUILDS :=((?:.*\\\n)*.*)$/m)?.[1];
  assert.ok(list, "the Makefile has a WASM_BUILDS list");
  const builds = list.replace(/\\\n/g, " ").trim().split(/\s+/);
  assert.ok(links.length >= 3, links.join(", "));
  assert.deepEqual([...builds].sort(), [...links].sort());
});
