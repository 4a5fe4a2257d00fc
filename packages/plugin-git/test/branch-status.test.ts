// The api's branchStatus: what `git status` shows for one instance, for other
// plugins (the dashboard) to use instead of running git themselves.
import { stat, utimes } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { gitValue } from "../src/git/run.js";
import { commitFiles, gitKernels, writeFiles } from "./helpers.js";

const { start } = gitKernels("git-branch-status");

test("branchStatus gives ahead/behind and dirty files, and reading it does not rewrite the worktree's index", async () => {
  const { h, repo, api } = await start();
  const { instance } = await h.kernel.spawn({ role: "specialist", workDir: repo });
  await commitFiles(instance.workDir, { "done.txt": "work\n" }, "work");
  await writeFiles(instance.workDir, { "new.txt": "not yet committed\n" });
  // A tracked file whose stat changed but content did not: a plain `git status` refreshes (rewrites) the index for it.
  const later = new Date(Date.now() + 60_000);
  await utimes(path.join(instance.workDir, "README.md"), later, later);
  const index = path.resolve(instance.workDir, await gitValue(instance.workDir, ["rev-parse", "--git-path", "index"]));
  const before = await stat(index);

  const status = await api.branchStatus(instance.id);
  expect(status).toMatchObject({ id: instance.id, branch: `tc/${instance.id}`, base: "main", ahead: 1, behind: 0, dirty: ["new.txt"] });
  const after = await stat(index);
  expect(after.mtimeMs).toBe(before.mtimeMs);
  expect(after.ino).toBe(before.ino);

  expect(await api.branchStatus("no-such-instance")).toBeUndefined();
});
