// Bad git({...}) options get the config's own messages: the value received, the allowed keys, a "did you mean".
import { describe, expect, test } from "vitest";
import { git } from "../src/index.js";
import { statsText } from "../src/surfaces/stats-command.js";

const message = (options: unknown): string => {
  try {
    git(options as never);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("accepted");
};

describe("git() option errors", () => {
  test("a misspelt key names it and suggests the right one; a wrong type names the value", () => {
    const misspelt = message({ autoComit: true });
    expect(misspelt).toMatch(/^Invalid options for plugin "git":\n {2}- /u);
    expect(misspelt).toContain("autoComit");
    expect(misspelt).toMatch(/did you mean "?autoCommit"?/u);
    const verify = message({ merge: { verify: 42 } });
    expect(verify).toContain("merge.verify");
    expect(verify).toContain("42");
    expect(verify).not.toContain("Invalid input");
  });
});

describe("wording", () => {
  test("one resolution is '1 attempt'", () => {
    expect(statsText({ attempts: 1, accepted: 1, rejected: 0, acceptanceRate: 1, byReason: {} } as never)).toMatch(/^AI conflict resolutions: 1 attempt, 1 accepted/u);
  });
});
