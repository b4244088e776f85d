// The build step behind the service worker (.ci/precache.mjs): its version
// follows every file's content and nothing else, and its icons are valid
// PNGs of the sizes the manifest names. No browser needed: this runs
// without dist/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, inflateSync } from "node:zlib";
import { precache, siteFiles, ICON_SIZES } from "../../.ci/precache.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

async function site() {
  const dir = await mkdtemp(path.join(tmpdir(), "crew-precache-"));
  await writeFile(path.join(dir, "sw.js"), await readFile(path.join(repo, "src/web/sw.js")));
  await writeFile(path.join(dir, "index.html"), "<!doctype html>\n");
  await mkdir(path.join(dir, "data"));
  await writeFile(path.join(dir, "data", "PLANT_A-OPS DATA-APR25.xlsx"), "one");
  await mkdir(path.join(dir, ".stage"));
  await writeFile(path.join(dir, ".stage", "scratch"), "not part of the site");
  return dir;
}

const buildLine = async (dir) =>
  JSON.parse((await readFile(path.join(dir, "sw.js"), "utf8")).match(/^const BUILD = (.*);$/m)[1]);

test("the worker's list is every file but itself, URL-encoded as the page asks, with a version over all contents and its code", async () => {
  const dir = await site();
  try {
    const first = await precache(dir);
    assert.deepEqual(await buildLine(dir), first);
    assert.deepEqual(
      first.files.map((f) => f.url),
      ["data/PLANT_A-OPS%20DATA-APR25.xlsx", "icons/icon-192.png", "icons/icon-512.png", "index.html"],
    );
    assert.deepEqual(await siteFiles(dir), [
      "data/PLANT_A-OPS DATA-APR25.xlsx",
      "icons/icon-192.png",
      "icons/icon-512.png",
      "index.html",
    ]);
    assert.match(first.version, /^[0-9a-f]{16}$/);

    // Again on its own output: the same (sw.js is not part of its version).
    const sw = await readFile(path.join(dir, "sw.js"));
    assert.deepEqual(await precache(dir), first);
    assert.ok(sw.equals(await readFile(path.join(dir, "sw.js"))));

    // One byte of one file: a new version, and so a new sw.js.
    await writeFile(path.join(dir, "data", "PLANT_A-OPS DATA-APR25.xlsx"), "One");
    const second = await precache(dir);
    assert.notEqual(second.version, first.version);
    assert.notEqual(second.files[0].sha256, first.files[0].sha256);
    assert.deepEqual(second.files.slice(1), first.files.slice(1));

    // The worker's own code alone: a new version too, the same files.
    await writeFile(path.join(dir, "sw.js"), `${await readFile(path.join(dir, "sw.js"), "utf8")}// changed\n`);
    const third = await precache(dir);
    assert.notEqual(third.version, second.version);
    assert.deepEqual(third.files, second.files);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a worker script without its BUILD line is an error, not a worker that caches nothing", async () => {
  const dir = await site();
  try {
    await writeFile(path.join(dir, "sw.js"), "self.addEventListener('fetch', () => {});\n");
    await assert.rejects(precache(dir), /no "const BUILD = \.\.\.;" line/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Checks the PNG's structure (signature, chunk order, each chunk's CRC) and returns its header and pixels. */
function readPng(bytes) {
  assert.ok(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])));
  const chunks = [];
  for (let at = 8; at < bytes.length; ) {
    const len = bytes.readUInt32BE(at);
    chunks.push({ type: bytes.toString("latin1", at + 4, at + 8), data: bytes.subarray(at + 8, at + 8 + len) });
    assert.equal(bytes.readUInt32BE(at + 8 + len), crc32(bytes.subarray(at + 4, at + 8 + len)));
    at += 12 + len;
  }
  assert.deepEqual(chunks.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raw = inflateSync(chunks[1].data);
  return { width, height, depth: ihdr[8], colour: ihdr[9], rawLength: raw.length, raw };
}

test("the icons are the manifest's: RGBA PNGs of 192 and 512 pixels, opaque", async () => {
  const dir = await site();
  try {
    await precache(dir);
    const manifest = JSON.parse(await readFile(path.join(repo, "src/web/manifest.webmanifest"), "utf8"));
    const named = new Set(manifest.icons.map((i) => `${i.src} ${i.sizes}`));
    assert.deepEqual([...named].sort(), ICON_SIZES.map((s) => `icons/icon-${s}.png ${s}x${s}`).sort());
    for (const size of ICON_SIZES) {
      const png = readPng(await readFile(path.join(dir, "icons", `icon-${size}.png`)));
      assert.equal(png.width, size);
      assert.equal(png.height, size);
      assert.equal(png.depth, 8);
      assert.equal(png.colour, 6);
      assert.equal(png.rawLength, (size * 4 + 1) * size);
      // Every alpha byte (filter 0 rows): a launcher draws the icon as is.
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          assert.equal(png.raw[y * (size * 4 + 1) + 1 + x * 4 + 3], 255);
        }
      }
    }
    assert.equal(manifest.display, "standalone");
    assert.equal(manifest.start_url, "./");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
