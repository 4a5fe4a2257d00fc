// With the real Claude Code against the stand-in model in a real git
// repository: the seed's example YAML verbatim (one manager, three
// specialists each committing its task's file, every task completed through
// the MCP tool `complete`, merged into the manager's branch) and the
// api-service template end to end.
import { mkdir, readFile } from "node:fs/promises";
import { claude } from "@tmux-claude/agent-claude";
import { mcp, type McpApi } from "@tmux-claude/mcp";
import { git, gitValue, runGit, type GitApi } from "@tmux-claude/plugin-git";
import { createClaudeHarness, type ClaudeHarness, type RecordedRequest } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseWorkflow, workflows, type JournalEvent, type WorkflowsPluginApi } from "../src/index.js";
import { ofType } from "./helpers.js";

/** The seed's example, byte for byte. */
const SEED = await readFile(new URL("./fixtures/seed.yaml", import.meta.url), "utf8");

/** Each specialist's file, by its task. */
const FILES: Record<string, string> = { "Implement JWT tokens": "jwt.ts", "Create user model": "user-model.ts", "Build login UI": "login-ui.tsx" };

type Block = { type: string; id?: string; name?: string; tool_use_id?: string };

function instanceOf(req: RecordedRequest): string | undefined {
  return /You are the tmux-claude instance \\?"([^"\\]+)\\?"/u.exec(JSON.stringify(req.body.system ?? ""))?.[1];
}

/** How many tool results the conversation holds (a ToolSearch round trip of the stand-in is no step of the script). */
function resultCount(req: RecordedRequest): number {
  let count = 0;
  const searches = new Set<string>();
  for (const message of (req.body.messages ?? []) as { role: string; content: string | Block[] }[]) {
    if (typeof message.content === "string") continue;
    for (const block of message.content) {
      if (message.role === "assistant" && block.type === "tool_use" && block.name === "ToolSearch") searches.add(block.id ?? "");
      if (message.role === "user" && block.type === "tool_result" && !searches.has(block.tool_use_id ?? "")) count++;
    }
  }
  return count;
}

const complete = (summary: string) => ({ toolUse: { name: "mcp__tmux-claude__complete", input: { summary, status: "ok" } } });

let h: ClaudeHarness;
let repo: string;
beforeAll(async () => {
  h = await createClaudeHarness({
    adapterPlugin: claude(),
    // The specialists commit with Bash in their worktrees: no permission prompt to answer.
    agent: { skipPermissions: true },
    config: { plugins: [mcp({ port: 0 }), git(), workflows()], limits: { spawnTimeout: 60_000, sendTimeout: 30_000 } },
  });
  await h.kernel.plugin<McpApi>("mcp")!.listen();
  repo = h.workDir;
  await mkdir(repo, { recursive: true });
  for (const args of [["init", "-q", "-b", "main"], ["config", "user.name", "Test"], ["config", "user.email", "test@example.invalid"], ["commit", "-q", "--allow-empty", "-m", "initial"]]) await runGit(repo, args);
}, 300_000);
afterAll(async () => {
  await h?.close();
});

