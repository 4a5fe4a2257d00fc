/**
 * The claude adapter around the edges of an instance's life, with the real
 * Claude Code binary: startup dialogs (failed loudly or answered on purpose),
 * permission bypass, the agent's tmux session or the whole tmux server dying
 * and `restart` resuming the conversation, and a kernel re-attaching to an
 * instance whose turn ended while no kernel watched.
 */
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { eventually, lastUserText, match } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
import type { ClaudeAgentState } from "../src/index.js";
import { createClaudeHarness, hookEvents, statusLog, type ClaudeHarness, type StatusLog } from "./helpers.js";

let h: ClaudeHarness;
let log: StatusLog;
beforeAll(async () => {
  h = await createClaudeHarness({
    agents: {
      "claude-trusting": { trustWorkDir: true },
      "claude-yolo": { skipPermissions: true },
      // Bypass asked for through raw args, not the option; IS_SANDBOX lets root use the flag, so the dialog shows.
      "claude-bypass-args": { args: ["--dangerously-skip-permissions"], env: { IS_SANDBOX: "1" } },
      // A key this Claude home never approved: Claude Code asks before using it.
      "claude-unapproved": { env: { ANTHROPIC_API_KEY: "sk-ant-never-approved-0123456789abcdefghij" } },
      // A second --settings replaces the generated one: Claude Code runs without the adapter's hooks.
      "claude-hookless": { args: ["--settings", '{"disableAllHooks":true}'] },
      // Nothing listens on port 9 (discard): every request fails to connect.
      "claude-offline": { env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:9" } },
    },
  });
  log = statusLog(h.kernel);
}, 300_000);
afterAll(async () => {
  await h?.close();
});

async function spawnError(promise: Promise<unknown>): Promise<TmuxClaudeError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the spawn to fail, but it succeeded");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TmuxClaudeError);
  return error as TmuxClaudeError;
}

describe("startup dialogs", () => {
  test("an untrusted workdir without trustWorkDir fails the spawn at once, the dialog quoted", async () => {
    const untrusted = path.join(h.dir, "untrusted");
    await mkdir(untrusted);
    const started = Date.now();
    const error = await spawnError(h.kernel.spawn({ role: "executive", workDir: untrusted, prompt: "never delivered" }));
    const tookMs = Date.now() - started;
    expect(error.code).toBe(ErrorCodes.SPAWN_FAILED);
    expect(error.message).toContain("it is waiting");
    expect(error.message).toContain("trustWorkDir");
    expect(error.message).toContain("Yes, I trust this folder");
    expect(tookMs).toBeLessThan(h.kernel.config.limits.spawnTimeout / 3);
    expect(await h.kernel.list()).toEqual([]);
    expect(h.model.requests.filter((r) => JSON.stringify(r.body).includes("never delivered"))).toEqual([]);
    console.info(`[claude] untrusted workdir: spawn failed after ${tookMs} ms (spawnTimeout ${h.kernel.config.limits.spawnTimeout} ms)`);
  });

  test("trustWorkDir answers the folder-trust dialog Yes", async () => {
    const untrusted = path.join(h.dir, "untrusted-but-answered");
    await mkdir(untrusted);
    h.model.rule({ name: "trusted", when: match.lastUserTextIncludes("in the new folder"), reply: { text: "Working here." } });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: untrusted, agent: "claude-trusting", prompt: "in the new folder" });
    expect(await h.kernel.read(instance.id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Working here." });
    // Claude Code recorded the answer in its own config (the test's isolated home).
    const config = JSON.parse(await readFile(h.home.configFile, "utf8")) as { projects: Record<string, { hasTrustDialogAccepted?: boolean }> };
    expect(config.projects[untrusted]?.hasTrustDialogAccepted).toBe(true);
    await h.kernel.terminate(instance.id);
  });

  test("skipPermissions: no bypass dialog, Bash runs unasked", async () => {
    h.model.rule({
      name: "yolo",
      when: match.lastUserTextIncludes("write yolo.txt"),
      reply: { text: "Writing.", toolUse: { name: "Bash", input: { command: "printf yolo > yolo.txt", description: "Write yolo.txt" } } },
      times: 1,
    });
    h.model.rule({ name: "yolo-done", when: match.hasToolResult(), reply: { text: "Wrote yolo.txt." }, times: 1 });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "claude-yolo", prompt: "write yolo.txt" });
    expect(instance.launch.args).toContain("--dangerously-skip-permissions");
    if (process.getuid?.() === 0) expect(instance.launch.env.IS_SANDBOX).toBe("1");
    const settings = JSON.parse(await readFile(path.join(h.stateDir, "agents", instance.id, "settings.json"), "utf8")) as Record<string, unknown>;
    expect(settings.skipDangerousModePermissionPrompt).toBe(true);
    expect(await h.kernel.read(instance.id, { wait: true, timeoutMs: 15_000 })).toMatchObject({ status: "idle", lastReply: "Wrote yolo.txt." });
    expect(await readFile(path.join(h.workDir, "yolo.txt"), "utf8")).toBe("yolo");
    await h.kernel.terminate(instance.id);
  });

  test("a bypass dialog the config did not ask for fails the spawn, quoted", async () => {
    const error = await spawnError(h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "claude-bypass-args" }));
    expect(error.code).toBe(ErrorCodes.SPAWN_FAILED);
    expect(error.message).toContain("skipPermissions");
    expect(error.message).toContain("Bypass Permissions mode");
  });
});

