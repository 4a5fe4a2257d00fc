// The dashboard page in a real Chromium, against a kernel + dashboard server
// in its own process (lib/dashboard-child.mjs, as `tmux-claude monitor` runs
// it). Times are taken on one clock (performance.timeOrigin + now() in every
// process, the page included), so a latency is "when the page's DOM changed"
// minus "when the kernel wrote it".
//  - status change -> DOM: the status write, as the store's change feed
//    reports it in the kernel's process (it comes before the statusChange
//    hook) -> a MutationObserver on the row's data-status. Floor: the same
//    change arriving at a bare WebSocket client (no page) on the same socket.
//  - output byte -> terminal: a write to the pane's tty -> xterm's
//    onWriteParsed with the marker in its buffer. Floor: the same marker in the
//    kernel's output subscription (tmux's %output arriving).
//  - rendering 100 instances and applying one update with 100 present, in the
//    page (store + DOM + forced layout); floor: the same with 1 instance.
//  - the dashboard process's CPU while nothing happens (100 instances, the
//    page connected, a terminal open). Floor: the tmux server's CPU.
import { fork } from "node:child_process";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import WebSocket from "ws";
import { loadCore } from "../lib/core.mjs";
import { timedRow, valueRow, targets } from "../lib/rows.mjs";
import { ECHO_AGENT, HEIGHT, HISTORY, NODE, WIDTH, execFileAsync, killServer, newSocket, procCpuSeconds, sleep, tempDir, tmuxServerPid, trackChild, trackCloser } from "../lib/util.mjs";

const CHILD = fileURLToPath(new URL("../lib/dashboard-child.mjs", import.meta.url));
const CHROMIUM = process.env.TC_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const stamp = () => performance.timeOrigin + performance.now();
const N = 100;

