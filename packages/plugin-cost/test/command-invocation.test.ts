// What `tmux-claude cost` declares to the audit log: the instance it reports on.
import { expect, test } from "vitest";
import { costCommand } from "../src/command.js";

const invocation = (...argv: string[]) => costCommand({} as never, []).invocation!(argv);

test("cost: the id is the target wherever the flags are; bad arguments declare nothing", () => {
  expect(invocation("--tree", "exec-1")).toEqual({ target: "exec-1" });
  expect(invocation("exec-1", "--json")).toEqual({ target: "exec-1" });
  expect(invocation("--tree")).toEqual({});
  expect(invocation("--colour", "red", "exec-1")).toEqual({});
});
