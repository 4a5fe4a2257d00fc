// What the message history on every record costs the store: list() of 100
// records (a fresh process's first read, then a cached one) and a status
// update of one record, with every record's history full (MESSAGE_HISTORY_LIMIT
// entries of MESSAGE_TEXT_LIMIT characters) and with no history, as baseline.
//   node bench/tools/record-weight.mjs        (after `npx turbo run build`)
// BENCH_CORE=<path to another build's index.js> measures that build.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { loadCore } from "../lib/core.mjs";

const { FileStore, MESSAGE_HISTORY_LIMIT, MESSAGE_TEXT_LIMIT } = await loadCore();
const RECORDS = 100;
const ROUNDS = 30;

function record(n, full) {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  const messages = full
    ? Array.from({ length: MESSAGE_HISTORY_LIMIT }, (_, i) => ({ id: `m-${n}-${i}`, from: null, text: `${"x".repeat(MESSAGE_TEXT_LIMIT - 1)}…`, sentAt: at, state: "delivered", acceptedAt: at }))
    : [];
  return {
    id: `w${String(n).padStart(3, "0")}`,
    parentId: null,
    role: "worker",
    agent: "echo",
    status: "idle",
    workDir: "/tmp",
    depth: 0,
    node: "bench",
    tmux: { session: `s${n}`, windowId: `@${n}`, paneId: `%${n}` },
    createdAt: at,
    updatedAt: at,
    messages,
  };
}

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(full) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-record-weight-"));
  try {
    const writer = new FileStore(dir);
    for (let n = 0; n < RECORDS; n++) await writer.put(record(n, full));
    const bytes = JSON.stringify(record(0, full)).length;
    const first = [];
    const cached = [];
    const update = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A new store has no cache: what a one-shot CLI's list pays.
      const reader = new FileStore(dir);
      let started = performance.now();
      await reader.list();
      first.push(performance.now() - started);
      started = performance.now();
      await reader.list();
      cached.push(performance.now() - started);
      started = performance.now();
      await reader.update(`w${String(round).padStart(3, "0")}`, (r) => ({ ...r, status: r.status === "idle" ? "busy" : "idle", updatedAt: new Date().toISOString() }));
      update.push(performance.now() - started);
      await reader.close?.();
    }
    await writer.close?.();
    return { bytes, first: median(first), cached: median(cached), update: median(update) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (value) => `${value.toFixed(1)} ms`;
console.log(`history limits: ${MESSAGE_HISTORY_LIMIT} entries x ${MESSAGE_TEXT_LIMIT} chars; ${RECORDS} records; medians of ${ROUNDS}`);
for (const full of [false, true]) {
  const result = await measure(full);
  console.log(
    `${full ? "full history" : "no history  "}: record ${(result.bytes / 1024).toFixed(1)} KB, list() first ${ms(result.first)}, list() cached ${ms(result.cached)}, status update ${ms(result.update)}`,
  );
}
