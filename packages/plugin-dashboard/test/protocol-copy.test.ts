// The page keeps its own copy of the wire types (client/protocol.ts: the page
// is compiled on its own, without @tmux-claude/core). This fails when the
// server's src/protocol.ts changes and the copy does not follow.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const FIRST_SHARED_LINE = "export type InstanceStatusView";

function sharedPart(file: string): string {
  const text = readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
  const start = text.indexOf(FIRST_SHARED_LINE);
  if (start < 0) throw new Error(`${file} has no "${FIRST_SHARED_LINE}": the copy check needs it as its starting point`);
  return text.slice(start);
}

describe("client/protocol.ts", () => {
  it("is the same as src/protocol.ts from InstanceStatusView on", () => {
    expect(sharedPart("client/protocol.ts")).toBe(sharedPart("src/protocol.ts"));
  });
});
