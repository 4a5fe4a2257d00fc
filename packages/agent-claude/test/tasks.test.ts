// The task list the adapter follows from Claude Code's task tools
// (PostToolUse events), without Claude Code: the events as the hook logs them.
import { expect, test } from "vitest";
import { generatedSettings } from "../src/launch.js";
import { readTasks, TaskList, TASKS_MAX } from "../src/tasks.js";

const todo = (content: string, status: string, activeForm = `${content}ing`) => ({ content, status, activeForm });

test("TodoWrite replaces the list: completed of all, the item in progress by its active form", () => {
  const list = new TaskList();
  expect(list.progress()).toBeNull();
  expect(list.apply({ tool_name: "TodoWrite", tool_input: { todos: [todo("Read", "completed"), todo("Test", "in_progress", "Writing tests"), todo("Doc", "pending")] } })).toBe(true);
  expect(list.progress()).toEqual({
    done: 1,
    total: 3,
    current: "Writing tests",
    items: [
      { text: "Read", state: "completed" },
      { text: "Test", state: "in_progress" },
      { text: "Doc", state: "pending" },
    ],
  });
  // The same list again changes nothing; a shorter one replaces it.
  expect(list.apply({ tool_name: "TodoWrite", tool_input: { todos: [todo("Read", "completed"), todo("Test", "in_progress", "Writing tests"), todo("Doc", "pending")] } })).toBe(false);
  expect(list.apply({ tool_name: "TodoWrite", tool_input: { todos: [todo("Only", "completed")] } })).toBe(true);
  expect(list.progress()).toMatchObject({ done: 1, total: 1 });
  expect(list.progress()).not.toHaveProperty("current");
});

test("TaskCreate adds a task with the id Claude Code gave it; TaskUpdate changes it by id, deletes it, and a refused update changes nothing", () => {
  const list = new TaskList();
  for (const [id, subject] of [["1", "Read"], ["2", "Test"], ["3", "Doc"]] as const) {
    list.apply({ tool_name: "TaskCreate", tool_input: { subject, description: subject, activeForm: `${subject}ing` }, tool_response: { task: { id, subject } } });
  }
  expect(list.progress()).toMatchObject({ done: 0, total: 3 });
  list.apply({ tool_name: "TaskUpdate", tool_input: { taskId: "1", status: "completed" }, tool_response: { success: true, taskId: "1" } });
  list.apply({ tool_name: "TaskUpdate", tool_input: { taskId: "2", status: "in_progress" }, tool_response: { success: true, taskId: "2" } });
  expect(list.progress()).toMatchObject({ done: 1, total: 3, current: "Testing" });
  expect(list.apply({ tool_name: "TaskUpdate", tool_input: { taskId: "9", status: "completed" }, tool_response: { success: false, error: "Task not found" } })).toBe(false);
  expect(list.apply({ tool_name: "TaskUpdate", tool_input: { taskId: "3", status: "deleted" }, tool_response: { success: true } })).toBe(true);
  expect(list.progress()).toMatchObject({ done: 1, total: 2 });
  // Persisted and read back (a kernel re-attaching goes on from agentState.tasks).
  expect(new TaskList(readTasks(JSON.parse(JSON.stringify(list.list)))).progress()).toEqual(list.progress());
  expect(readTasks("nonsense")).toEqual([]);
  expect(list.clear()).toBe(true);
  expect(list.progress()).toBeNull();
});

test("texts longer than the kernel takes are cut, lists capped; other tools are ignored", () => {
  const list = new TaskList();
  const long = "x".repeat(500);
  list.apply({ tool_name: "TodoWrite", tool_input: { todos: Array.from({ length: 150 }, (_, i) => todo(i === 0 ? long : `t${i}`, i === 0 ? "in_progress" : "pending", long)) } });
  const progress = list.progress()!;
  expect(progress.total).toBe(150);
  expect(progress.items).toHaveLength(100);
  expect(progress.current).toHaveLength(200);
  expect(progress.items![0]!.text).toHaveLength(200);
  expect(list.apply({ tool_name: "Bash", tool_input: { command: "ls" } })).toBe(false);
});

test("the generated settings register the tool events for every tool (no matcher)", () => {
  const settings = generatedSettings({ bypass: false }) as { hooks: Record<string, { matcher?: string }[]> };
  for (const event of ["PreToolUse", "PostToolUse", "PostToolUseFailure", "Stop"]) expect(settings.hooks[event]?.[0]).not.toHaveProperty("matcher");
});

