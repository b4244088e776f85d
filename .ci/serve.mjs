// A tiny static file server for dist/: what `make run` serves and what the
// browser tests load. It listens on loopback only and serves files, nothing
// else: no directory listings, no paths outside the root.
//
//   node .ci/serve.mjs [--root dist] [--host 127.0.0.1] [--port 8080]

import { createServer } from "node:http";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".xls": "application/vnd.ms-excel",
  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

function contentType(file) {
  return MIME[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

/**
 * The page's Content-Security-Policy, read from the `<meta>` tag of an
 * index.html so the header and the tag cannot drift apart, with what a
 * `<meta>` policy cannot say: `frame-ancestors 'none'` (no site may frame
 * the app). Sent as a header it also covers what the tag does not reach,
 * the worker's scripts. Null when the page has no such tag.
 */
export function cspHeader(html) {
  const meta = html.match(/<meta\s[^>]*http-equiv="Content-Security-Policy"[^>]*>/i);
  const content = meta?.[0].match(/\scontent="([^"]*)"/i)?.[1];
  if (!content) {
    return null;
  }
  const policy = content.trim().replace(/;\s*$/, "");
  return `${policy}; frame-ancestors 'none'`;
}

/**
 * Serves `root` under the URL prefix `base` (default "/"), so tests can check
 * the site also works from a sub-path, as it would under an S3 prefix.
 * `fixtures`, if given, is a directory served at `<base>__fixtures__/`: test
 * scripts loaded from there run as same-origin page code under the page's CSP.
 * Port 0 picks a free port. Resolves to { server, url, close() }.
 */
export async function startServer({ root, host = "127.0.0.1", port = 0, base = "/", fixtures }) {
  const prefix = base.endsWith("/") ? base : `${base}/`;
  const fixturePrefix = `${prefix}__fixtures__/`;
  // A root without a policy is served without one (a test's scratch root);
  // the app's dist/ always has its tag.
  const csp = cspHeader(await readFile(path.join(root, "index.html"), "utf8").catch(() => ""));
  const security = {
    "X-Content-Type-Options": "nosniff",
    ...(csp ? { "Content-Security-Policy": csp } : {}),
  };

  const server = createServer(async (req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...security });
      res.end(text);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(405, "method not allowed\n");
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      return send(400, "bad request\n");
    }
    let rootDir;
    let rest;
    if (fixtures && pathname.startsWith(fixturePrefix)) {
      rootDir = path.resolve(fixtures);
      rest = pathname.slice(fixturePrefix.length);
    } else if (pathname.startsWith(prefix)) {
      rootDir = path.resolve(root);
      rest = pathname.slice(prefix.length);
    } else {
      return send(404, "not found\n");
    }
    let file = path.join(rootDir, rest);
    if (file !== rootDir && !file.startsWith(rootDir + path.sep)) {
      return send(403, "forbidden\n");
    }
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = path.join(file, "index.html");
        info = await stat(file);
      }
      if (!info.isFile()) {
        return send(404, "not found\n");
      }
      res.writeHead(200, {
        "Content-Type": contentType(file),
        "Content-Length": info.size,
        // Always revalidate: after a rebuild the browser must not keep a
        // stale index.html pointing at old hashed files.
        "Cache-Control": "no-cache",
        ...security,
      });
      if (req.method === "HEAD") {
        return res.end();
      }
      createReadStream(file).on("error", () => res.destroy()).pipe(res);
    } catch {
      send(404, "not found\n");
    }
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const url = `http://${host}:${address.port}${prefix}`;
  const close = () =>
    new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  return { server, url, close };
}

function parseArgs(argv) {
  const opts = { root: "dist", host: "127.0.0.1", port: 8080, base: "/" };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) {
      throw new Error(`missing value for ${flag}`);
    }
    switch (flag) {
      case "--root":
        opts.root = value;
        break;
      case "--host":
        opts.host = value;
        break;
      case "--port":
        opts.port = Number.parseInt(value, 10);
        break;
      case "--base":
        opts.base = value;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
    await stat(path.join(opts.root, "index.html"));
  } catch (err) {
    console.error(`serve: ${err.message}`);
    process.exit(2);
  }
  const { url } = await startServer(opts);
  console.log(`CREW MRV is being served at ${url}  (Ctrl-C to stop)`);
  const stop = () => process.exit(0);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
