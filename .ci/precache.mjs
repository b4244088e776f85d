// Makes a built site (dist/) work offline: draws the app's icons, then
// writes into dist/sw.js the build's file list with each file's SHA-256 and
// a version that is a hash over all of them. Any change to any file gives a
// new version, hence a new sw.js, which is what makes browsers install the
// new build (they compare the worker script byte for byte).
//
// Run by Trunk after every build (the post_build hook in Trunk.toml, on its
// staging directory), or by hand:  node .ci/precache.mjs DIR
// Running it again on the same directory gives the same result.

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

export const SW_FILE = "sw.js";
// The one line of src/web/sw.js this script replaces.
const BUILD_LINE = /^const BUILD = .*;$/m;
export const ICON_SIZES = [192, 512];

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** Every file under `dir` as a URL path relative to it, sorted; sw.js itself and dot files left out. */
export async function siteFiles(dir) {
  const out = [];
  const walk = async (sub) => {
    for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      // dist/.stage is Trunk's scratch space, not part of the site.
      if (entry.name.startsWith(".")) {
        continue;
      }
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        await walk(rel);
      } else if (entry.isFile() && rel !== SW_FILE) {
        out.push(rel);
      }
    }
  };
  await walk("");
  return out.sort();
}

/**
 * Writes the icons, then the list into `dir`/sw.js. Returns { version, files }.
 * A file's URL encodes each path segment as the page does when it fetches a
 * sample (encodeURIComponent), so the cache is keyed by the URL asked for.
 */
export async function precache(dir) {
  await writeIcons(dir);
  const files = [];
  for (const rel of await siteFiles(dir)) {
    const bytes = await readFile(path.join(dir, rel));
    files.push({
      url: rel.split("/").map(encodeURIComponent).join("/"),
      sha256: sha256(bytes),
    });
  }
  const swPath = path.join(dir, SW_FILE);
  const sw = await readFile(swPath, "utf8");
  if (!BUILD_LINE.test(sw)) {
    throw new Error(`${swPath} has no "const BUILD = ...;" line to fill in`);
  }
  // The worker's own code counts too (without the line written here): a
  // change to it alone must not reuse, and so overwrite, the live cache.
  const code = sha256(sw.replace(BUILD_LINE, ""));
  const version = sha256(`${SW_FILE} ${code}\n` + files.map((f) => `${f.url} ${f.sha256}\n`).join("")).slice(0, 16);
  await writeFile(swPath, sw.replace(BUILD_LINE, () => `const BUILD = ${JSON.stringify({ version, files })};`));
  return { version, files };
}

async function writeIcons(dir) {
  await mkdir(path.join(dir, "icons"), { recursive: true });
  for (const size of ICON_SIZES) {
    await writeFile(path.join(dir, "icons", `icon-${size}.png`), png(size, size, drawIcon(size)));
  }
}

// The app's accent colour (style/main.css) under three white bars of a
// rising chart. The bars stay inside the middle 60 %, so a platform that
// crops icons to a circle or squircle (maskable) still shows all of them.
const ACCENT = [0x0f, 0x6e, 0x8c];
const BARS = [
  { x0: 0.24, x1: 0.36, top: 0.52 },
  { x0: 0.44, x1: 0.56, top: 0.38 },
  { x0: 0.64, x1: 0.76, top: 0.24 },
];
const BASE = 0.76;
const RADIUS = 0.03;

function insideBar(x, y) {
  return BARS.some(({ x0, x1, top }) => {
    if (x < x0 || x > x1 || y < top || y > BASE) {
      return false;
    }
    // Rounded top corners only: the bars stand on the baseline.
    const cx = Math.min(Math.max(x, x0 + RADIUS), x1 - RADIUS);
    const cy = Math.max(y, top + RADIUS);
    return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS ** 2;
  });
}

/** RGBA pixels, 4 × 4 samples a pixel so the edges are smooth at any size. */
export function drawIcon(size) {
  const px = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          if (insideBar((x + (sx + 0.5) / n) / size, (y + (sy + 0.5) / n) / size)) {
            hits++;
          }
        }
      }
      const a = hits / (n * n);
      const i = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) {
        px[i + c] = Math.round(ACCENT[c] * (1 - a) + 255 * a);
      }
      px[i + 3] = 255;
    }
  }
  return px;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG of 8-bit RGBA pixels (PNG spec: IHDR, one IDAT, IEND; filter 0 on every row). */
export function png(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
  if (!dir) {
    console.error("usage: node .ci/precache.mjs DIR  (or as a Trunk hook, with TRUNK_STAGING_DIR set)");
    process.exit(2);
  }
  try {
    const { version, files } = await precache(dir);
    console.log(`precache: ${files.length} files, version ${version}`);
  } catch (err) {
    console.error(`precache: ${err.message}`);
    process.exit(1);
  }
}
