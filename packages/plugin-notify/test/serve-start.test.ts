// serve's start waits on neither the outbox's size nor its store: recovery runs in the background, a store error is a warning.
import { expect, test } from "vitest";
import { createLogger, type PluginContext } from "@tmux-claude/core";
import { notify } from "../src/index.js";

type Tapped = (...args: unknown[]) => unknown;

/** The parts of a serve's plugin context notify uses, with the ready taps kept to be run by the test. */
function serveContext(outbox: unknown, logs: string[]): { ctx: PluginContext; ready: Tapped[]; closers: (() => Promise<void>)[] } {
  const ready: Tapped[] = [];
  const closers: (() => Promise<void>)[] = [];
  const hook = (taps?: Tapped[]) => ({ tap: (fn: Tapped) => void taps?.push(fn), tapPromise: (fn: Tapped) => void taps?.push(fn) });
  const ctx = {
    mode: "serve",
    kernel: { node: "node-s" },
    logger: createLogger("info", { write: (line) => void logs.push(line) }),
    data: () => outbox,
    hooks: { statusChange: hook(), notice: hook(), ready: hook(ready) },
    onClose: (fn: () => Promise<void>) => void closers.push(fn),
  };
  return { ctx: ctx as unknown as PluginContext, ready, closers };
}

const plugin = () => notify({ webhook: { url: "https://example.com/hook", secret: "serve-start-secret-0123" } });

test("a store that fails as serve recovers the outbox is a logged warning; serve's ready is not failed", async () => {
  const logs: string[] = [];
  const failing = {
    collection: "notify/outbox",
    watch: () => ({ ready: Promise.resolve(), stop: () => undefined }),
    list: () => Promise.reject(Object.assign(new Error("redis: connection lost"), { code: "ECONNRESET" })),
  };
  const { ctx, ready, closers } = serveContext(failing, logs);
  plugin().apply(ctx);
  for (const tap of ready) await tap({});
  for (const close of closers) await close();
  const warning = logs.map((line) => JSON.parse(line) as { level: number; msg: string; err?: { code?: string } }).find((line) => line.level === 40);
  expect(warning).toMatchObject({ msg: "notify: the outbox could not be read or written", err: { code: "ECONNRESET" } });
});

test("serve's ready does not wait for the outbox sweep (a large outbox, a slow store)", { timeout: 10_000 }, async () => {
  const logs: string[] = [];
  let release!: () => void;
  const slow = {
    collection: "notify/outbox",
    watch: () => ({ ready: new Promise<void>((resolve) => (release = resolve)), stop: () => release() }),
    list: async () => [],
  };
  const { ctx, ready, closers } = serveContext(slow, logs);
  plugin().apply(ctx);
  // Resolves although the watch (and so the sweep) has not got going.
  for (const tap of ready) await tap({});
  for (const close of closers) await close();
  expect(logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 40)).toEqual([]);
});
