// What `tmux-claude events` declares to the audit log: the instance of --instance.
import { expect, test } from "vitest";
import { eventsCommand } from "../src/events/command.js";

const invocation = (...argv: string[]) => eventsCommand({} as never).invocation!(argv);

test("events: --instance names the target; a type filter or bad arguments declare nothing", () => {
  expect(invocation("--follow", "--instance", "exec-1")).toEqual({ target: "exec-1" });
  expect(invocation("--instance=exec-2", "--json")).toEqual({ target: "exec-2" });
  expect(invocation("--type", "status")).toEqual({});
  expect(invocation("--instance", "exec-1", "stray-word")).toEqual({});
});