export async function dashboard({ quick, log }) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: the dashboard bench drives a real browser. Install it (apt-get install chromium) or set TC_CHROMIUM to a Chromium binary.`);
  }
  const iterations = quick ? 20 : 60;
  const dir = tempDir("dashboard");
  const socket = newSocket("dashboard");
  const stateDir = path.join(dir, "state");
  const config = {
    tmux: { socket, configFile: "none", width: WIDTH, height: HEIGHT, historyLimit: HISTORY },
    stateDir,
    defaultAgent: "echo",
    logLevel: "error",
    agents: { echo: { adapter: "command", command: NODE, args: [ECHO_AGENT] } },
  };
  const kernel = startChild();
  let browser;
  let raw;
  const rows = [];
  try {
    const { url, pid } = await kernel.ask({ op: "start", config });
    const origin = new URL(url).origin;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const untrackBrowser = trackCloser(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url);
    await page.waitForSelector('[data-testid="connection"][data-state="connected"]');
    raw = await rawClient(url);

    const { id, record } = await kernel.ask({ op: "spawn", options: { role: "specialist", name: "bench", workDir: dir } });
    await page.waitForSelector(`[data-testid="tree"] [data-id="${id}"][data-status="idle"]`, { timeout: 30_000 });
    await page.evaluate(installPageProbes);

    // ---- status change -> DOM (1 instance), then the page's own cost with 1 instance (the floors of the 100 rows).
    const status1 = await measureStatus({ kernel, page, raw, id, iterations, log });
    rows.push(statusRow("dashboard-status-dom", `status change -> page DOM (1 instance)`, status1));
    const apply1 = await page.evaluate(measureApply, { iterations: iterations * 2 });

    // ---- output byte -> terminal view.
    await page.locator(`[data-testid="tree"] [data-id="${id}"]`).click();
    await page.waitForFunction((target) => document.querySelector('[data-testid="terminal"]')?.getAttribute("data-id") === target, id);
    await kernel.ask({ op: "followOutput", id });
    const tty = (await execFileAsync("tmux", ["-L", socket, "display-message", "-p", "-t", record.tmux.paneId, "#{pane_tty}"])).stdout.trim();
    const output = await measureOutput({ kernel, page, tty, iterations, log });
    rows.push(
      p95Row(
        timedRow({
          id: "dashboard-output-terminal",
          label: "output byte -> terminal view (xterm parsed)",
          samples: output.page,
          floor: output.floor,
          floorLabel: "the same bytes in the kernel's output subscription (tmux %output)",
          note: "a write to the pane's tty -> xterm's onWriteParsed with the marker in its buffer",
        }),
        50,
      ),
    );

    // ---- 100 instances: 99 records cloned from the live one (no tmux behind them), as bench/scenarios/list.mjs does.
    const { FileStore } = await loadCore();
    const store = new FileStore(stateDir);
    await store.init();
    const template = JSON.parse(JSON.stringify(record));
    await Promise.all(
      Array.from({ length: N - 1 }, (_, i) => {
        const cloneId = `clone-${i + 1}`;
        return store.put({ ...template, id: cloneId, name: cloneId, parentId: i % 10 === 0 ? null : `clone-${i - (i % 10) + 1}`, status: "idle", tmux: { ...template.tmux, session: cloneId, paneId: `%${900_000 + i}` } });
      }),
    );
    await store.close();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="tree"] [data-id]').length >= n, N, { timeout: 30_000 });
    log(`dashboard: ${N} rows in the page`);
    const apply100 = await page.evaluate(measureApply, { iterations: iterations * 2 });
    rows.push(
      timedRow({
        id: "dashboard-render-100",
        label: `render ${N} instances in the page (snapshot -> rows, layout)`,
        samples: apply100.snapshot,
        floor: apply1.snapshot,
        floorLabel: "the same with 1 instance",
        target: targets.atMost(100, "ms"),
        note: "store.apply(snapshot without messages) + a forced layout, in the page",
      }),
      timedRow({
        id: "dashboard-update-100",
        label: `apply one update with ${N} instances present`,
        samples: apply100.update,
        floor: apply1.update,
        floorLabel: "the same with 1 instance",
        target: targets.atMost(5, "ms"),
        note: "store.apply(instance) + a forced layout, in the page: one row rewritten",
      }),
    );
    const status100 = await measureStatus({ kernel, page, raw, id, iterations, log });
    rows.push(statusRow("dashboard-status-dom-100", `status change -> page DOM (${N} instances)`, status100));

    // ---- idle: nothing happens; the page is connected with its terminal open.
    await sleep(2_000);
    const tmuxPid = await tmuxServerPid(socket);
    const tmux0 = procCpuSeconds(tmuxPid);
    const w0 = performance.now();
    const idle = await kernel.ask({ op: "measure", ms: 5_000 }, 60_000);
    const tmuxCpu = ((procCpuSeconds(tmuxPid) - tmux0) / ((performance.now() - w0) / 1000)) * 100;
    const cpu = ((idle.cpuUserMs + idle.cpuSystemMs) / idle.wallMs) * 100;
    log(`dashboard: idle ${cpu.toFixed(3)} % (tmux server ${tmuxCpu.toFixed(3)} %), dashboard process ${pid}`);
    rows.push(
      valueRow({
        id: "dashboard-idle-cpu",
        label: `idle CPU, serve + dashboard, ${N} instances, page connected (5 s)`,
        value: cpu,
        unit: "%",
        floor: tmuxCpu,
        floorLabel: "tmux server CPU over the same window",
        target: targets.value(1, "%"),
        note: `% of one core; user ${idle.cpuUserMs.toFixed(0)} ms + system ${idle.cpuSystemMs.toFixed(0)} ms of the kernel + dashboard process`,
      }),
    );
    untrackBrowser();
  } finally {
    raw?.close();
    await browser?.close().catch(() => undefined);
    await kernel.ask({ op: "close" }, 30_000).catch(() => undefined);
    if (kernel.child.exitCode === null) kernel.child.kill("SIGKILL");
    await killServer(socket);
  }
  return rows;
}

function statusRow(id, label, { page, floor }) {
  return p95Row(
    timedRow({
      id,
      label,
      samples: page,
      floor,
      floorLabel: "the same change at a bare WebSocket client (no page)",
      note: "the status write (store change feed, kernel process) -> MutationObserver on the row's data-status",
    }),
    100,
  );
}

/** The targets are on p95. */
function p95Row(row, ms) {
  row.target = { text: `<= ${ms} ms (p95)`, limit: ms, pass: row.p95 <= ms };
  return row;
}

function startChild() {
  const child = trackChild(fork(CHILD, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  let n = 0;
  const pending = new Map();
  const listeners = new Set();
  child.on("message", (msg) => {
    if (msg.event) {
      for (const listener of listeners) listener(msg);
      return;
    }
    const entry = pending.get(msg.n);
    if (!entry) return;
    pending.delete(msg.n);
    if (msg.ok) entry.resolve(msg);
    else entry.reject(new Error(msg.error));
  });
  child.once("exit", (code) => {
    for (const entry of pending.values()) entry.reject(new Error(`the dashboard process exited (${code})`));
  });
  return {
    child,
    on: (listener) => listeners.add(listener),
    off: (listener) => listeners.delete(listener),
    ask(msg, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const key = ++n;
        const timer = setTimeout(() => reject(new Error(`the dashboard process did not answer ${msg.op} in ${timeoutMs} ms`)), timeoutMs);
        pending.set(key, {
          resolve: (value) => (clearTimeout(timer), resolve(value)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        child.send({ ...msg, n: key });
      });
    },
  };
}

/** A WebSocket client without a page: logs in with the URL's secret like the browser does, then listens. */
async function rawClient(url) {
  const origin = new URL(url).origin;
  const response = await fetch(url, { redirect: "manual" });
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error(`the login exchange at ${origin} set no cookie (HTTP ${response.status})`);
  const socket = new WebSocket(`${origin.replace(/^http/u, "ws")}/api/socket`, { headers: { cookie, origin } });
  const statuses = [];
  const last = new Map();
  socket.on("message", (data) => {
    const t = stamp();
    const message = JSON.parse(data.toString());
    if (message.type !== "instance") return;
    const { id, status } = message.instance;
    if (last.get(id) === status) return;
    last.set(id, status);
    statuses.push({ id, status, t });
  });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return { statuses, close: () => socket.close() };
}

/** In the page: timestamps every data-status change of a tree row, and every marker xterm parsed. */
function installPageProbes() {
  const stampNow = () => performance.timeOrigin + performance.now();
  const probes = { statuses: [], marks: {} };
  Object.assign(window, { benchProbes: probes });
  new MutationObserver((records) => {
    const t = stampNow();
    for (const record of records) {
      const row = record.target;
      probes.statuses.push({ id: row.dataset.id, status: row.dataset.status, t });
    }
  }).observe(document.querySelector('[data-testid="tree"]'), { attributes: true, attributeFilter: ["data-status"], subtree: true });
  document.querySelector('[data-testid="terminal"]').addEventListener("terminal-parsed", () => {
    const t = stampNow();
    for (const match of window.dashboard.terminalTail(4).matchAll(/mark-(\d+)/gu)) probes.marks[match[1]] ??= t;
  });
}

/** In the page: the cost of applying a snapshot of what is shown, and of one instance update, each with a forced layout. */
function measureApply({ iterations }) {
  const store = window.dashboard.store;
  const shown = { type: "snapshot", node: store.node, plugins: store.plugins, instances: [...store.instances.values()], messages: [...store.messages.values()] };
  // Without the timeline, so the row is about instances; what was shown is put back at the end.
  const snapshot = { ...shown, messages: [] };
  const out = { snapshot: [], update: [] };
  for (let i = 0; i < Math.max(5, iterations / 4); i++) {
    const t0 = performance.now();
    store.apply(snapshot);
    void document.body.offsetHeight;
    out.snapshot.push(performance.now() - t0);
  }
  const target = snapshot.instances[snapshot.instances.length - 1];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    store.apply({ type: "instance", instance: { ...target, status: i % 2 ? target.status : "busy", updatedAt: new Date().toISOString() } });
    void document.body.offsetHeight;
    out.update.push(performance.now() - t0);
  }
  store.apply(shown);
  return out;
}

/** `/work 150` makes the echo agent busy, then idle: two status changes per iteration. */
async function measureStatus({ kernel, page, raw, id, iterations, log }) {
  const hook = [];
  const onEvent = (msg) => msg.event === "status" && msg.id === id && hook.push(msg);
  kernel.on(onEvent);
  const rawStart = raw.statuses.length;
  await page.evaluate(() => (window.benchProbes.statuses.length = 0));
  try {
    for (let i = 0; i < iterations; i++) {
      const before = hook.length;
      await kernel.ask({ op: "send", id, text: "/work 150" });
      await waitFor(() => hook.slice(before).some((e) => e.to === "idle"), 10_000, "the instance to be idle again");
      await page.waitForFunction(
        ([target, n]) => window.benchProbes.statuses.filter((s) => s.id === target && s.status === "idle").length >= n,
        [id, hook.filter((e) => e.to === "idle").length],
        { timeout: 10_000 },
      );
    }
  } finally {
    kernel.off(onEvent);
  }
  const seen = await page.evaluate((target) => window.benchProbes.statuses.filter((s) => s.id === target), id);
  const result = { page: pair(hook, seen), floor: pair(hook, raw.statuses.slice(rawStart).filter((s) => s.id === id)) };
  log(`dashboard: ${hook.length} status changes; page saw ${result.page.length}, bare socket ${result.floor.length}`);
  return result;
}

/** Each kernel-side change with the first later observation of the same status (in order). */
function pair(changes, observed) {
  const out = [];
  let j = 0;
  for (const change of changes) {
    while (j < observed.length && (observed[j].status !== change.to || observed[j].t < change.t)) j++;
    if (j >= observed.length) break;
    out.push(observed[j].t - change.t);
    j++;
  }
  return out;
}

async function measureOutput({ kernel, page, tty, iterations, log }) {
  const floorAt = new Map();
  const onEvent = (msg) => msg.event === "output" && !floorAt.has(msg.marker) && floorAt.set(msg.marker, msg.t);
  kernel.on(onEvent);
  const fd = openSync(tty, "w");
  const samples = { page: [], floor: [] };
  try {
    for (let i = 1; i <= iterations; i++) {
      const t0 = stamp();
      // Ends with the prompt again, so the kernel still sees an idle agent.
      writeSync(fd, `\r\nmark-${i}\r\n> `);
      const t = await page.waitForFunction((marker) => window.benchProbes.marks[marker], String(i), { timeout: 10_000 }).then((handle) => handle.jsonValue());
      await waitFor(() => floorAt.has(i), 10_000, `marker ${i} in the kernel's output subscription`);
      samples.page.push(t - t0);
      samples.floor.push(floorAt.get(i) - t0);
    }
  } finally {
    closeSync(fd);
    kernel.off(onEvent);
  }
  log(`dashboard: ${iterations} output markers`);
  return samples;
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}
