// What the DSL tests share: the seed's example, the default config, and the
// message of a refused workflow.
import { isTmuxClaudeError, parseConfig } from "@tmux-claude/core";
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { parseWorkflow } from "../src/dsl/index.js";

/** The seed's example, verbatim (the fixture the real-Claude test runs too). */
export const SEED = readFileSync(new URL("./fixtures/seed.yaml", import.meta.url), "utf8");

export const config = parseConfig({});

/** The message of the error `fn` throws, after checking its code. */
export function problems(fn: () => unknown, code = "TC_WORKFLOW_INVALID"): string {
  try {
    fn();
  } catch (error) {
    if (!isTmuxClaudeError(error)) throw error;
    expect(error.code).toBe(code);
    return error.message;
  }
  throw new Error("expected an error");
}

export const parse = (text: string) => parseWorkflow(text, "w.yaml");
