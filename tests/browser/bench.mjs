// `make bench` (browser half): from files handed to the file input to the
// dashboard rendered, in headless Chromium, for the sample set and for a
// generated year. Prints one Markdown table row per set, the median of
// BENCH_RUNS runs (default 3). Not a test: the numbers go into README.md,
// nothing asserts on timings.
//
//   node tests/browser/bench.mjs [DIR LABEL]...
//
// BENCH_POOLS=1,2 runs every set once per pool size (`?pool=N`: processing
// workers in all, README "Browser pool"); unset, the app picks its own
// (hardwareConcurrency - 1 importing workers beside the assembling one).
// Each row also gives the CPU time the browser's processes spent (user + system, which waiting for a core does
// not inflate) and the machine's load average, since this machine is
// shared.

import { readdirSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync as ls } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { openApp, waitForReady } from "./harness.mjs";

function files(dir) {
  return readdirSync(dir)
    .filter((n) => /\.(csv|xlsx|xls)$/i.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const PAGE = Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).trim()) || 4096;

/**
 * The processes this bench started (the Chromium it launched and that
 * browser's children), never another user's Chromium on a shared machine:
 * CPU seconds (user + system) and resident MB summed over them.
 */
function own() {
  const procs = new Map();
  for (const pid of ls("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime, stime; rss in pages.
      procs.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), rss: Number(f[21]) });
    } catch {}
  }
  const mine = (pid) => {
    for (let p = procs.get(pid)?.ppid, hops = 0; p && hops < 64; p = procs.get(p)?.ppid, hops++) {
      if (p === process.pid) return true;
    }
    return false;
  };
  let ticks = 0;
  let pages = 0;
  for (const [pid, p] of procs) {
    if (mine(pid)) {
      ticks += p.ticks;
      pages += p.rss;
    }
  }
  return { cpu: ticks / TICKS, rssMb: (pages * PAGE) / 1e6 };
}

const ownCpuSeconds = () => own().cpu;
const chromiumRssMb = () => own().rssMb;

// Runs in the page before anything else: records long tasks and when the
// app became ready.
function observe() {
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__longTasks.push({ start: e.startTime, duration: e.duration });
      }
    }).observe({ type: "longtask", buffered: true });
  } catch {}
  new MutationObserver(() => {
    const el = document.querySelector("[data-testid=app-ready]");
    if (el && window.__readyAt === undefined) {
      window.__readyAt = performance.now();
    }
    // When a report has been applied to the page (the generation counter
    // moves at the end of that task).
    if (el && Number(el.dataset.generation) >= 1 && window.__appliedAt === undefined) {
      window.__appliedAt = performance.now();
    }
  }).observe(document, { childList: true, subtree: true, attributes: true });
}

async function bench(dir, label, pool) {
  const list = files(dir);
  const mb = list.reduce((s, f) => s + statSync(f).size, 0) / 1e6;
  // No service worker: its first-visit download of the whole build would
  // compete for the CPU with what is measured.
  const app = await openApp({ init: observe, path: pool ? `?pool=${pool}` : "", serviceWorkers: "block" });
  try {
    await waitForReady(app);
    const { page } = app;
    const readyMs = await page.evaluate(() => window.__readyAt);
    const baseRss = chromiumRssMb();
    let peakRss = baseRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, chromiumRssMb());
    }, 100);
    // Every worker starts with the page: let them all be ready first.
    await page.waitForTimeout(1000);
    const cpu0 = ownCpuSeconds();
    const t0 = await page.evaluate(() => performance.now());
    await page.setInputFiles("[data-testid=file-input]", list);
    await page.waitForFunction(
      () => Number(document.querySelector("[data-testid=app-ready]")?.dataset.generation) >= 1,
      null,
      { timeout: 600_000, polling: 50 },
    );
    const tReport = await page.evaluate(() => performance.now());
    await page.waitForSelector("[data-testid=chart-co2] .main-svg", { timeout: 120_000 });
    await page.waitForFunction(() => !document.querySelector("[data-testid=progress]"));
    const tDash = await page.evaluate(() => performance.now());
    const cpu = ownCpuSeconds() - cpu0;
    const load = loadavg()[0];
    clearInterval(sampler);
    peakRss = Math.max(peakRss, chromiumRssMb());
    const tasks = await page.evaluate(() => window.__longTasks);
    // Processing: from the files handed over until the report has been
    // applied to the page (that task included); rendering: the charts after.
    const applied = await page.evaluate(() => window.__appliedAt ?? performance.now());
    const during = tasks.filter((t) => t.start >= t0 && t.start + t.duration <= applied + 1);
    const after = tasks.filter((t) => t.start + t.duration > applied + 1 && t.start <= tDash);
    const maxDuring = during.reduce((m, t) => Math.max(m, t.duration), 0);
    const maxAfter = after.reduce((m, t) => Math.max(m, t.duration), 0);
    const workerMs = Number(await page.getAttribute("[data-testid=last-ms]", "data-ms"));
    if (process.env.BENCH_VERBOSE) {
      console.error(label, { t0, tReport, tDash, workerMs, tasks: tasks.filter((t) => t.start >= t0) });
    }
    const workerMb = Number(await page.getAttribute("[data-testid=worker-memory]", "data-bytes")) / 1e6;
    const secs = (tDash - t0) / 1000;
    const rows = Number(
      await page.evaluate(async () => {
        const el = document.querySelector("[data-testid=app-ready]");
        return el ? el.dataset.rows ?? "" : "";
      }),
    );
    if (app.errors.length) {
      console.error(`errors: ${app.errors.join("\n")}`);
    }
    return {
      secs,
      row: (runs) =>
        `| browser | ${label}${pool ? `, pool ${pool}` : ""} | ${list.length} | ${mb.toFixed(1)} | ${secs.toFixed(2)} s (worker ${(workerMs / 1000).toFixed(2)} s)${runs} | ${(mb / secs).toFixed(0)} MB/s | ${rows ? (rows / secs / 1e6).toFixed(2) + " M rows/s" : "-"} | worker wasm ${workerMb.toFixed(0)} MB; Chromium RSS +${(peakRss - baseRss).toFixed(0)} MB | CPU ${cpu.toFixed(2)} s (the browser's processes), load ${load.toFixed(1)}; first load ${readyMs.toFixed(0)} ms; longest main-thread task while processing ${maxDuring.toFixed(0)} ms (${during.length} over 50 ms), while rendering ${maxAfter.toFixed(0)} ms |`,
    };
  } finally {
    await app.close();
  }
}

const args = process.argv.slice(2);
const sets = [];
for (let i = 0; i < args.length; i += 2) {
  sets.push([args[i], args[i + 1] ?? args[i]]);
}
if (sets.length === 0) {
  sets.push([path.resolve("data"), "sample"]);
}
const pools = (process.env.BENCH_POOLS ?? "").split(",").filter(Boolean).map(Number);
// This machine's speed moves by a third within minutes, so one run says
// little: each set runs BENCH_RUNS times (default 3), each in a new
// browser, and the row is the median run's, with every run's time beside
// it.
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 1);
for (const [dir, label] of sets) {
  for (const pool of pools.length ? pools : [0]) {
    const done = [];
    for (let i = 0; i < runs; i++) {
      done.push(await bench(dir, label, pool));
    }
    const times = done.map((r) => r.secs.toFixed(2));
    done.sort((a, b) => a.secs - b.secs);
    const median = done[(done.length - 1) >> 1];
    console.log(median.row(runs > 1 ? `, median of ${runs} runs (${times.join(", ")} s)` : ""));
  }
}
