// An agent added to the config after serve started: serve cannot attach to
// its instances (its config has no settings for that agent), so the one-shot
// kernel that spawned one fires its observed events, and serve says loudly
// that its config is stale (issue 14 fix round: a turn-end workflow hung).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Kernel, parseConfig } from "../../src/index.js";
import { readRecorded, recorder } from "../fixtures/recorder-plugin.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { start: false });
});
afterAll(async () => {
  await h?.close();
});

test("serve without the agent: the spawning one-shot kernel fires its turn ends, serve warns that its config changed", async () => {
  const configFile = path.join(h.dir, "tmuxclaude.config.json");
  await writeFile(configFile, JSON.stringify({ agents: ["echo"] }));
  const lines: { level: number; msg: string; stale?: boolean; agent?: string }[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const serve = new Kernel({ config: h.config, configPath: configFile, logger, watch: "all" });
  await serve.start();
  try {
    // The user adds an agent and runs a one-shot command with the new config.
    await writeFile(configFile, JSON.stringify({ agents: ["echo", "late"] }));
    const file = path.join(h.dir, "events.jsonl");
    const echo = h.userConfig.agents!.echo!;
    const oneShot = await h.startKernel({ watch: "on-demand", config: { agents: { ...h.userConfig.agents, late: echo }, plugins: [recorder({ file, who: "oneshot" })] } });
    const { instance } = await oneShot.spawn({ role: "executive", workDir: h.workDir, agent: "late" });
    await oneShot.send(instance.id, "/work 200");
    const turns = await eventually(async () => {
      const events = readRecorded(await readFile(file, "utf8").catch(() => ""));
      return events.filter((e) => e.hook === "turnEnded" && e.id === instance.id).length > 0 && events;
    }, 10_000, "the one-shot kernel's turnEnded");
    expect(turns.filter((e) => e.hook === "turnEnded").map((e) => e.who)).toEqual(["oneshot"]);
    const warning = await eventually(() => lines.find((l) => l.level === 40 && l.msg.includes(instance.id)), 5_000, "serve's warning");
    expect(warning.msg).toContain(`${configFile} changed since this serve loaded it: restart tmux-claude serve`);
    expect(warning).toMatchObject({ agent: "late", stale: true });
    await oneShot.terminate(instance.id);
  } finally {
    await serve.close();
  }
  // Once per instance, not at every change serve sees.
  expect(lines.filter((l) => l.level === 40 && l.msg.startsWith("serve cannot watch"))).toHaveLength(1);
});

test("a serve that knows the agent still fires alone (the one-shot kernel does not)", async () => {
  const file = path.join(h.dir, "known.jsonl");
  const serve = await h.startKernel({ watch: "all", config: { plugins: [recorder({ file, who: "serve" })] } });
  const oneShot = await h.startKernel({ watch: "on-demand", config: { plugins: [recorder({ file, who: "oneshot" })] } });
  const { instance } = await oneShot.spawn({ role: "executive", workDir: h.workDir });
  await oneShot.send(instance.id, "/work 200");
  await oneShot.read(instance.id, { wait: true, timeoutMs: 10_000 });
  const events = await eventually(async () => {
    const all = readRecorded(await readFile(file, "utf8").catch(() => "")).filter((e) => e.id === instance.id && e.hook === "turnEnded");
    return all.length > 0 && all;
  }, 10_000, "serve's turnEnded");
  expect(events.map((e) => e.who)).toEqual(["serve"]);
  await oneShot.terminate(instance.id);
  await serve.close();
});
