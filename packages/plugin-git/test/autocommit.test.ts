import { eventually, type Harness } from "@tmux-claude/testkit";
import { describe, expect, it } from "vitest";
import { commitMessage } from "../src/commit/auto-commit.js";
import { gitValue } from "../src/git/run.js";
import type { BranchChange, GitUserOptions } from "../src/index.js";
import { gitKernels, writeFiles } from "./helpers.js";

const kernels = gitKernels("git-commit");

async function start(options: GitUserOptions) {
  const started = await kernels.start(options);
  const changes: BranchChange[] = [];
  started.api.onBranchChanged((change) => void changes.push(change));
  return { ...started, changes };
}

const commitCount = (dir: string) => gitValue(dir, ["rev-list", "--count", "HEAD"]).then(Number);

/** A turn of the echo agent: busy for a moment, then idle (turnEnded, reason stop). */
async function turn(h: Harness, id: string, text: string): Promise<void> {
  await h.kernel.send(id, text);
  await h.kernel.read(id, { wait: true, timeoutMs: 10_000 });
}

describe("auto-commit", () => {
  it("commits a dirty worktree at turn end, named after the instance and the turn's prompt, and signals the branch change", async () => {
    const { h, changes } = await start({ autoCommit: true });
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: h.workDir });
    const before = await commitCount(instance.workDir);
    await writeFiles(instance.workDir, { "login.ts": "export const login = 1;\n", "README.md": "changed\n" });
    await turn(h, instance.id, "/work 150 add the login form");
    await eventually(async () => (await commitCount(instance.workDir)) === before + 1, 10_000, "the auto-commit");
    expect(await gitValue(instance.workDir, ["log", "-1", "--format=%s"])).toBe(`${instance.id}: /work 150 add the login form`);
    expect(await gitValue(instance.workDir, ["log", "-1", "--format=%b"])).toContain(`end of a turn (stop) of instance ${instance.id}`);
    expect(await gitValue(instance.workDir, ["status", "--porcelain"])).toBe("");
    expect((await gitValue(instance.workDir, ["show", "--name-only", "--format=", "HEAD"])).split("\n").sort()).toEqual(["README.md", "login.ts"]);
    const head = await gitValue(instance.workDir, ["rev-parse", "HEAD"]);
    await eventually(() => changes.some((c) => c.reason === "autoCommit"), 5_000, "the branch-changed signal");
    expect(changes.filter((c) => c.reason === "autoCommit")).toEqual([{ instanceId: instance.id, branch: `tc/${instance.id}`, commit: head, reason: "autoCommit" }]);

    // A clean tree at the next turn end makes no empty commit.
    await turn(h, instance.id, "/work 50 nothing to change");
    await turn(h, instance.id, "/work 50 still nothing");
    expect(await commitCount(instance.workDir)).toBe(before + 1);
  });

  it("is off unless the plugin, the role or the spawn turns it on", async () => {
    const { h } = await start({ roles: { manager: { autoCommit: true } } });
    const plain = (await h.kernel.spawn({ role: "specialist", workDir: h.workDir })).instance;
    const byRole = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const bySpawn = (await h.kernel.spawn({ role: "specialist", workDir: h.workDir, plugins: { git: { autoCommit: true } } })).instance;
    const counts = new Map<string, number>();
    for (const instance of [plain, byRole, bySpawn]) {
      counts.set(instance.id, await commitCount(instance.workDir));
      await writeFiles(instance.workDir, { "work.txt": `${instance.id}\n` });
      await turn(h, instance.id, "/work 50 write work.txt");
    }
    for (const instance of [byRole, bySpawn]) {
      await eventually(async () => (await commitCount(instance.workDir)) === counts.get(instance.id)! + 1, 10_000, `the auto-commit of ${instance.id}`);
    }
    expect(await commitCount(plain.workDir)).toBe(counts.get(plain.id));
    expect(await gitValue(plain.workDir, ["status", "--porcelain"])).toBe("?? work.txt");
  });

  it("without the turn's prompt, names the reply's first line and says so", () => {
    const message = commitMessage({ instanceId: "spec-1", reason: "stop", lastReply: "\nFixed the parser.\nDetails..." }, {});
    expect(message.split("\n")[0]).toBe("spec-1: Fixed the parser.");
    expect(message).toContain("the subject is the first line of the agent's reply");
    const long = commitMessage({ instanceId: "spec-1", reason: "stop", prompt: "x".repeat(200) });
    expect(long.split("\n")[0]).toHaveLength(72);
  });
});