describe("login and network failures", () => {
  test("an API key Claude Code has not approved fails the spawn, quoted", async () => {
    const error = await spawnError(h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "claude-unapproved" }));
    expect(error.code).toBe(ErrorCodes.SPAWN_FAILED);
    expect(error.message).toContain("Do you want to use this API key?");
    expect(error.message).toContain("ANTHROPIC_API_KEY");
  });

  test("hooks that never report fail the spawn instead of hanging until spawnTimeout", async () => {
    const started = Date.now();
    const error = await spawnError(h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "claude-hookless" }));
    expect(error.code).toBe(ErrorCodes.SPAWN_FAILED);
    expect(error.message).toContain("SessionStart hook did not arrive");
    expect(error.message).toContain(`${path.sep}settings.json`);
    expect(Date.now() - started).toBeLessThan(h.kernel.config.limits.spawnTimeout);
  });

  test("an unreachable API: the turn ends in error with the reason", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "claude-offline", prompt: "anyone there?" });
    const result = await h.kernel.read(instance.id, { wait: true, timeoutMs: 20_000 });
    expect(result.status).toBe("error");
    expect(result.statusReason).toMatch(/connect|ECONNREFUSED|unable/iu);
    await h.kernel.terminate(instance.id);
  });
});

describe("restart resumes the conversation", () => {
  test("after its tmux session was killed: exited within 2 s, then resumed with the earlier turns", async () => {
    h.model.rule({ name: "remember", when: match.lastUserTextIncludes("remember the word PELICAN"), reply: { text: "Remembered: PELICAN." } });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "remember the word PELICAN" });
    expect(await h.kernel.read(instance.id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Remembered: PELICAN." });
    const before = (await h.kernel.get(instance.id)).agentState as unknown as ClaudeAgentState;

    const since = log.changes.length;
    const killed = Date.now();
    await h.tmux("kill-session", "-t", instance.tmux.session);
    const exited = await log.waitFor(instance.id, (s) => s === "exited", 2_000, since);
    const exitMs = log.changes.slice(since).find((c) => c.id === instance.id && c.to === "exited")!.at - killed;
    expect(exited.status).toBe("exited");
    expect(exitMs).toBeLessThan(2_000);

    const restartedAt = Date.now();
    const restarted = await h.kernel.restart(instance.id);
    const restartMs = Date.now() - restartedAt;
    expect(restarted.status).toBe("idle");
    expect(restarted.launch.args.slice(0, 2)).toEqual(["--resume", before.sessionId]);
    const after = restarted.agentState as unknown as ClaudeAgentState;
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.resumed).toBe(true);
    expect(after.launchId).not.toBe(before.launchId);
    const starts = (await hookEvents(h, instance.id)).filter((e) => e.event === "SessionStart");
    expect(starts.at(-1)).toMatchObject({ launch: after.launchId, payload: { source: "resume", session_id: before.sessionId } });

    h.model.rule({ name: "recall", when: match.lastUserTextIncludes("which word?"), reply: { text: "PELICAN." } });
    const sinceRequest = h.model.requests.length;
    await h.kernel.send(instance.id, "which word?");
    expect(await h.kernel.read(instance.id, { wait: true })).toMatchObject({ status: "idle", lastReply: "PELICAN." });
    const recall = await h.model.waitForRequest(match.all(match.mainTurn, match.lastUserTextIncludes("which word?")), 1_000, { since: sinceRequest });
    const history = JSON.stringify(recall.body.messages);
    expect(history).toContain("remember the word PELICAN");
    expect(history).toContain("Remembered: PELICAN.");
    console.info(`[claude] killed session seen exited after ${exitMs} ms; restart (resume) ready after ${restartMs} ms`);
    await h.kernel.terminate(instance.id);
  });

  test("after the whole tmux server died", async () => {
    h.model.rule({ name: "remember-2", when: match.lastUserTextIncludes("remember the number 4711"), reply: { text: "Remembered: 4711." } });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "remember the number 4711" });
    expect(await h.kernel.read(instance.id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Remembered: 4711." });
    const sessionId = ((await h.kernel.get(instance.id)).agentState as unknown as ClaudeAgentState).sessionId;

    await h.tmux("kill-server");
    // Found by the kernel's reconcile after the disconnect (which fires no statusChange for an instance it let go of).
    await eventually(async () => (await h.kernel.get(instance.id)).status === "exited", 5_000, "the instance to be exited");
    const restarted = await h.kernel.restart(instance.id);
    expect(restarted.status).toBe("idle");
    expect(restarted.launch.args.slice(0, 2)).toEqual(["--resume", sessionId]);

    h.model.rule({ name: "recall-2", when: match.lastUserTextIncludes("which number?"), reply: { text: "4711." } });
    const since = h.model.requests.length;
    await h.kernel.send(instance.id, "which number?");
    expect(await h.kernel.read(instance.id, { wait: true })).toMatchObject({ status: "idle", lastReply: "4711." });
    const recall = await h.model.waitForRequest(match.all(match.mainTurn, match.lastUserTextIncludes("which number?")), 1_000, { since });
    expect(JSON.stringify(recall.body.messages)).toContain("remember the number 4711");
    await h.kernel.terminate(instance.id);
  });
});

