/**
 * A smoke run of the claude adapter on the newest Claude Code release on the
 * npm registry (the rest of this suite runs on the pinned one): spawn, one
 * turn with a tool call, the reply and the states its hooks reported. Skipped with a
 * visible notice when the registry cannot be asked.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { claudeReleases, match } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClaudeHarness, statusLog, type ClaudeHarness, type StatusLog } from "./helpers.js";

const newest = (await claudeReleases()).find((release) => release.name === "newest")!;

describe.skipIf(newest.skip !== undefined)(`Claude Code ${newest.label}`, () => {
  let h: ClaudeHarness;
  let log: StatusLog;
  beforeAll(async () => {
    h = await createClaudeHarness({ claude: await newest.binary() });
    log = statusLog(h.kernel);
  }, 300_000);
  afterAll(async () => {
    await h?.close();
  });

  test("spawn, one turn with a Bash call, the reply", async () => {
    expect(h.claude.version).toBe(newest.version);
    h.model.rule({
      name: "write",
      when: match.lastUserTextIncludes("write smoke.txt"),
      reply: { toolUse: { name: "Bash", input: { command: "echo smoke > smoke.txt", description: "Write smoke.txt" } } },
      times: 1,
    });
    h.model.rule({ name: "done", when: match.hasToolResult(), reply: { text: "smoke.txt written" }, times: 1 });
    const { instance, receipt } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "write smoke.txt", agent: "claude" });
    expect(receipt?.state).toBe("delivered");
    const read = await h.kernel.read(instance.id, { wait: true, timeoutMs: 60_000 });
    expect(read).toMatchObject({ status: "idle", lastReply: "smoke.txt written" });
    expect((await readFile(path.join(h.workDir, "smoke.txt"), "utf8")).trim()).toBe("smoke");
    // statusChange fires once the change is written, which may be just after the read saw it.
    const mine = (changes: StatusLog["changes"]) => changes.filter((c) => c.id === instance.id).map((c) => c.to);
    await log.until((changes) => mine(changes).length >= 3);
    expect(mine(log.changes)).toEqual(["idle", "busy", "idle"]);
    await h.kernel.terminate(instance.id);
  }, 120_000);
});
