// Progress from Claude Code's own task list, with the real binary against
// the stand-in model (pinned and newest release): in one turn the model
// writes a three-item task list and completes one, with TodoWrite where the
// release offers it, else TaskCreate/TaskUpdate. The adapter sees those calls
// through PostToolUse hooks (no screen); read (what `read --json` prints)
// shows 1/3 with the item in progress, and get_progress called by the parent
// instance rolls its subtree up. The planner agent is configured with
// nothing (the adapter turns the task tools on). A subagent's own TodoWrite
// leaves the instance's progress alone; a finished list that Claude Code
// empties is followed, and the next plan counts alone.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { claude } from "@tmux-claude/agent-claude";
import type { ProgressUpdate } from "@tmux-claude/core";
import { claudeReleases, createClaudeHarness, offersTool, type ClaudeHarness, type RecordedRequest } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mcp, type McpApi } from "../src/index.js";
import { call, callerClient, instanceOf, results, textOf } from "./helpers.js";

const ITEMS = [
  { content: "Read the code", activeForm: "Reading the code" },
  { content: "Write tests", activeForm: "Writing tests" },
  { content: "Update the README", activeForm: "Updating the README" },
];

/**
 * An agent configured with nothing: Claude Code 2.1.x offers its task tools
 * by itself only to some models (not to its default one); the adapter sets
 * CLAUDE_CODE_ENABLE_TODO_TOOLS=1 (its `taskTools` option) so it has them.
 */
const PLANNER = {};
/** The same with the newer task tools turned off: Claude Code offers TodoWrite, as older releases did. */
const TODOS = { env: { CLAUDE_CODE_ENABLE_TODO_TOOLS: "1", CLAUDE_CODE_ENABLE_TASKS: "0" } };

