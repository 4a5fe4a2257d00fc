/**
 * AI conflict resolution with the real Claude Code against the scripted
 * stand-in model: the resolver is spawned in a scratch worktree holding the
 * conflicted merge, the model answers its prompt with a Bash call that writes
 * the file, and the plugin checks the result. A resolution that passes verify
 * becomes a two-parent merge commit; one that leaves markers or fails verify
 * is rejected with the reason; the stats count all three.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { claude } from "@tmux-claude/agent-claude";
import type { Plugin } from "@tmux-claude/core";
import { createClaudeHarness, lastUserText, match, type ClaudeHarness, type RecordedRequest } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gitValue, runGit } from "../src/git/run.js";
import { mergeOne } from "../src/merge/engine.js";
import { installResolve, mergeResolver, resolverOptionsSchema, resolverRoles, type ResolvePart } from "../src/resolve/index.js";
import { readResolutions } from "../src/resolve/log.js";
import { GitCommands } from "../src/surfaces/commands.js";
import { statsSubcommand } from "../src/surfaces/stats-command.js";
import { commitFiles, makeRepo } from "./helpers.js";
import { resolverPromptMark, scriptResolver } from "./resolve-helpers.js";

let h: ClaudeHarness;
let part: ResolvePart;
/** The same part with a resolver that may take 2 s only. */
let hurried: ResolvePart;
let repo: string;
/** verify: fails, saying why, when a.txt still says "broken". */
const VERIFY = "node check.mjs";

const options = resolverOptionsSchema.parse({ timeoutMs: 60_000, verifyTimeoutMs: 30_000 });
/** The resolve part under the plugin name "git", so the resolver's `plugins: { git }` spawn option is accepted. */
const resolveOnly: Plugin = {
  name: "git",
  defaultRoles: resolverRoles(options),
  apply(ctx) {
    part = installResolve(ctx, options);
    hurried = installResolve(ctx, { ...options, timeoutMs: 2_000 });
  },
};

/** Commit `files` on `branch`, switching the repository's checkout to it. */
async function commit(branch: string, files: Record<string, string>, message: string): Promise<void> {
  await runGit(repo, ["switch", "-q", branch]);
  await commitFiles(repo, files, message);
}

/** A branch off the base whose line 2 conflicts with main's. */
async function conflictingBranch(name: string, line: string): Promise<void> {
  await runGit(repo, ["branch", name, "base"]);
  await commit(name, { "a.txt": `one\n${line}\nthree\n` }, `${name}: line 2 says ${line}`);
}

const resolverPrompts = (branch: string): RecordedRequest[] => h.model.requests.filter((r) => lastUserText(r).includes(resolverPromptMark(branch)));

async function scratchLeft(): Promise<string[]> {
  return readdir(path.join(h.stateDir, "git", "scratch")).catch(() => []);
}

beforeAll(async () => {
  h = await createClaudeHarness({
    adapterPlugin: claude(),
    // The resolver edits files unasked in a scratch folder Claude Code has not seen.
    agent: { trustWorkDir: true, skipPermissions: true },
    config: { plugins: [resolveOnly] },
  });
  repo = await makeRepo(path.join(h.dir, "repo"), {
    "a.txt": "one\nbase\nthree\n",
    "check.mjs": `import { readFileSync } from "node:fs";\nif (readFileSync("a.txt", "utf8").includes("broken")) { console.error("check: a.txt must not say broken"); process.exit(1); }\nconsole.log("check: ok");\n`,
  });
  await runGit(repo, ["branch", "base"]);
  await commit("main", { "a.txt": "one\nmain\nthree\n" }, "main: line 2 says main");
  await conflictingBranch("feature-ok", "feature");
  await conflictingBranch("feature-markers", "markers");
  await conflictingBranch("feature-verify", "verify");
  await conflictingBranch("feature-queue", "queue");
  await conflictingBranch("feature-slow", "slow");
  await runGit(repo, ["switch", "-q", "main"]);
}, 300_000);
afterAll(async () => {
  await h?.close();
});

