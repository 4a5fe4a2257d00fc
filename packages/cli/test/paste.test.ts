/**
 * Issue 9's reproduction through the CLI: `printf 'abc\033[201~\rINJECTED\r' |
 * tmux-claude send exec-1 -` gave the agent three submissions; it is one, with
 * ESC shown as its control picture (README, Messages).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, eventually, parseJson, type TestEnv, DELIVERED } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

test("text from stdin containing ESC[201~ and CRs is one submission", async () => {
  const { id } = parseJson<{ id: string }>(await env.run(["spawn", "executive", "--json"]));
  const sent = await env.run(["send", id, "-"], { input: "abc\x1b[201~\rINJECTED\r" });
  expect(sent.stderr).toBe("");
  expect(sent.stdout).toMatch(DELIVERED);
  // A sentinel after it: anything split off the first message would arrive before it.
  expect((await env.run(["send", id, "after"])).stdout).toMatch(DELIVERED);
  await eventually(async () => (await env.received()).some((m) => m.text === "after"), 5_000, "the sentinel");
  expect((await env.received()).map((m) => m.text)).toEqual(["abc\u241b[201~\rINJECTED\r", "after"]);
  await env.run(["terminate", id]);
});