/** The turn's script: which task tools the release offers decides the calls. */
function taskListTurn(req: RecordedRequest, used: string[]) {
  const done = results(req);
  if (offersTool(req, "TodoWrite")) {
    used.push("TodoWrite");
    if (done.length > 0) return { text: "Planned: one of three done." };
    const states = ["completed", "in_progress", "pending"];
    return { toolUse: { name: "TodoWrite", input: { todos: ITEMS.map((item, i) => ({ ...item, status: states[i] })) } } };
  }
  used.push("TaskCreate");
  if (done.length === 0) return { toolUse: ITEMS.map((item) => ({ name: "TaskCreate", input: { subject: item.content, description: item.content, activeForm: item.activeForm } })) };
  if (done.length === 3) {
    // Claude Code numbers the tasks it created; its results say which ("Task #1 created ...").
    const ids = done.map((text, i) => /#(\d+)/u.exec(text)?.[1] ?? String(i + 1));
    return {
      toolUse: [
        { name: "TaskUpdate", input: { taskId: ids[0], status: "completed" } },
        { name: "TaskUpdate", input: { taskId: ids[1], status: "in_progress" } },
      ],
    };
  }
  return { text: "Planned: one of three done." };
}

for (const release of await claudeReleases()) {
  describe.skipIf(release.skip !== undefined)(`Claude Code ${release.label}`, () => {
    let h: ClaudeHarness;
    beforeAll(async () => {
      h = await createClaudeHarness({ adapterPlugin: claude(), claude: await release.binary(), agents: { planner: PLANNER, todos: TODOS, subagents: { ...TODOS, permissionMode: "acceptEdits" } }, config: { plugins: [mcp({ port: 0 })] } });
      await h.kernel.plugin<McpApi>("mcp")!.listen();
    }, 300_000);
    afterAll(async () => h?.close());

    test.each([
      ["planner", "TaskCreate"],
      ["todos", "TodoWrite"],
    ])("agent %s (%s): a three-item task list with one done shows 1/3 and the item in progress in read and in the parent's get_progress", async (agent, tools) => {
      const used: string[] = [];
      const rule = h.model.rule({ name: "task list", when: (req) => /\.mgr-1$/u.test(instanceOf(req) ?? ""), reply: (req) => taskListTurn(req, used) });
      const updates: ProgressUpdate[] = [];
      const tap = `test-${agent}`;
      const reached = new Promise<ProgressUpdate>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no progress 1/3 within 60 s; updates: ${JSON.stringify(updates.map((u) => u.progress))}`)), 60_000);
        h.kernel.hooks.progress.tap(tap, (update) => {
          updates.push(update);
          if (update.progress?.done === 1 && update.progress.total === 3 && update.progress.current) {
            clearTimeout(timer);
            resolve(update);
          }
        });
      });

      const parent = (await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "echo" })).instance;
      const { instance: child } = await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: parent.id, agent, prompt: "Plan your work as a task list." });
      expect(child.id).toBe(`${parent.id}.mgr-1`);

      // What `read --wait --json` prints: the turn's end returns with the task list it left, no waiting for anything else.
      const read = await h.kernel.read(child.id, { wait: true, timeoutMs: 60_000 });
      expect(read.lastReply).toBe("Planned: one of three done.");
      expect(read.progress).toMatchObject({ done: 1, total: 3, current: "Writing tests", source: "claude" });
      expect(read.progress?.items).toEqual([
        { text: "Read the code", state: "completed" },
        { text: "Write tests", state: "in_progress" },
        { text: "Update the README", state: "pending" },
      ]);
      expect([...new Set(used)]).toEqual([tools]);
      // The progress hook fired for it (once the write changed the stored progress).
      const update = await reached.catch(async (error: unknown) => {
        // Say what the model was asked and answered, and which hooks fired: why no progress came.
        const turns = h.model.requests.filter((r) => instanceOf(r) === child.id).map((r) => `${r.rule}: tools ${(r.body.tools ?? []).map((t) => t.name).filter((n) => /Todo|Task/u.test(n)).join(",")} results ${JSON.stringify(results(r)).slice(0, 400)}`);
        const events = await readFile(path.join(h.stateDir, "agents", child.id, "events.jsonl"), "utf8").catch(() => "");
        throw new Error(`${(error as Error).message}\nturns:\n${turns.join("\n")}\nhook events:\n${events.split("\n").map((l) => l.slice(0, 300)).join("\n")}`);
      });
      expect(update.instanceId).toBe(child.id);

      const { client, close } = await callerClient(h.kernel, { instanceId: parent.id, role: "executive" });
      try {
        const got = await call(client, "get_progress", {});
        expect(got.isError, textOf(got)).toBeFalsy();
        expect(got.structuredContent).toMatchObject({ rootId: parent.id, done: 1, total: 3, withProgress: 1, withoutProgress: 1 });
        const entries = (got.structuredContent as { instances: { id: string; progress?: { current?: string } }[] }).instances;
        expect(entries.find((i) => i.id === child.id)?.progress?.current).toBe("Writing tests");
        expect(textOf(got)).toMatch(new RegExp(`${child.id.replaceAll(".", "\\.")} +manager +idle +1/3: Writing tests`, "u"));
        // The parent's read of its child says it too.
        expect(textOf(await call(client, "read", { instanceId: child.id }))).toContain("Progress: 1/3: Writing tests.");
      } finally {
        await close();
      }
      // /clear starts a new conversation without a task list: the progress it made goes.
      const cleared = new Promise<void>((resolve) => h.kernel.hooks.progress.tap(`${tap}-clear`, (u) => (u.instanceId === child.id && u.progress === null ? resolve() : undefined)));
      await h.kernel.send(child.id, "/clear");
      await cleared;
      expect((await h.kernel.get(child.id)).progress).toBeUndefined();
      rule.remove();
      await h.kernel.terminate(parent.id, { cascade: true });
    }, 180_000);

    test("a subagent's TodoWrite (its own list in Claude Code) leaves the instance's progress at its main agent's plan", async () => {
      const parent = (await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "echo" })).instance;
      const childId = `${parent.id}.mgr-1`;
      const firstUser = (req: RecordedRequest) => JSON.stringify(req.body.messages?.[0] ?? "");
      const subagentTodos = [
        { content: "Sub step A", activeForm: "Doing sub A", status: "in_progress" },
        { content: "Sub step B", activeForm: "Doing sub B", status: "pending" },
      ];
      const turns: string[] = [];
      let subagentWrote!: () => void;
      // Claude Code runs the subagent in the background: its next request comes after its TodoWrite and that call's hook.
      const subagentDone = new Promise<void>((resolve) => (subagentWrote = resolve));
      const rule = h.model.rule({
        name: "subagent",
        // The subagent's requests carry its own system prompt (not the instance's): it is known by its task.
        when: (req) => instanceOf(req) === childId || firstUser(req).includes("SUBAGENT-JOB"),
        reply: (req) => {
          const done = results(req);
          turns.push(`${firstUser(req).includes("SUBAGENT-JOB") ? "sub" : "main"}: ${JSON.stringify(done).slice(0, 300)}`);
          if (firstUser(req).includes("SUBAGENT-JOB")) {
            if (done.length === 0) return { toolUse: { name: "TodoWrite", input: { todos: subagentTodos } } };
            subagentWrote();
            return { text: "sub done" };
          }
          if (done.length === 0) return { toolUse: { name: "TodoWrite", input: { todos: ITEMS.map((item, i) => ({ ...item, status: ["completed", "in_progress", "pending"][i] })) } } };
          if (done.length === 1) return { toolUse: { name: "Agent", input: { description: "sub job", prompt: "SUBAGENT-JOB: do it", subagent_type: "general-purpose" } } };
          return { text: "main done" };
        },
      });
      await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: parent.id, agent: "subagents", prompt: "Plan, then delegate." });
      const timeout = setTimeout(() => subagentWrote(), 60_000);
      await subagentDone;
      clearTimeout(timeout);
      expect(turns.some((t) => t.startsWith("sub: [\"")), turns.join("\n")).toBe(true);
      // The subagent's TodoWrite reached the hook (agent_id in its payload).
      const events = await readFile(path.join(h.stateDir, "agents", childId, "events.jsonl"), "utf8");
      const subagentTodoWrites = events
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as { event: string; payload: { tool_name?: string; agent_id?: string } })
        .filter((e) => e.event === "PostToolUse" && e.payload.tool_name === "TodoWrite" && e.payload.agent_id !== undefined);
      expect(subagentTodoWrites).toHaveLength(1);
      // A message's receipt is its UserPromptSubmit event, applied after every earlier line of the file: the subagent's TodoWrite too.
      // (Typed at once even if the subagent's report back keeps the agent busy.)
      expect((await h.kernel.send(childId, "AFTER", { whenBusy: "now" })).state).toBe("delivered");
      expect((await h.kernel.get(childId)).progress).toMatchObject({ done: 1, total: 3, current: "Writing tests" });
      await h.kernel.read(childId, { wait: true, timeoutMs: 60_000 });
      rule.remove();
      await h.kernel.terminate(parent.id, { cascade: true });
    }, 180_000);

    test("a finished list: Claude Code empties it a few seconds after the last task is completed; progress follows (no stale tasks), and the next plan counts alone", async () => {
      const parent = (await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "echo" })).instance;
      const childId = `${parent.id}.mgr-1`;
      const seen: string[] = [];
      // Turn 1: three tasks, all completed. Turn 2: TaskList until Claude Code's list is empty (its reset), then two new tasks, then TaskList.
      const rule = h.model.rule({
        name: "two plans",
        when: (req) => instanceOf(req) === childId,
        reply: (req) => {
          const done = results(req);
          if (!JSON.stringify(req.body.messages).includes("NEXT-PLAN")) {
            if (done.length === 0) return { toolUse: ["A", "B", "C"].map((x) => ({ name: "TaskCreate", input: { subject: `Step ${x}`, description: x, activeForm: `Doing ${x}` } })) };
            if (done.length === 3) return { toolUse: done.map((text, i) => ({ name: "TaskUpdate", input: { taskId: /#(\d+)/u.exec(text)?.[1] ?? String(i + 1), status: "completed" } })) };
            return { text: "first plan done." };
          }
          const mine = done.slice(6);
          const last = mine.at(-1) ?? "";
          seen.push(last.slice(0, 120));
          // Claude Code resets the list on a timer once all its tasks are completed; the model looks until it is empty (at most 30 looks).
          if (mine.length === 0 || (!last.includes("No tasks found") && !last.includes("created") && !last.includes("[pending]") && mine.length < 30)) return { toolUse: { name: "TaskList", input: {} }, delayMs: mine.length === 0 ? 0 : 1000 };
          if (last.includes("No tasks found")) return { toolUse: ["D", "E"].map((x) => ({ name: "TaskCreate", input: { subject: `Step ${x}`, description: x, activeForm: `Doing ${x}` } })) };
          if (last.includes("created")) return { toolUse: { name: "TaskList", input: {} } };
          return { text: `second plan: ${last}` };
        },
      });
      await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: parent.id, agent: "planner", prompt: "Plan." });
      const first = await h.kernel.read(childId, { wait: true, timeoutMs: 60_000 });
      expect(first.progress).toMatchObject({ done: 3, total: 3 });
      await h.kernel.send(childId, "NEXT-PLAN");
      const second = await h.kernel.read(childId, { wait: true, timeoutMs: 90_000 });
      // Claude Code's own list, as its TaskList printed it: the two new tasks only.
      expect(second.lastReply, seen.join("\n")).toMatch(/^second plan: .*Step D.*Step E/su);
      expect(second.lastReply).not.toContain("Step A");
      expect(second.progress).toMatchObject({ done: 0, total: 2, items: [{ text: "Step D", state: "pending" }, { text: "Step E", state: "pending" }] });
      rule.remove();
      await h.kernel.terminate(parent.id, { cascade: true });
    }, 180_000);
  });
}
