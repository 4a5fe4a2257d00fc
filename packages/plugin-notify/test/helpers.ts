/** Kernels with the notify plugin on a testkit harness's socket and store, with their log lines captured. */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import { Kernel, createLogger, parseConfig, type NoticeInput, type Plugin, type PluginContext } from "@tmux-claude/core";
import { ECHO_AGENT, createHarness, type Harness } from "@tmux-claude/testkit";
import { afterEach } from "vitest";
import type { Received, Receiver } from "./receiver.js";

export interface TestKernel {
  kernel: Kernel;
  /** Every JSON log line the kernel wrote. */
  logs: string[];
  /** Resolves with the first log line (written so far or later) that `match` accepts. */
  untilLog(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Raise a notice from a test plugin of this kernel. */
  notice(input: NoticeInput): Promise<void>;
}

export interface NotifyEnv {
  harness: Harness;
  start(plugin: () => Plugin, watch: "all" | "on-demand"): Promise<TestKernel>;
  close(): Promise<void>;
}

/** A harness without a kernel of its own; an `asker` agent shows a question (status waiting) on `/ask`. */
export async function createNotifyEnv(): Promise<NotifyEnv> {
  const harness = await createHarness(
    { agents: { asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\)$" } } },
    { start: false, label: "notify" },
  );
  const kernels: Kernel[] = [];
  return {
    harness,
    async start(plugin, watch) {
      let raiser: PluginContext | undefined;
      const logs: string[] = [];
      const written = new EventEmitter();
      const config = parseConfig({ ...harness.userConfig, plugins: [plugin(), { name: "raiser", apply: (ctx: PluginContext) => void (raiser = ctx) }] });
      const kernel = new Kernel({ config, watch, logger: createLogger("info", { write: (line) => void (logs.push(line), written.emit("line", line)) }) });
      kernels.push(kernel);
      await kernel.start();
      const untilLog = (match: (line: string) => boolean, timeoutMs = 15_000) =>
        new Promise<string>((resolve, reject) => {
          const found = logs.find(match);
          if (found) return resolve(found);
          const timer = setTimeout(() => {
            written.off("line", listener);
            reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line; got:\n${logs.join("")}`));
          }, timeoutMs);
          const listener = (line: string) => {
            if (!match(line)) return;
            clearTimeout(timer);
            written.off("line", listener);
            resolve(line);
          };
          written.on("line", listener);
        });
      return { kernel, logs, untilLog, notice: (input) => raiser!.notice(input) };
    },
    async close() {
      for (const kernel of kernels) await kernel.close().catch(() => undefined);
      await harness.close();
    },
  };
}

/**
 * What the README tells a receiver to do: recompute HMAC-SHA256 of
 * `<timestamp>.<raw body>` with the secret, compare in constant time, and
 * refuse a timestamp more than 5 minutes from now.
 */
export function receiverAccepts(secret: string, request: Pick<Received, "headers" | "body">, now = Date.now()): boolean {
  const timestamp = String(request.headers["x-tmux-claude-timestamp"]);
  const signature = String(request.headers["x-tmux-claude-signature"]);
  if (!/^\d+$/u.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > 300) return false;
  const expected = `v1=${createHmac("sha256", secret).update(`${timestamp}.${request.body}`).digest("hex")}`;
  return signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

export function eventIdOf(request: Received): string {
  if (request.path.startsWith("/hook")) return String(request.headers["x-tmux-claude-event-id"]);
  const body = JSON.parse(request.body) as { embeds?: { footer: { text: string } }[]; blocks?: unknown };
  if (body.embeds) return body.embeds[0]!.footer.text.replace(/^event /u, "");
  return createHash("sha256").update(request.body).digest("hex");
}

/** The kernel's log lines at warn and above. */
export function warnings(logs: readonly string[]): { level: number; msg: string }[] {
  return logs.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 40);
}

/** What a test started (its env, its receiver), closed after each test. */
export function closedAfterEach(): { env?: NotifyEnv; receiver?: Receiver } {
  const started: { env?: NotifyEnv; receiver?: Receiver } = {};
  afterEach(async () => {
    await started.env?.close();
    await started.receiver?.close();
    started.env = started.receiver = undefined;
  });
  return started;
}
