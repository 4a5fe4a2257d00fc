/**
 * resolve: "ai" through the whole plugin: git() gives a manager and its
 * specialists their worktrees, two specialists change the same line, the first
 * merges clean, the second's conflict goes to a real Claude Code resolver (the
 * stand-in model scripts its edit) and lands on the manager's branch verified;
 * a third whose resolution leaves markers is reported and changes nothing.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { claude } from "@tmux-claude/agent-claude";
import { createClaudeHarness, ECHO_AGENT, lastUserText, match, type ClaudeHarness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { git, type GitApi } from "../src/index.js";
import { gitValue } from "../src/git/run.js";
import { branches, commitFiles, makeRepo } from "./helpers.js";
import { resolverPromptMark, scriptResolver } from "./resolve-helpers.js";

let h: ClaudeHarness;
let api: GitApi;
let echoDir: string;
let repo: string;

beforeAll(async () => {
  echoDir = await mkdtemp(path.join(os.tmpdir(), "tc-git-resolve-echo-"));
  const echoLog = path.join(echoDir, "received.jsonl");
  h = await createClaudeHarness({
    adapterPlugin: claude(),
    // The resolver (the claude agent) edits files unasked in a scratch folder it has not seen.
    agent: { trustWorkDir: true, skipPermissions: true },
    config: {
      plugins: [git({ resolver: { timeoutMs: 60_000 } })],
      // The manager and specialists only hold branches here: the echo agent stands in for them.
      agents: { echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: echoLog }, inputLog: echoLog, clearKey: "C-u" } },
    },
  });
  api = h.kernel.plugin<GitApi>("git")!;
  repo = await makeRepo(path.join(h.dir, "repo"), {
    "a.txt": "one\nbase\nthree\n",
    "check.mjs": `import { readFileSync } from "node:fs";\nif (/<{7}|broken/u.test(readFileSync("a.txt", "utf8"))) { console.error("check: a.txt is not resolved"); process.exit(1); }\n`,
  });
}, 300_000);
afterAll(async () => {
  await h?.close();
  await rm(echoDir, { recursive: true, force: true });
});

test("a manager's specialists conflict: the second merge is resolved by AI and verified, a resolution with markers is reported and changes nothing", async () => {
  const manager = (await h.kernel.spawn({ role: "manager", workDir: repo, agent: "echo", name: "integrate the line-2 work" })).instance;
  const specs = [];
  for (const word of ["first", "second", "third"]) {
    const { instance } = await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir, agent: "echo", name: `make line 2 say ${word}` });
    await commitFiles(instance.workDir, { "a.txt": `one\n${word}\nthree\n` }, `line 2 says ${word}`);
    specs.push(instance);
  }
  const [first, second, third] = specs as [(typeof specs)[0], (typeof specs)[0], (typeof specs)[0]];
  const managerBranch = `tc/${manager.id}`;

  expect(await api.merge(first.id)).toMatchObject({ status: "merged" });

  scriptResolver(h.model, `tc/${second.id}`, "printf 'one\\nfirst then second\\nthree\\n' > a.txt", "a.txt: kept first, then second.");
  const before = await gitValue(repo, ["rev-parse", managerBranch]);
  const secondHead = await gitValue(repo, ["rev-parse", `tc/${second.id}`]);
  const resolved = await api.merge(second.id, { resolve: "ai", verify: "node check.mjs" });
  expect(resolved, resolved.reason).toMatchObject({ status: "merged", previous: before, resolution: { accepted: true, reply: "a.txt: kept first, then second." } });
  expect(await gitValue(repo, ["rev-parse", managerBranch])).toBe(resolved.commit);
  expect(await gitValue(repo, ["rev-list", "--parents", "-n", "1", managerBranch])).toBe(`${resolved.commit} ${before} ${secondHead}`);
  // The manager's worktree came along, clean.
  expect(await readFile(path.join(manager.workDir, "a.txt"), "utf8")).toBe("one\nfirst then second\nthree\n");
  expect(await gitValue(manager.workDir, ["status", "--porcelain"])).toBe("");
  // The resolver knew whose work met: the specialist's and its manager's names.
  const prompt = lastUserText(h.model.requests.find((r) => lastUserText(r).includes(resolverPromptMark(`tc/${second.id}`)))!);
  expect(prompt).toContain(`What tc/${second.id} is for: specialist ${second.id} ("make line 2 say second")`);
  expect(prompt).toContain(`What ${managerBranch} is for: manager ${manager.id} ("integrate the line-2 work")`);

  scriptResolver(h.model, `tc/${third.id}`, "echo 'leaving it'", "Both lines look right to me.");
  const beforeThird = await gitValue(repo, ["rev-parse", managerBranch]);
  const rejected = await api.merge(third.id, { resolve: "ai", verify: "node check.mjs" });
  expect(rejected).toMatchObject({ status: "conflict", code: "TC_GIT_MERGE_CONFLICT", resolution: { accepted: false, reason: "markers", reply: "Both lines look right to me." } });
  expect(rejected.reason).toContain("conflict markers remain in a.txt");
  // Right after an AI resolution failed, it does not suggest one.
  expect(rejected.reason).not.toContain("--resolve ai");
  expect(rejected.conflicts?.map((c) => c.path)).toEqual(["a.txt"]);
  expect(await gitValue(repo, ["rev-parse", managerBranch])).toBe(beforeThird);
  expect(await readFile(path.join(manager.workDir, "a.txt"), "utf8")).toBe("one\nfirst then second\nthree\n");
  expect(await gitValue(manager.workDir, ["status", "--porcelain"])).toBe("");

  // Resolvers worked in scratch worktrees, not worktrees of their own, and none is left.
  expect((await branches(repo)).filter((b) => b.startsWith("tc/res-"))).toEqual([]);
  expect((await h.kernel.list()).map((i) => i.role).sort()).toEqual(["manager", "specialist", "specialist", "specialist"]);
  expect(await api.stats()).toEqual({ attempts: 2, accepted: 1, rejected: 1, acceptanceRate: 0.5, byReason: { markers: 1 } });

  // `tmux-claude git stats --json` as the CLI runs it: the plugin's git command, stats subcommand.
  const gitCommand = (await h.kernel.commands()).find((c) => c.name === "git")!;
  let printed = "";
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => ((printed += String(chunk)), true)) as typeof process.stdout.write;
  try {
    expect(await gitCommand.run(["stats", "--json"], h.kernel)).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  expect(JSON.parse(printed)).toEqual(await api.stats());
});
