// The task list the adapter follows from Claude Code's task tools
// (PostToolUse events), without Claude Code: the events as the hook logs them.
import { expect, test } from "vitest";
import { generatedSettings } from "../src/launch.js";
import { readTasks, TASK_TOOLS_MATCHER, TaskList } from "../src/tasks.js";

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

test("the generated settings register PostToolUse for the task tools only", () => {
  const settings = generatedSettings({ bypass: false }) as { hooks: Record<string, { matcher?: string }[]> };
  expect(settings.hooks.PostToolUse?.[0]?.matcher).toBe(TASK_TOOLS_MATCHER);
  expect(TASK_TOOLS_MATCHER).toBe("TodoWrite|TaskCreate|TaskUpdate");
  expect(settings.hooks.Stop?.[0]).not.toHaveProperty("matcher");
});
