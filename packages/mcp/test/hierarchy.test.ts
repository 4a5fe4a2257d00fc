// The whole point of tmux-claude, with the real Claude Code binary: an
// executive spawns a manager through its own MCP connection, the manager
// spawns a specialist, the specialist writes a file, and the executive reads
// what the specialist said. The model is the test kit's scripted stand-in.
// It runs on the pinned Claude Code and on the newest release on the registry.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { claudeReleases, isMainTurn, toolNames } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { claude } from "@tmux-claude/agent-claude";
import { createClaudeHarness, type ClaudeHarness } from "@tmux-claude/testkit";
import { mcp, type McpApi } from "../src/index.js";
import { instanceOf, results, tool } from "./helpers.js";

for (const release of await claudeReleases()) {
  describe.skipIf(release.skip !== undefined)(`Claude Code ${release.label}`, () => {
    let h: ClaudeHarness;
    beforeAll(async () => {
      h = await createClaudeHarness({ adapterPlugin: claude(), claude: await release.binary(), config: { plugins: [mcp({ port: 0 })], limits: { spawnTimeout: 60_000, sendTimeout: 30_000 } } });
      await h.kernel.plugin<McpApi>("mcp")!.listen();
    }, 300_000);
    afterAll(async () => {
      await h?.close();
    });

    test("executive -> manager -> specialist over MCP, with the real Claude Code", async () => {
      h.model.rule({
        name: "hierarchy script",
        when: (req) => instanceOf(req) !== undefined,
        reply: (req) => {
          const id = instanceOf(req)!;
          const done = results(req);
          if (id === "exec-1") {
            switch (done.length) {
              case 0:
                return tool("spawn", { role: "manager", prompt: "Delegate the file to a specialist." });
              case 1:
                return tool("read", { instanceId: "exec-1.mgr-1", wait: true, timeoutMs: 90_000 });
              case 2:
                return tool("read", { instanceId: "exec-1.mgr-1.spec-1", wait: true, timeoutMs: 90_000 });
              case 3:
                return tool("list", {});
              default: {
                const said = /SPECIALIST SAYS: [^"\\]*/u.exec(done[2] ?? "")?.[0] ?? "(nothing from the specialist)";
                return { text: `Final report. ${said}` };
              }
            }
          }
          if (id === "exec-1.mgr-1") {
            return done.length === 0 ? tool("spawn", { role: "specialist", prompt: "Write result.txt." }) : { text: "Manager: the specialist is on it." };
          }
          if (id === "exec-1.mgr-1.spec-1") {
            return done.length === 0
              ? { toolUse: { name: "Bash", input: { command: "echo from-specialist > result.txt", description: "Write result.txt" } } }
              : { text: "SPECIALIST SAYS: result.txt written" };
          }
          return { text: `unexpected instance ${id}` };
        },
      });

      const { instance: exec } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "Get result.txt written by your team." });
      const final = await h.kernel.read(exec.id, { wait: true, timeoutMs: 150_000 });
      expect(final.status).toBe("idle");
      expect(final.lastReply).toBe("Final report. SPECIALIST SAYS: result.txt written");

      // The three-level tree, each instance under the parent that spawned it.
      const tree = (await h.kernel.list()).map((r) => [r.id, r.role, r.parentId]);
      expect(tree).toEqual([
        ["exec-1", "executive", null],
        ["exec-1.mgr-1", "manager", "exec-1"],
        ["exec-1.mgr-1.spec-1", "specialist", "exec-1.mgr-1"],
      ]);
      // The specialist's Bash call really ran.
      expect(existsSync(path.join(h.workDir, "result.txt"))).toBe(true);
      expect((await readFile(path.join(h.workDir, "result.txt"), "utf8")).trim()).toBe("from-specialist");
      // The executive's list call saw the whole subtree.
      const execTurns = h.model.requests.filter((r) => r.kind === "messages" && instanceOf(r) === "exec-1");
      expect(results(execTurns.at(-1)!)[3]).toContain("exec-1.mgr-1.spec-1");
      // Every MCP call came from the instance itself: the specialist got no orchestration tools.
      const specTools = h.model.requests.filter((r) => instanceOf(r) === "exec-1.mgr-1.spec-1").flatMap((r) => ((r.body.tools ?? []) as { name: string }[]).map((t) => t.name));
      expect(specTools.some((name) => name.startsWith("mcp__tmux-claude__spawn"))).toBe(false);
      // The executive's first turn already carried its orchestration tools: loaded up front (alwaysLoad), its MCP session up before the prompt.
      const firstTurn = h.model.requests.find((r) => isMainTurn(r) && instanceOf(r) === "exec-1")!;
      const offered = toolNames(firstTurn);
      console.info(`[hierarchy] Claude Code ${h.claude.version}: the executive's first main turn offered ${offered.join(", ")}`);
      expect(offered).toContain("mcp__tmux-claude__spawn");
      expect(offered).not.toContain("WaitForMcpServers");
      expect(firstTurn.body.tools?.find((t) => t.name === "mcp__tmux-claude__spawn")?.defer_loading).toBeUndefined();
      await h.kernel.terminate(exec.id, { cascade: true });
    }, 240_000);
  });
}
