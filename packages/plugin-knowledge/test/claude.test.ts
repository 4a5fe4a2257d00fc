// The "done when" with the real Claude Code (pinned release) against
// the stand-in model: two specialists of one hierarchy call the tools
// themselves over their own MCP connections. The second's claim of an
// overlapping path is refused naming the first; it finds the note the first
// recorded; once the first is terminated, its claim succeeds.
import { claude } from "@tmux-claude/agent-claude";
import { mcp, type McpApi } from "@tmux-claude/mcp";
import { createClaudeHarness, eventually, type ClaudeHarness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { knowledge } from "../src/index.js";
import { instanceOf, results, tool } from "../../mcp/test/helpers.js";

let h: ClaudeHarness;
beforeAll(async () => {
  h = await createClaudeHarness({ adapterPlugin: claude(), config: { plugins: [mcp({ port: 0 }), knowledge()], limits: { spawnTimeout: 60_000, sendTimeout: 30_000 } } });
  await h.kernel.plugin<McpApi>("mcp")!.listen();
}, 300_000);
afterAll(async () => {
  await h?.close();
});

test("Claude Code specialists: an overlapping claim is refused naming the holder, a sibling's note is found, the claim succeeds once the holder is terminated", async () => {
  // The team above them is cheap echo agents; the specialists are Claude Code.
  const exec = (await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "echo" })).instance.id;
  const mgr = (await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: exec, agent: "echo" })).instance.id;
  const first = `${mgr}.spec-1`;
  const second = `${mgr}.spec-2`;
  h.model.rule({
    name: "knowledge script",
    when: (req) => instanceOf(req) === first || instanceOf(req) === second,
    reply: (req) => {
      const done = results(req);
      if (instanceOf(req) === first) {
        if (done.length === 0) return tool("claim_files", { paths: ["src/auth.ts"] });
        if (done.length === 1) return tool("knowledge_record", { key: "auth/tokens", value: "Tokens are rotated every 15 minutes.", tags: ["auth"] });
        return { text: "FIRST DONE" };
      }
      switch (done.length) {
        case 0:
          return tool("claim_files", { paths: ["src/**"] });
        case 1:
          return tool("knowledge_query", { tag: "auth" });
        case 2:
          // The first turn's end, or the second turn's start (the retry asked for after the holder was terminated).
          return JSON.stringify(req.body.messages?.at(-1) ?? "").includes("claim src again")
            ? tool("claim_files", { paths: ["src/**"] })
            : { text: `SECOND SAW: ${done[0]} | ${done[1]}` };
        default:
          return { text: `SECOND RETRIED: ${done[2]}` };
      }
    },
  });
  await h.kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr, prompt: "Claim src/auth.ts and note how tokens work." });
  expect((await h.kernel.read(first, { wait: true, timeoutMs: 90_000 })).lastReply).toBe("FIRST DONE");
  await h.kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr, prompt: "Claim all of src." });
  const saw = (await h.kernel.read(second, { wait: true, timeoutMs: 90_000 })).lastReply ?? "";
  expect(saw).toContain(`\\"${first}\\" holds \\"src/auth.ts\\"`);
  expect(saw).toContain("Tokens are rotated every 15 minutes.");
  // Claude Code hands the model the structured result: who recorded it is there.
  expect(saw, saw).toContain(`\\"by\\":\\"${first}\\"`);
  await h.kernel.terminate(first);
  await h.kernel.send(second, "The first specialist is gone: claim src again.");
  // The receipt comes before the agent reports the turn busy: wait for this turn's own reply.
  const retried = await eventually(async () => {
    const reply = (await h.kernel.read(second, { wait: true, timeoutMs: 90_000 })).lastReply ?? "";
    return reply.startsWith("SECOND RETRIED") ? reply : undefined;
  }, 90_000, "the second specialist's reply to its retry");
  expect(retried, retried).toContain(`\\"instanceId\\":\\"${second}\\",\\"claimed\\":[\\"src/**\\"]`);
  await h.kernel.terminate(exec, { cascade: true });
}, 240_000);
