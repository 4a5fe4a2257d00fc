import { expect } from "vitest";
import type { TmuxClaudeError } from "../../src/index.js";

/** The TmuxClaudeError `promise` rejects with, checked for its code and for fragments of its message. */
export async function expectError(promise: Promise<unknown>, code: string, ...fragments: string[]): Promise<TmuxClaudeError> {
  const error = (await promise.then(
    () => {
      throw new Error(`expected ${code}, but it succeeded`);
    },
    (e: unknown) => e,
  )) as TmuxClaudeError;
  expect(error.code, error.message).toBe(code);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}