test("the seed's example runs unchanged with the real Claude Code: specialists commit, all complete through complete, merged into the manager's branch", async () => {
  const rule = h.model.rule({
    name: "seed script",
    when: (req) => instanceOf(req) !== undefined,
    reply: (req) => {
      const id = instanceOf(req)!;
      const done = resultCount(req);
      if (!id.includes(".spec-")) return done === 0 ? complete("Designed the authentication system: JWT tokens, a user model, a login UI.") : { text: "Design done." };
      const conversation = JSON.stringify(req.body.messages);
      const task = Object.keys(FILES).find((t) => conversation.includes(t));
      if (!task) return { text: `no task found for ${id}` };
      const file = FILES[task]!;
      if (done === 0) {
        return { toolUse: { name: "Bash", input: { command: `printf '%s\\n' '// ${task}' > ${file} && git add ${file} && git commit -q -m '${task}'`, description: `Commit ${file}` } } };
      }
      return done === 1 ? complete(`Committed ${file}.`) : { text: `${task}: done.` };
    },
  });

  const events: JournalEvent[] = [];
  const api = h.kernel.plugin<WorkflowsPluginApi>("workflows")!;
  const result = await api.run({ workflow: parseWorkflow(SEED, "seed.yaml"), workDir: repo, onEvent: (e) => events.push(e) });
  expect(result, JSON.stringify(events.filter((e) => e.type.startsWith("task") || e.type === "step-finished"))).toMatchObject({ state: "succeeded" });

  const tree = (await h.kernel.list()).map((r) => [r.id, r.role, r.parentId]);
  expect(tree).toEqual([
    ["mgr-1", "manager", null],
    ["mgr-1.spec-1", "specialist", "mgr-1"],
    ["mgr-1.spec-2", "specialist", "mgr-1"],
    ["mgr-1.spec-3", "specialist", "mgr-1"],
  ]);
  // The manager's branch holds each specialist's commit.
  const branch = (await h.kernel.plugin<GitApi>("git")!.status("mgr-1"))!.branch;
  const files = (await gitValue(repo, ["ls-tree", "--name-only", branch])).split("\n").sort();
  expect(files).toEqual(["jwt.ts", "login-ui.tsx", "user-model.ts"]);

  // The journal holds every event, as the run saw it.
  const journal = await api.journal(result.id);
  expect(journal.map((e) => e.type)).toEqual(events.map((e) => e.type));
  expect(ofType(journal, "spawned")).toHaveLength(4);
  expect(ofType(journal, "message")).toHaveLength(4);
  expect(ofType(journal, "task-completed").map((e) => [e.instanceId, e.via, e.status]).sort()).toEqual([
    ["mgr-1", "tool", "ok"],
    ["mgr-1.spec-1", "tool", "ok"],
    ["mgr-1.spec-2", "tool", "ok"],
    ["mgr-1.spec-3", "tool", "ok"],
  ]);
  expect(ofType(journal, "merge").map((e) => [e.instanceId, e.into, e.outcome]).sort()).toEqual([1, 2, 3].map((n) => [`mgr-1.spec-${n}`, branch, "merged"]));
  expect(ofType(journal, "step-finished").map((e) => [e.step, e.state])).toEqual([
    ["step-1", "succeeded"],
    ["step-2", "succeeded"],
    ["step-3", "succeeded"],
    ["step-4", "succeeded"],
  ]);
  expect(ofType(journal, "status").length).toBeGreaterThan(0);
  expect(ofType(journal, "reply").length).toBeGreaterThan(0);
  expect(ofType(journal, "usage").length).toBeGreaterThan(0);
  expect(journal.at(-1)).toMatchObject({ type: "run-finished", state: "succeeded" });
  rule.remove();
}, 150_000);

test("the api-service template runs end to end: the design's reply reaches the specialists' context, their branches merge into the manager's", async () => {
  const files: [string, string][] = [["API: implement", "api.ts"], ["Tests: write", "api.test.ts"], ["Documentation: write", "API-README.md"]];
  const design = "Endpoints: GET /bookmarks, POST /bookmarks, DELETE /bookmarks/:id";
  const commit = (file: string) => ({ toolUse: { name: "Bash", input: { command: `printf 'x\\n' > ${file} && git add ${file} && git commit -q -m 'add ${file}'`, description: `Commit ${file}` } } });
  const rule = h.model.rule({
    name: "api-service script",
    when: (req) => instanceOf(req) !== undefined,
    reply: (req) => {
      const id = instanceOf(req)!;
      const done = resultCount(req);
      if (!id.includes(".spec-")) return done === 0 ? commit("API.md") : done === 1 ? complete(design) : { text: "Designed." };
      const conversation = JSON.stringify(req.body.messages);
      const file = files.find(([task]) => conversation.includes(task))?.[1];
      if (!file) return { text: `no task found for ${id}` };
      return done === 0 ? commit(file) : done === 1 ? complete(`Committed ${file}.`) : { text: "Done." };
    },
  });
  const api = h.kernel.plugin<WorkflowsPluginApi>("workflows")!;
  const events: JournalEvent[] = [];
  const result = await api.run({ workflow: api.template("api-service"), vars: { goal: "A REST API for bookmarks" }, workDir: repo, onEvent: (e) => events.push(e) });
  expect(result, JSON.stringify(events.filter((e) => e.type.startsWith("task") || e.type === "step-finished"))).toMatchObject({ state: "succeeded" });
  const manager = ofType(events, "spawned").find((e) => e.step === "design")!.instanceId;
  const branch = (await h.kernel.plugin<GitApi>("git")!.status(manager))!.branch;
  expect((await gitValue(repo, ["ls-tree", "--name-only", branch])).split("\n").sort()).toEqual(["API-README.md", "API.md", "api.test.ts", "api.ts"]);
  const briefs = ofType(events, "message").filter((e) => e.step === "build");
  expect(briefs).toHaveLength(3);
  for (const brief of briefs) expect(brief.text).toContain(`The API service: A REST API for bookmarks. The endpoints: ${design}`);
  expect(ofType(events, "merge").map((e) => e.outcome)).toEqual(["merged", "merged", "merged"]);
  rule.remove();
}, 150_000);
