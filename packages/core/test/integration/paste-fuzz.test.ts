/**
 * One message is exactly one submission: text that contains bracketed-paste
 * markers, control characters, tmux and shell syntax reaches an agent that
 * uses bracketed paste (the echo agent, raw and with the terminal's signal
 * keys on, as readline leaves them) as one message, as the README's rules say,
 * and runs nothing. The same generator runs 10,000 inputs in `npm run fuzz`.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { PaneIO } from "../../src/index.js";
import { PasteModeTracker } from "../../src/agents/paste-mode.js";
import { typeableText } from "../../src/tmux/typeable.js";
import { expectedText, fuzzInputs, logReader, runFuzz } from "@tmux-claude/testkit/paste-fuzz";
import { createHarness, ECHO_AGENT, type Harness } from "@tmux-claude/testkit";

const SEED = 9;
const INPUTS = 1_000;

let h: Harness;
let dir: string;
let canaryDir: string;
const logs = { raw: "", signals: "" };
beforeAll(async () => {
  // The agents' logs and the canary dir live outside the harness, whose config needs their paths.
  dir = await mkdtemp(path.join(os.tmpdir(), "tc-test-fuzz-"));
  canaryDir = path.join(dir, "canary");
  await mkdir(canaryDir);
  logs.raw = path.join(dir, "raw.jsonl");
  logs.signals = path.join(dir, "signals.jsonl");
  h = await createHarness({
    limits: { maxInstances: 20, spawnTimeout: 10_000, sendTimeout: 15_000 },
    agents: {
      "echo-raw": { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: logs.raw } },
      "echo-signals": { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: logs.signals, ECHO_AGENT_TTY: "signals" } },
    },
  });
});
afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function targets() {
  return Promise.all(
    (["raw", "signals"] as const).map(async (kind) => {
      const spawn = async () => (await h.kernel.spawn({ role: "executive", agent: `echo-${kind}`, workDir: h.workDir })).instance.id;
      const read = logReader(logs[kind]);
      await read(); // what earlier tests' instances received
      return { name: `echo-${kind}`, id: await spawn(), log: logs[kind], read, spawn };
    }),
  );
}

describe("typeableText", () => {
  test("replaces what acts, keeps TAB, LF, CR and the rest, and is idempotent", () => {
    expect(typeableText("abc\x1b[201~\rINJECTED\r")).toBe("abc\u241b[201~\rINJECTED\r");
    expect(typeableText("a\x00\x03\x04\x1a\x1c\x7f\tb\nc\rd")).toBe("a\u2400\u2403\u2404\u241a\u241c\u2421\tb\nc\rd");
    expect(typeableText("x\ud800y\udfffz🚀")).toBe("x\ufffdy\ufffdz🚀");
    for (const { text } of fuzzInputs({ seed: SEED, count: INPUTS, canaryDir: "/canary" })) {
      const typed = typeableText(text);
      expect(typed).toBe(expectedText(text));
      expect(typeableText(typed)).toBe(typed);
    }
  });
});

describe("PasteModeTracker", () => {
  test("follows DECSET 2004 on and off, also split across chunks and among other modes", async () => {
    let feed: (data: Buffer) => void = () => {};
    const pane = { onOutput: (listener: (data: Buffer) => void) => ((feed = listener), () => undefined) } as unknown as PaneIO;
    const tracker = new PasteModeTracker(pane, false);
    const on = tracker.whenOn(AbortSignal.timeout(5_000));
    feed(Buffer.from("hello \x1b[?25l\x1b[?20"));
    expect(tracker.on).toBe(false);
    feed(Buffer.from("04h prompt"));
    await on;
    feed(Buffer.from("\x1b[?1004;2004l"));
    expect(tracker.on).toBe(false);
    feed(Buffer.from("\x1b[?2004h\x1b[?2004l"));
    expect(tracker.on).toBe(false);
    await expect(tracker.whenOn(AbortSignal.timeout(50))).rejects.toThrow();
    tracker.dispose();
  });
});

describe("a paste cannot be broken out of", () => {
  test("the text of issue 9 (ESC[201~ then CR INJECTED CR) is one submission, ESC shown as ␛", async () => {
    const all = await targets();
    for (const target of all) {
      const receipt = await h.kernel.send(target.id, "abc\x1b[201~\rINJECTED\r");
      expect(receipt.state).toBe("delivered");
      await h.kernel.read(target.id, { wait: true });
      expect((await target.read()).map((r) => r.text ?? r.signal), target.name).toEqual(["abc\u241b[201~\rINJECTED\r"]);
    }
    // Every C0 control and DEL in one message: C-c, C-\ and C-z signal nothing, XOFF stops nothing.
    let every = "start";
    for (let code = 0; code < 0x20; code++) every += String.fromCharCode(code);
    every += "\x7fend";
    for (const target of all) {
      await h.kernel.send(target.id, every);
      await h.kernel.read(target.id, { wait: true });
      expect((await target.read()).map((r) => r.text ?? r.signal), target.name).toEqual([expectedText(every)]);
      await h.kernel.terminate(target.id);
    }
  });

  test(`${INPUTS} fuzzed inputs (seed ${SEED}) to both agents: each exactly one submission, exact, nothing executed`, async () => {
    const all = await targets();
    const { totals, problems } = await runFuzz({ kernel: h.kernel, targets: all, workDirs: [h.workDir], seed: SEED, count: INPUTS, canaryDir });
    console.info(`[paste-fuzz] seed ${SEED}: ${JSON.stringify(totals)}`);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(totals).toMatchObject({ inputs: INPUTS, deliveries: 2 * INPUTS, exact: 2 * INPUTS, executed: 0, extra: 0, lost: 0, failed: 0, signaled: 0 });
  }, 600_000);
});
