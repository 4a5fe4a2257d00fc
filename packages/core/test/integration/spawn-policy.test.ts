// What a role allows its instances to be spawned with, enforced by the kernel
// (so the CLI, the API and MCP callers all get it).
import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ECHO_AGENT, createHarness, type Harness } from "@tmux-claude/testkit";
import { ErrorCodes, isTmuxClaudeError, type SpawnOptions, type TmuxClaudeError } from "../../src/index.js";

let h: Harness;
let exec: string;
let outside: string;
beforeAll(async () => {
  h = await createHarness(
    {
      limits: { spawnTimeout: 10_000, sendTimeout: 5_000 },
      roles: {
        executive: { prefix: "exec", spawns: ["manager", "roamer", "picky"] },
        manager: { prefix: "mgr", spawns: [], agents: ["echo"] },
        roamer: { prefix: "roam", spawns: [], workDirOutsideParent: true },
        // defaultAgent (echo) is not allowed: a spawn naming no agent gets the first listed.
        picky: { prefix: "picky", spawns: [], agents: ["echo2"] },
      },
      agents: { echo2: { adapter: "command", command: process.execPath, args: [ECHO_AGENT] } },
    },
    { watch: "on-demand" },
  );
  ({ instance: { id: exec } } = await h.kernel.spawn({ role: "executive", workDir: h.workDir }));
  outside = path.join(h.dir, "outside");
  await mkdir(outside);
  await mkdir(path.join(h.workDir, "sub", "deeper"), { recursive: true });
  // A name that starts like the workdir but is a sibling of it.
  await mkdir(`${h.workDir}-sibling`);
  await symlink(outside, path.join(h.workDir, "escape"));
});
afterAll(async () => {
  await h?.close();
});

/** Spawn under exec unless `options` names another parent; it must be refused. */
async function refusedSpawn(options: SpawnOptions): Promise<TmuxClaudeError> {
  const before = (await h.kernel.list()).map((r) => r.id);
  const error = await h.kernel.spawn({ parentId: exec, ...options }).then(
    () => new Error(`expected the spawn of a ${options.role} in ${options.workDir} to be refused`),
    (e: unknown) => e,
  );
  if (!isTmuxClaudeError(error)) throw error;
  // Refused before anything was created.
  expect((await h.kernel.list()).map((r) => r.id)).toEqual(before);
  return error;
}

describe("a child's workDir lies inside its parent's", () => {
  test.each([
    ["the filesystem root", "/"],
    ["the parent's parent, through .. (not normalized first)", "<dir>/work/sub/../.."],
    ["a sibling whose name starts like the parent's", "<dir>/work-sibling"],
    ["a symlink inside that points outside", "<dir>/work/escape"],
  ])("refused: %s", async (_what, template) => {
    const workDir = template.replace("<dir>", h.dir);
    const error = await refusedSpawn({ role: "manager", workDir });
    expect(error.code).toBe(ErrorCodes.WORKDIR_NOT_ALLOWED);
    expect(error.kind).toBe("usage");
    expect(error.message).toContain(`A manager must work inside its parent's workDir: "${workDir}"`);
    expect(error.message).toContain(`is outside "${h.workDir}" of "${exec}"`);
    expect(error.message).toContain("roles.manager.workDirOutsideParent: true");
    expect(error.details).toMatchObject({ parentId: exec, parentWorkDir: h.workDir });
  });

  test("the symlink's real path is named", async () => {
    const error = await refusedSpawn({ role: "manager", workDir: path.join(h.workDir, "escape") });
    expect(error.message).toContain(`(real path "${outside}")`);
  });

  test("allowed: the parent's own workDir, a directory below it, and anywhere for a role that allows it", async () => {
    for (const workDir of [h.workDir, path.join(h.workDir, "sub", "deeper")]) {
      const { instance } = await h.kernel.spawn({ role: "manager", parentId: exec, workDir });
      expect(instance.workDir).toBe(workDir);
      await h.kernel.terminate(instance.id);
    }
    const { instance } = await h.kernel.spawn({ role: "roamer", parentId: exec, workDir: outside });
    expect(instance.workDir).toBe(outside);
    await h.kernel.terminate(instance.id);
  });

  test("a top-level instance has no parent and no such limit", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: outside });
    expect(instance.workDir).toBe(outside);
    await h.kernel.terminate(instance.id);
  });
});

describe("roles.<role>.agents", () => {
  test("an agent the role does not list is refused, naming the key", async () => {
    const error = await refusedSpawn({ role: "manager", workDir: h.workDir, agent: "echo2" });
    expect(error.code).toBe(ErrorCodes.AGENT_NOT_ALLOWED);
    expect(error.kind).toBe("usage");
    expect(error.message).toBe(
      'A manager may not run agent "echo2": roles.manager.agents allows "echo". Spawn it with one of those, or add "echo2" to roles.manager.agents in your config.',
    );
  });

  test("a spawn naming no agent gets defaultAgent when allowed, else the role's first agent", async () => {
    const manager = await h.kernel.spawn({ role: "manager", parentId: exec, workDir: h.workDir });
    expect(manager.instance.agent).toBe("echo");
    const picky = await h.kernel.spawn({ role: "picky", parentId: exec, workDir: h.workDir });
    expect(picky.instance.agent).toBe("echo2");
    expect((await refusedSpawn({ role: "picky", workDir: h.workDir, agent: "echo" })).code).toBe(ErrorCodes.AGENT_NOT_ALLOWED);
    await h.kernel.terminate(manager.instance.id);
    await h.kernel.terminate(picky.instance.id);
  });

  test("an empty parentId is an error, not a top-level spawn", async () => {
    const error = await refusedSpawn({ role: "manager", workDir: h.workDir, parentId: "" });
    expect(error.code).toBe(ErrorCodes.INVALID_ARGUMENT);
  });
});