describe("a kernel that re-attaches", () => {
  test("catches up on hooks it missed, without replaying older ones", async () => {
    // The only kernel watching: the harness's own (watching every instance) would catch the Stop itself. The last test of the file.
    const first = h.kernel;
    h.model.rule({ name: "slow-alone", when: match.lastUserTextIncludes("finish without me"), reply: { text: "Finished alone.", delayMs: 1_000 } });
    const { instance } = await first.spawn({ role: "executive", workDir: h.workDir, prompt: "finish without me" });
    expect((await first.get(instance.id)).status).toBe("busy");
    await first.close();
    // Nobody watches while the turn ends; the hook still lands in the instance's event log.
    await eventually(async () => (await hookEvents(h, instance.id)).some((e) => e.event === "Stop"), 10_000, "the Stop hook");

    let secondLog!: StatusLog;
    const second = await h.startKernel({}, (kernel) => (secondLog = statusLog(kernel)));
    const caughtUp = await secondLog.waitFor(instance.id, (s) => s === "idle", 5_000, 0);
    expect(caughtUp.lastReply).toBe("Finished alone.");
    // Only what it had missed: busy -> idle, not the SessionStart that made it ready.
    expect(secondLog.changes.filter((c) => c.id === instance.id).map((c) => `${c.from}->${c.to}`)).toEqual(["busy->idle"]);
    await second.terminate(instance.id);
    await second.close();
  });
});