describe("resolve: \"ai\" with real Claude Code", () => {
  test("a resolution that passes verify is a merge commit with both parents and the resolved content; the target is not moved", async () => {
    scriptResolver(h.model, "feature-ok", "printf 'one\\nmain and feature\\nthree\\n' > a.txt", "a.txt: kept both sides' line 2.");
    const main = await gitValue(repo, ["rev-parse", "main"]);
    const feature = await gitValue(repo, ["rev-parse", "feature-ok"]);
    const started = Date.now();
    const outcome = await part.resolveConflicts({
      repo,
      target: "main",
      source: "feature-ok",
      verify: VERIFY,
      intents: { target: "the manager's integration branch", source: "make line 2 say feature" },
    });
    const tookMs = Date.now() - started;
    expect(outcome).toMatchObject({ accepted: true, targetCommit: main, sourceCommit: feature, files: ["a.txt"], hunks: 1, reply: "a.txt: kept both sides' line 2.", verify: { ok: true } });
    if (!outcome.accepted) throw new Error(outcome.detail);
    expect(await gitValue(repo, ["rev-list", "--parents", "-n", "1", outcome.commit])).toBe(`${outcome.commit} ${main} ${feature}`);
    expect(await gitValue(repo, ["show", `${outcome.commit}:a.txt`])).toBe("one\nmain and feature\nthree");
    expect(await gitValue(repo, ["log", "-1", "--format=%B", outcome.commit])).toMatch(/^Merge feature-ok into main\n\nConflicts in a\.txt resolved by res-\d+, checked with `node check\.mjs`\./u);
    // Moving the target is the merge part's job (update-ref from targetCommit); here nothing of the user's changed.
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(main);
    expect(await gitValue(repo, ["status", "--porcelain"])).toBe("");

    // The resolver was told the hunk, both sides' commits, each side's intent and the verify command.
    const [prompt] = resolverPrompts("feature-ok");
    const text = lastUserText(prompt!);
    expect(text).toMatch(/### a\.txt \(content, 1 hunk\)\n```\n@@ lines 1-7 @@\none\n<<<<<<< HEAD\nmain\n=======\nfeature\n>>>>>>> [0-9a-f]+\nthree\n```/u);
    expect(text).toContain("main: line 2 says main");
    expect(text).toContain("feature-ok: line 2 says feature");
    expect(text).toContain("What feature-ok is for: make line 2 say feature");
    expect(text).toContain("must pass `node check.mjs`");
    // It ran without a worktree of its own, in the scratch worktree; it is gone, and so is the scratch worktree.
    expect(await h.kernel.list()).toEqual([]);
    expect(await scratchLeft()).toEqual([]);
    expect((await gitValue(repo, ["worktree", "list", "--porcelain"])).match(/^worktree /gmu)).toHaveLength(1);
    console.info(`[resolve] accepted resolution with real Claude Code: ${tookMs} ms from the conflicted merge to the verified commit`);
  });

  test("a resolution that leaves conflict markers is rejected, naming the file, with the resolver's reply", async () => {
    scriptResolver(h.model, "feature-markers", "echo 'I looked at a.txt'", "I could not decide which line 2 to keep.");
    const main = await gitValue(repo, ["rev-parse", "main"]);
    const outcome = await part.resolveConflicts({ repo, target: "main", source: "feature-markers", verify: VERIFY });
    expect(outcome).toMatchObject({ accepted: false, reason: "markers", files: ["a.txt"], reply: "I could not decide which line 2 to keep." });
    if (outcome.accepted) throw new Error("accepted");
    expect(outcome.detail).toBe("conflict markers remain in a.txt:2, a.txt:4, a.txt:6");
    // Rejected before verify ran.
    expect(outcome.verify).toBeUndefined();
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(main);
    expect(await h.kernel.list()).toEqual([]);
    expect(await scratchLeft()).toEqual([]);
  });

  test("a resolution that fails verify is rejected with verify's output", async () => {
    scriptResolver(h.model, "feature-verify", "printf 'one\\nbroken\\nthree\\n' > a.txt", "a.txt: line 2 resolved.");
    const main = await gitValue(repo, ["rev-parse", "main"]);
    const outcome = await part.resolveConflicts({ repo, target: "main", source: "feature-verify", verify: VERIFY });
    expect(outcome).toMatchObject({ accepted: false, reason: "verify", reply: "a.txt: line 2 resolved.", verify: { ok: false, code: 1 } });
    if (outcome.accepted) throw new Error("accepted");
    expect(outcome.detail).toBe("verify (node check.mjs) exited 1 on the resolved merge:\ncheck: a.txt must not say broken");
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(main);
    expect(await h.kernel.list()).toEqual([]);
    expect(await scratchLeft()).toEqual([]);
  });

  test("a verify that names no program is refused before a worktree or resolver is made", async () => {
    await expect(part.resolveConflicts({ repo, target: "main", source: "feature-ok", verify: "   " })).rejects.toMatchObject({ code: "TC_GIT_MERGE_INVALID", message: expect.stringContaining('verify "   " names no command') });
    expect(await scratchLeft()).toEqual([]);
    expect(await h.kernel.list()).toEqual([]);
  });

  test("a resolver that does not end its turn within resolver.timeoutMs is rejected (timeout) and terminated", async () => {
    h.model.rule({ name: "slow resolver", when: match.lastUserTextIncludes(resolverPromptMark("feature-slow")), reply: { text: "Thinking for a long time.", delayMs: 30_000 }, times: 1 });
    const started = Date.now();
    const outcome = await hurried.resolveConflicts({ repo, target: "main", source: "feature-slow" });
    expect(outcome).toMatchObject({ accepted: false, reason: "timeout", detail: expect.stringContaining("did not finish within resolver.timeoutMs (2000 ms)") });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await h.kernel.list()).toEqual([]);
    expect(await scratchLeft()).toEqual([]);
  });

  test("through the merge engine (resolve: \"ai\"): the resolved, verified merge moves the target and its checkout", async () => {
    scriptResolver(h.model, "feature-queue", "printf 'one\\nmain and queue\\nthree\\n' > a.txt", "a.txt: both.");
    const main = await gitValue(repo, ["rev-parse", "main"]);
    const source = await gitValue(repo, ["rev-parse", "feature-queue"]);
    // The merge queue makes its state dir before it runs the engine.
    const mergeState = path.join(h.stateDir, "git", "merge-state");
    await mkdir(mergeState, { recursive: true });
    const outcome = await mergeOne(
      {
        id: "resolve-test-1", repo, source: "feature-queue", target: "main", strategy: "merge", resolve: "ai", verify: ["node", "check.mjs"], verifyTimeoutMs: 30_000,
        message: "Merge feature-queue into main", priority: 0, batch: false, instanceId: undefined, requestedAt: new Date().toISOString(),
      },
      { scratchRoot: path.join(h.stateDir, "git", "merge-scratch"), stateDir: mergeState, resolve: mergeResolver(part) },
    );
    expect(outcome, outcome.reason).toMatchObject({ status: "merged", previous: main, resolution: { accepted: true, reply: "a.txt: both." } });
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(outcome.commit);
    expect(await gitValue(repo, ["rev-list", "--parents", "-n", "1", "main"])).toBe(`${outcome.commit} ${main} ${source}`);
    // The target's checkout came along, and is clean.
    expect(await gitValue(repo, ["show", "main:a.txt"])).toBe("one\nmain and queue\nthree");
    expect(await gitValue(repo, ["status", "--porcelain"])).toBe("");
    expect(await scratchLeft()).toEqual([]);
  });

  test("stats count every attempt: api and `tmux-claude git stats [--json]`", async () => {
    expect(await part.stats()).toEqual({ attempts: 5, accepted: 2, rejected: 3, acceptanceRate: 2 / 5, byReason: { markers: 1, verify: 1, timeout: 1 } });
    const log = await readResolutions(h.stateDir);
    expect(log.map((r) => [r.source, r.accepted, r.reason ?? null])).toEqual([
      ["feature-ok", true, null],
      ["feature-markers", false, "markers"],
      ["feature-verify", false, "verify"],
      ["feature-slow", false, "timeout"],
      ["feature-queue", true, null],
    ]);
    expect(log[0]).toMatchObject({ repo, target: "main", files: ["a.txt"], hunks: 1, resolver: { agent: "claude", id: expect.stringMatching(/^res-\d+$/u) }, verify: { argv: ["node", "check.mjs"], passed: true, code: 0 } });
    expect(log[2]).toMatchObject({ verify: { passed: false, code: 1 }, detail: expect.stringContaining("a.txt must not say broken") });
    let stdout = "";
    const commands = new GitCommands({ stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => undefined } });
    commands.register(statsSubcommand);
    expect(await commands.dispatch(["stats", "--json"], h.kernel)).toBe(0);
    expect(JSON.parse(stdout)).toEqual(await part.stats());
    stdout = "";
    expect(await commands.dispatch(["stats"], h.kernel)).toBe(0);
    expect(stdout).toBe("AI conflict resolutions: 5 attempts, 2 accepted, 3 rejected (acceptance rate 40.0%)\nRejected by reason: markers 1, verify 1, timeout 1\n");
  });

  test("a serving kernel that starts after a kill removes the killed resolution's scratch worktree and terminates its resolver", async () => {
    // What a process killed mid-resolution leaves: its scratch worktree (named with its pid, now dead) and the resolver working there.
    const child = execFile(process.execPath, ["-e", ""]);
    await new Promise((resolve) => child.on("exit", resolve));
    const stale = path.join(h.stateDir, "git", "scratch", `resolve-${child.pid}-killed-abcdef`);
    await runGit(repo, ["worktree", "add", "--quiet", "--detach", stale, "main"]);
    await runGit(stale, ["merge", "--no-commit", "--no-ff", "feature-slow"], { ok: [1] });
    const orphan = (await h.kernel.spawn({ role: "resolver", workDir: stale, plugins: { git: { isolation: "none" } } })).instance;

    // Its plugins' ready taps have run when startKernel returns. (This kernel's part now serves the tests; this test is the last.)
    await h.startKernel();
    expect(await scratchLeft()).toEqual([]);
    expect((await gitValue(repo, ["worktree", "list", "--porcelain"])).match(/^worktree /gmu)).toHaveLength(1);
    expect((await h.kernel.list()).map((i) => i.id)).not.toContain(orphan.id);
  });
});