const create = (list: TaskList, id: string, subject: string) =>
  list.apply({ tool_name: "TaskCreate", tool_input: { subject, description: subject, activeForm: `${subject}ing` }, tool_response: { task: { id, subject } } });
const complete = (list: TaskList, id: string) => list.apply({ tool_name: "TaskUpdate", tool_input: { taskId: id, status: "completed" }, tool_response: { success: true, taskId: id } });

test("a finished list is over: Claude Code empties it, so the next TaskCreate starts a new one (review #2)", () => {
  const list = new TaskList();
  for (const [id, s] of [["1", "A"], ["2", "B"], ["3", "C"]] as const) create(list, id, s);
  for (const id of ["1", "2", "3"]) complete(list, id);
  expect(list.progress()).toMatchObject({ done: 3, total: 3 });
  create(list, "4", "D");
  create(list, "5", "E");
  expect(list.progress()).toEqual({ done: 0, total: 2, items: [{ text: "D", state: "pending" }, { text: "E", state: "pending" }] });
  // A list with an open task goes on growing.
  complete(list, "4");
  create(list, "6", "F");
  expect(list.progress()).toMatchObject({ done: 1, total: 3 });
});

test("TaskList's result replaces the copy: an emptied list reports nothing, active forms known by id are kept (review #2)", () => {
  const list = new TaskList();
  create(list, "1", "A");
  create(list, "2", "B");
  expect(list.apply({ tool_name: "TaskList", tool_input: {}, tool_response: { tasks: [{ id: "2", subject: "B", status: "in_progress", blockedBy: [] }, { id: "7", subject: "G", status: "pending", blockedBy: [] }] } })).toBe(true);
  expect(list.progress()).toEqual({ done: 0, total: 2, current: "Bing", items: [{ text: "B", state: "in_progress" }, { text: "G", state: "pending" }] });
  expect(list.apply({ tool_name: "TaskList", tool_input: {}, tool_response: { tasks: [] } })).toBe(true);
  expect(list.progress()).toBeNull();
  expect(list.apply({ tool_name: "TaskList", tool_input: {}, tool_response: "No tasks found" })).toBe(false);
});

test("a subagent's TodoWrite (agent_id in the event) leaves the main agent's list alone; its TaskCreate shares the session's list (review #3)", () => {
  const list = new TaskList();
  list.apply({ tool_name: "TodoWrite", tool_input: { todos: [todo("Read", "completed"), todo("Test", "in_progress", "Writing tests"), todo("Doc", "pending")] } });
  expect(list.apply({ tool_name: "TodoWrite", agent_id: "a1b2", agent_type: "general-purpose", tool_input: { todos: [todo("Sub A", "in_progress", "Doing sub A")] } })).toBe(false);
  expect(list.progress()).toMatchObject({ done: 1, total: 3, current: "Writing tests" });
  const shared = new TaskList();
  create(shared, "1", "Main");
  shared.apply({ tool_name: "TaskCreate", agent_id: "a1b2", tool_input: { subject: "Sub" }, tool_response: { task: { id: "2", subject: "Sub" } } });
  expect(shared.progress()).toMatchObject({ done: 0, total: 2 });
});

test("the stored list is bounded: texts cut like the reported ones, at most TASKS_MAX tasks (review #4)", () => {
  const list = new TaskList();
  const todos = Array.from({ length: 5000 }, (_, i) => ({ content: `${i} ${"x".repeat(2000)}`, status: "pending", activeForm: "y".repeat(2000) }));
  list.apply({ tool_name: "TodoWrite", tool_input: { todos } });
  expect(list.list).toHaveLength(TASKS_MAX);
  expect(Math.max(...list.list.flatMap((t) => [t.text.length, t.activeForm?.length ?? 0]))).toBe(200);
  expect(JSON.stringify(list.list).length).toBeLessThan(500_000);
  // An older, unbounded agentState is bounded when read back.
  expect(readTasks(todos.map((t) => ({ text: t.content, activeForm: t.activeForm, state: "pending" })))).toHaveLength(TASKS_MAX);
  // TaskCreate past the bound is not kept.
  const many = new TaskList(readTasks(Array.from({ length: TASKS_MAX }, (_, i) => ({ id: String(i), text: "t", state: "pending" }))));
  expect(create(many, "x", "one more")).toBe(false);
});
