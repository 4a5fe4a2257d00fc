import path from "node:path";
import { claude } from "@tmux-claude/agent-claude";
import { createClaudeHarness, match, type ClaudeHarness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { git, type GitApi } from "../src/index.js";
import { branches, makeRepo, worktreePaths } from "./helpers.js";

// Real Claude Code against the stand-in model: its worktree is a path Claude Code never saw,
// under the kernel's state dir; the trust the user gave the repository covers it.
let h: ClaudeHarness;
beforeAll(async () => {
  h = await createClaudeHarness({ adapterPlugin: claude(), config: { plugins: [git()] } });
});
afterAll(async () => {
  await h?.close();
  await h?.model.close();
});

describe("Claude Code in a worktree", () => {
  test("an instance in a worktree of a trusted repository starts without a trust dialog failure", async () => {
    const repo = await makeRepo(h.workDir);
    h.model.rule({ name: "in-worktree", when: match.lastUserTextIncludes("hello from the worktree"), reply: { text: "Working in the worktree." } });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: repo, prompt: "hello from the worktree" });
    const state = await h.kernel.plugin<GitApi>("git")!.status(instance.id);
    expect(instance.workDir).toBe(state?.worktree);
    expect(instance.workDir).not.toBe(repo);
    expect(instance.workDirOrigin).toBe(repo);
    expect(instance.agentState?.trustedOrigin).toBe(repo);
    const read = await h.kernel.read(instance.id, { wait: true, timeoutMs: 20_000 });
    expect(read.lastReply).toContain("Working in the worktree.");
  });

  test("the worktree of an untrusted repository still asks, and the spawn fails naming the dialog", async () => {
    const repo = await makeRepo(path.join(h.dir, "untrusted-repo"));
    await expect(h.kernel.spawn({ role: "executive", workDir: repo, prompt: "never" })).rejects.toThrow(/trust/iu);
    // An agent that failed to start leaves neither its worktree nor its branch.
    expect(await branches(repo)).toEqual(["main"]);
    expect(await worktreePaths(repo)).toEqual([repo]);
  });
});
