import { expect, test } from "vitest";
import type { HookEvent } from "../src/events.js";
import { BASH_DEFAULT_TIMEOUT_MS, BASH_MAX_TIMEOUT_MS, expectedQuietMs } from "../src/quiet.js";

const event = (name: string, payload: HookEvent["payload"]): HookEvent => ({ event: name, launch: "l", payload });

test("a Bash call is expected to be silent for its timeout (default 2 min, at most 10); other events and background commands are not", () => {
  expect(expectedQuietMs(event("PreToolUse", { tool_name: "Bash", tool_input: { command: "make" } }))).toBe(BASH_DEFAULT_TIMEOUT_MS);
  expect(expectedQuietMs(event("PreToolUse", { tool_name: "Bash", tool_input: { command: "make", timeout: 300_000 } }))).toBe(300_000);
  expect(expectedQuietMs(event("PreToolUse", { tool_name: "Bash", tool_input: { command: "make", timeout: 9_000_000 } }))).toBe(BASH_MAX_TIMEOUT_MS);
  expect(expectedQuietMs(event("PreToolUse", { tool_name: "Bash", tool_input: { command: "serve", run_in_background: true } }))).toBeUndefined();
  expect(expectedQuietMs(event("PreToolUse", { tool_name: "Read", tool_input: { file_path: "a" } }))).toBeUndefined();
  expect(expectedQuietMs(event("PostToolUse", { tool_name: "Bash", tool_input: { command: "make" } }))).toBeUndefined();
});
