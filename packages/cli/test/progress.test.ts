// `tmux-claude progress`: an instance reports its progress from inside
// (TMUX_CLAUDE_INSTANCE_ID names it), list --tree / list --json / read show
// it, `progress [id] --json` rolls a subtree up; done > total is refused
// naming the values, nothing written.
import { afterAll, beforeAll, expect, test } from "vitest";
import { BIN, createEnv, ECHO_AGENT, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  // A shell as an agent: the command a person (or a script agent) runs in its pane is the report.
  env = await createEnv({ agents: { echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT] }, shell: { adapter: "command", command: "sh", env: { PS1: "$ " } } } });
});
afterAll(async () => env?.close());

const json = <T>(result: { code: number | null; stdout: string; stderr: string }): T => {
  expect(result.stderr, result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
};

test("report from inside an instance, shown by list --tree, list --json, read and the roll-up; bad input refused", async () => {
  expect((await env.run(["spawn", "executive"])).stdout).toBe("exec-1\n");
  expect((await env.run(["spawn", "manager", "--parent", "exec-1"])).stdout).toBe("exec-1.mgr-1\n");
  const inside = { env: { TMUX_CLAUDE_INSTANCE_ID: "exec-1.mgr-1" } };
  const set = await env.run(["progress", "--set", "3/7", "--current", "Writing tests"], inside);
  expect(set.stdout).toBe("exec-1.mgr-1: 3/7: Writing tests\n");

  const tree = await env.run(["list", "--tree"]);
  expect(tree.stdout).toMatch(/^ {2}exec-1\.mgr-1 +manager +idle +3\/7: Writing tests /mu);
  expect(tree.stdout).toMatch(/^ID +ROLE +STATUS +PROGRESS +AGENT/mu);
  const listed = json<{ id: string; progress?: Record<string, unknown> }[]>(await env.run(["list", "--json"]));
  expect(listed.find((i) => i.id === "exec-1.mgr-1")?.progress).toMatchObject({ done: 3, total: 7, current: "Writing tests", source: "tool" });
  expect(json<{ progress?: unknown }>(await env.run(["read", "exec-1.mgr-1", "--json"])).progress).toMatchObject({ done: 3, total: 7 });
  expect((await env.run(["read", "exec-1.mgr-1"])).stdout).toContain("Progress: 3/7: Writing tests");

  const rollup = json<Record<string, unknown>>(await env.run(["progress", "exec-1", "--json"]));
  expect(rollup).toMatchObject({ rootId: "exec-1", done: 3, total: 7, withProgress: 1, withoutProgress: 1 });
  expect((await env.run(["progress"])).stdout).toContain("All instances: 3/7 steps done; 1 instance(s) report progress, 1 do not.");

  const bad = await env.run(["progress", "--set", "5/3"], inside);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("done 5 is more than total 3");
  expect(bad.stderr).toContain("Nothing was written.");
  const notNumbers = await env.run(["progress", "exec-1", "--set", "half"]);
  expect(notNumbers.code).toBe(2);
  expect(notNumbers.stderr).toContain('--set "half" is not done/total');
  // Inside an instance, as the MCP tool: only its own (exit 2, TC_FORBIDDEN), nothing written.
  const spoof = await env.run(["progress", "exec-1", "--set", "1/1", "--current", "spoofed"], inside);
  expect(spoof.code, spoof.stderr).toBe(2);
  expect(spoof.stderr).toContain(`Instance "exec-1.mgr-1" (this runs inside it: TMUX_CLAUDE_INSTANCE_ID) may report only its own progress, not that of "exec-1"`);
  expect(json<{ progress?: unknown }>(await env.run(["read", "exec-1", "--json"])).progress).toBeUndefined();
  expect((await env.run(["progress", "exec-1.mgr-1", "--set", "3/7", "--current", "Writing tests"], inside)).code).toBe(0);
  const nobody = await env.run(["progress", "--set", "1/2"]);
  expect(nobody.code).toBe(2);
  expect(nobody.stderr).toContain("progress --set needs the instance");
  expect(json<{ progress?: unknown }>(await env.run(["read", "exec-1.mgr-1", "--json"])).progress).toMatchObject({ done: 3, total: 7, current: "Writing tests" });

  // Without any progress the table keeps its columns.
  await env.run(["progress", "exec-1.mgr-1", "--set", "-"]);
  expect((await env.run(["list", "--tree"])).stdout).not.toContain("PROGRESS");
  await env.run(["terminate", "exec-1", "--cascade"]);
});

test("a shell agent reports its progress with the CLI from inside its own pane; list --tree shows it", async () => {
  expect((await env.run(["spawn", "executive", "--agent", "shell"])).code).toBe(0);
  const id = (await env.run(["list", "--json"])).stdout.match(/"id": "(exec-\d+)"/u)![1]!;
  // Typed into the shell: TMUX_CLAUDE_INSTANCE_ID in its environment names the instance.
  expect((await env.run(["send", id, `${process.execPath} ${BIN} --config ${env.configFile} progress --set 2/5 --current 'Writing tests'`])).code).toBe(0);
  const read = json<{ status: string; progress?: unknown; screen: string }>(await env.run(["read", id, "--wait", "--json"]));
  expect(read.progress, read.screen).toMatchObject({ done: 2, total: 5, current: "Writing tests", source: "tool" });
  expect(read.screen).toContain(`${id}: 2/5: Writing tests`);
  expect((await env.run(["list", "--tree"])).stdout).toMatch(new RegExp(`^${id} +executive +idle +2/5: Writing tests `, "mu"));
  await env.run(["terminate", id]);
});
