// The headline, with real instances on a private tmux socket: three
// specialists under one manager, two edit the same line differently; the
// forecast reaches the manager before either merge; merging the first is
// clean; the second reports the file and hunk, exits non-zero, and leaves the
// manager's branch and worktree untouched. Plus the MCP tool's role rule and bad input.
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import type { DeliveryEvent, Notice } from "@tmux-claude/core";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { git, type GitApi } from "../src/index.js";
import { gitValue } from "../src/git/run.js";
import { MergeQueue } from "../src/merge/queue.js";
import { commitFiles, lines, makeRepo } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SHARED = lines("shared", 12);

async function start() {
  const plugin = git({ forecast: { debounceMs: 50 } });
  h = await createHarness({ plugins: [plugin] }, { label: "git-merge" });
  const repo = await makeRepo(h.workDir, { "README.md": "hello\n", "shared.txt": SHARED });
  const delivered: DeliveryEvent[] = [];
  h.kernel.hooks.delivered.tapPromise("test", async (event) => void delivered.push(event));
  const notices: Notice[] = [];
  h.kernel.hooks.notice.tap("test", (notice) => void notices.push(notice));
  const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
  const specs = [];
  for (let i = 0; i < 3; i++) specs.push((await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance);
  return { h, repo, api: plugin.api as GitApi, delivered, notices, manager, specs: specs as [(typeof specs)[0], (typeof specs)[0], (typeof specs)[0]] };
}

/** `tmux-claude git <argv>` as the CLI runs it (through the kernel's commands), with its exit code. */
async function gitCommand(harness: Harness, argv: string[]): Promise<number> {
  const command = (await harness.kernel.commands()).find((c) => c.name === "git")!;
  return command.run(argv, harness.kernel);
}

describe("merging instances", () => {
  it("says which uncommitted files of the source's worktree a merge leaves out (only commits are merged)", async () => {
    const { api, specs } = await start();
    const [s1] = specs;
    await commitFiles(s1.workDir, { "done.txt": "committed\n" }, "s1: done part");
    await writeFile(path.join(s1.workDir, "draft.txt"), "not committed\n");
    const outcome = await api.merge(s1.id);
    expect(outcome).toMatchObject({ status: "merged", uncommittedLeftOut: ["draft.txt"] });
    const { outcomeText } = await import("../src/surfaces/merge-command.js");
    expect(outcomeText(outcome)).toMatch(/1 uncommitted file\(s\) in .*draft\.txt.*Commit them/su);
    const clean = await api.merge(specs[1].id);
    expect(clean.uncommittedLeftOut).toBeUndefined();
  });

  it("first conflicting sibling merges cleanly into the manager; the second reports file and hunk, exits non-zero, and leaves the manager untouched", async () => {
    const { h, api, delivered, notices, manager, specs } = await start();
    const [s1, s2, s3] = specs;
    await commitFiles(s1.workDir, { "shared.txt": SHARED.replace("shared 6\n", "s1 says six\n") }, "s1: reword line 6");
    await commitFiles(s2.workDir, { "shared.txt": SHARED.replace("shared 6\n", "s2 says 6!\n") }, "s2: reword line 6");
    await commitFiles(s3.workDir, { "other.txt": "s3 alone\n" }, "s3: its own file");

    // The forecast reaches the manager before either merge.
    const notice = await eventually(() => delivered.find((d) => d.message.instanceId === manager.id && d.message.text.startsWith("git forecast:")), 15_000, "the forecast to the manager");
    expect(notice.message.text).toContain("shared.txt");

    const managerBranch = `tc/${manager.id}`;
    const first = await api.merge(s1.id);
    expect(first).toMatchObject({ status: "merged", source: `tc/${s1.id}`, target: managerBranch });
    expect(await readFile(path.join(manager.workDir, "shared.txt"), "utf8")).toContain("s1 says six");
    expect(await gitValue(manager.workDir, ["status", "--porcelain"])).toBe("");

    const before = await gitValue(manager.workDir, ["rev-parse", managerBranch]);
    const second = await api.merge(s2.id);
    expect(second.status).toBe("conflict");
    expect(second.conflicts).toEqual([expect.objectContaining({ path: "shared.txt", kind: "content" })]);
    expect(second.conflicts![0]!.hunks).toMatch(/<<<<<<< .*\n(?:.*\n)*s1 says six\n=======\ns2 says 6!\n>>>>>>> /u);
    // Through the CLI's `git merge`: non-zero.
    expect(await gitCommand(h, ["merge", s2.id, "--json"])).toBe(1);
    expect(await gitValue(manager.workDir, ["rev-parse", managerBranch])).toBe(before);
    expect(await gitValue(manager.workDir, ["status", "--porcelain"])).toBe("");
    expect(await readFile(path.join(manager.workDir, "shared.txt"), "utf8")).toContain("s1 says six");

    // Notifiers (plugin-notify) hear of both as `conflict` notices: the forecast, and each merge that conflicted (by its request id).
    const mergeNotice = await eventually(() => notices.find((n) => n.eventId === `merge-conflict-${second.requestId}`), 10_000, "the merge conflict notice");
    expect(mergeNotice).toMatchObject({
      kind: "conflict",
      source: "git",
      severity: "warning",
      instanceId: s2.id,
      title: `Merge of tc/${s2.id} into ${managerBranch} conflicts in shared.txt; ${managerBranch} was not changed`,
      data: { between: "merge", source: `tc/${s2.id}`, target: managerBranch, files: [{ path: "shared.txt", kind: "content" }] },
    });
    // The siblings' forecast (and, once s1 merged, s2's against the manager's branch, as the forecast runs).
    expect(notices.filter((n) => n.data?.between === "siblings")).toEqual([
      expect.objectContaining({ kind: "conflict", instanceId: s1.id, title: `Conflict forecast: ${s1.id} (tc/${s1.id}) and ${s2.id} (tc/${s2.id}) conflict in shared.txt`, data: expect.objectContaining({ parentId: manager.id }) }),
    ]);
    expect(notices.filter((n) => n.kind === "conflict" && n.data?.between === "merge")).toHaveLength(2);

    // The third does not conflict: merged, through the CLI.
    expect(await gitCommand(h, ["merge", s3.id])).toBe(0);
    expect(await readFile(path.join(manager.workDir, "other.txt"), "utf8")).toBe("s3 alone\n");
  });

  it("MCP merge: a manager merges its own children into itself; a specialist, or a manager for another's child, is refused; the root merges anything", async () => {
    const { h, repo, api, manager, specs } = await start();
    const [s1, s2] = specs;
    await commitFiles(s1.workDir, { "a.txt": "a\n" }, "s1: a");
    await commitFiles(s2.workDir, { "b.txt": "b\n" }, "s2: b");
    const other = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    const tool = (await h.kernel.tools()).find((t) => t.name === "merge")!;
    expect(tool.roles).not.toContain("specialist");

    await expect(tool.handler({ instanceId: s2.id }, { instanceId: s1.id, role: "specialist" })).rejects.toThrow(/specialist does not merge/u);
    await expect(tool.handler({ instanceId: s1.id }, { instanceId: other.id, role: "manager" })).rejects.toMatchObject({ code: "TC_GIT_MERGE_FORBIDDEN" });
    await expect(tool.handler({ instanceId: s1.id, into: "main" }, { instanceId: manager.id, role: "manager" })).rejects.toThrow(/into its own branch/u);
    const dry = await tool.handler({ instanceId: s1.id, dryRun: true }, { instanceId: manager.id, role: "manager" });
    expect(dry).toMatchObject({ status: "would-merge" });
    expect(await gitValue(repo, ["rev-parse", `tc/${manager.id}`])).toBe((await api.status(manager.id))!.baseCommit);
    expect(await tool.handler({ instanceId: s1.id }, { instanceId: manager.id, role: "manager" })).toMatchObject({ status: "merged" });
    expect(await tool.handler({ instanceId: s2.id }, { instanceId: null, role: null })).toMatchObject({ status: "merged" });
  });

  it("bad input: unknown instance, no git state, missing target, a deleted branch, a dirty target checkout, invalid options", async () => {
    const { h, repo, api, manager, specs } = await start();
    const [s1] = specs;
    await commitFiles(s1.workDir, { "a.txt": "a\n" }, "s1: a");
    await expect(api.merge("nobody")).rejects.toMatchObject({ code: "TC_INSTANCE_NOT_FOUND" });
    const plain = (await h.kernel.spawn({ role: "specialist", workDir: repo, plugins: { git: { isolation: "none" } } })).instance;
    await expect(api.merge(plain.id)).rejects.toMatchObject({ code: "TC_GIT_NO_GIT_STATE" });
    await expect(api.merge(s1.id, { into: "no-such-branch" })).rejects.toThrow(/no branch no-such-branch/u);
    await expect(api.merge(s1.id, { strategy: "octopus" as "merge" })).rejects.toMatchObject({ code: "TC_GIT_MERGE_INVALID" });
    await expect(api.merge(s1.id, { verify: `echo "unclosed` })).rejects.toThrow(/unclosed/u);
    const gone = specs[2];
    await gitValue(repo, ["update-ref", "-d", `refs/heads/tc/${gone.id}`]);
    await expect(api.merge(gone.id)).rejects.toMatchObject({ code: "TC_GIT_BRANCH_MISSING" });

    // The manager has uncommitted work: refused, naming the file and the checkout; nothing moves.
    await writeFile(path.join(manager.workDir, "README.md"), "manager's uncommitted edit\n");
    const before = await gitValue(repo, ["rev-parse", `tc/${manager.id}`]);
    const refused = await api.merge(s1.id);
    expect(refused).toMatchObject({ status: "refused", code: "TC_GIT_TARGET_DIRTY" });
    expect(refused.reason).toContain("README.md");
    expect(refused.reason).toContain(manager.workDir);
    expect(await gitValue(repo, ["rev-parse", `tc/${manager.id}`])).toBe(before);
    expect(await readFile(path.join(manager.workDir, "README.md"), "utf8")).toBe("manager's uncommitted edit\n");
    expect(await gitCommand(h, ["merge", s1.id, "--json"])).toBe(1);
  });

  it("a restarted serve kernel continues the merge queue a stopped one left", async () => {
    const { h, repo, manager, specs } = await start();
    const [s1] = specs;
    await commitFiles(s1.workDir, { "a.txt": "a\n" }, "s1: a");
    await h.kernel.close();
    // What a kernel killed after queueing leaves: a request in <stateDir>/git/queue, nobody serving it.
    const queue = new MergeQueue({ dir: path.join(h.stateDir, "git", "queue"), scratchRoot: path.join(h.stateDir, "git", "scratch"), lockTimeoutMs: 10_000 });
    await queue.submit({ repo, source: `tc/${s1.id}`, target: `tc/${manager.id}`, strategy: "merge", resolve: "none", verifyTimeoutMs: 10_000, message: "queued before the restart", priority: 0, batch: false, instanceId: s1.id });
    await h.startKernel();
    expect((await queue.list()).map((entry) => entry.source)).toEqual([`tc/${s1.id}`]);
    // Served: the request leaves the queue once its result is recorded (after the branch and the worktree moved).
    await eventually(async () => ((await queue.list()).length === 0 ? true : undefined), 15_000, "the queued merge served by the restarted kernel");
    expect(await gitValue(repo, ["log", "-1", "--format=%s", `tc/${manager.id}`])).toBe("queued before the restart");
    expect(await readFile(path.join(manager.workDir, "a.txt"), "utf8")).toBe("a\n");
    expect(await gitValue(manager.workDir, ["status", "--porcelain"])).toBe("");
  });
});
