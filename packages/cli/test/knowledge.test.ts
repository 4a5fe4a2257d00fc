// `tmux-claude knowledge`: the knowledge plugin's command (on by default),
// each call a one-shot process on the store.
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

test("record, list (table and --json), release; bad input exits 2 naming the value", async () => {
  const spawned = await env.run(["spawn", "executive", "--json"]);
  expect(spawned.code, spawned.stderr).toBe(0);
  const id = parseJson<{ id: string }>(spawned).id;
  const recorded = await env.run(["knowledge", "record", id, "deploy", "Deploys go through CI only", "--tag", "ops", "--tag", "ci", "--json"]);
  expect(recorded.code, recorded.stderr).toBe(0);
  expect(parseJson(recorded)).toMatchObject({ hierarchy: id, key: "deploy", tags: ["ops", "ci"], by: null, version: 1 });
  const listed = parseJson<{ entries: { key: string }[]; claims: unknown[] }>(await env.run(["knowledge", "--tag", "ops", "--json"]));
  expect(listed.entries.map((e) => e.key)).toEqual(["deploy"]);
  expect(listed.claims).toEqual([]);
  const table = await env.run(["knowledge"]);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`[${id}] deploy #ops #ci (by root,`);
  expect(table.stdout).toContain("File claims: none.");

  const big = await env.run(["knowledge", "record", id, "big", "x".repeat(20_000)]);
  expect(big.code).toBe(2);
  expect(big.stderr).toContain(`Knowledge value of "big" is 20000 bytes, over the limit of 16384 bytes`);
  const missing = await env.run(["knowledge", "record", id, "only-key"]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("knowledge record takes <hierarchy> <key> <value>");
  const unknown = await env.run(["knowledge", "record", "no-such-instance", "k", "v"]);
  expect(unknown.code).toBe(3);
  expect(unknown.stderr).toContain(`No instance "no-such-instance"`);
  // forget: the keys given; --all drops the hierarchy's notes and claims, also once its top-level instance is gone.
  await env.run(["knowledge", "record", id, "stale", "no longer true"]);
  const forgot = await env.run(["knowledge", "forget", id, "stale", "--json"]);
  expect(forgot.code, forgot.stderr).toBe(0);
  expect(parseJson(forgot)).toEqual({ hierarchy: id, forgotten: ["stale"] });
  const neither = await env.run(["knowledge", "forget", id]);
  expect(neither.code).toBe(2);
  expect(neither.stderr).toContain("knowledge forget takes <hierarchy> and either keys or --all, got 0 key(s)");
  const badLimit = await env.run(["knowledge", "--limit", "0"]);
  expect(badLimit.code).toBe(2);
  expect(badLimit.stderr).toContain(`--limit takes a whole number from 1 to 500, got "0"`);
  const released = await env.run(["knowledge", "release", id]);
  expect(released.code).toBe(0);
  expect(released.stdout).toContain("held none of those paths");
  await env.run(["terminate", id]);
  // Its top-level instance terminated: the hierarchy's knowledge went with it.
  expect(parseJson<{ entries: unknown[] }>(await env.run(["knowledge", "--json"])).entries).toEqual([]);
  const gone = await env.run(["knowledge", "forget", id, "--all", "--json"]);
  expect(gone.code, gone.stderr).toBe(0);
  expect(parseJson(gone)).toEqual({ hierarchy: id, forgotten: [] });
}, 60_000);

test("what agents write (knowledge keys and values, message texts) reaches the terminal without escape sequences; --json keeps it", async () => {
  const id = parseJson<{ id: string }>(await env.run(["spawn", "executive", "--json"])).id;
  const key = "esc\u001b[31mkey";
  const value = "v\u001b[2Jx\u001b]0;title\u0007y\u0007z";
  const recorded = await env.run(["knowledge", "record", id, key, value]);
  expect(recorded.code, recorded.stderr).toBe(0);
  expect(recorded.stdout).toBe(`Recorded "esckey" in hierarchy "${id}" (version 1).\n`);
  const table = await env.run(["knowledge", "--key", key]);
  expect(table.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u);
  expect(table.stdout).toContain(`[${id}] esckey (by root, `);
  expect(table.stdout).toContain("): vxyz\n");
  const json = parseJson<{ entries: { key: string; value: string }[] }>(await env.run(["knowledge", "--key", key, "--json"]));
  expect(json.entries.map((e) => [e.key, e.value])).toEqual([[key, value]]);

  // Filters that match nothing say so (L9), not "none recorded".
  const nothing = await env.run(["knowledge", "--key", "api.base", "--tag", "nope"]);
  expect(nothing.stdout).toContain("Knowledge: no entry matches --key api.base --tag nope (others are recorded: tmux-claude knowledge lists them).");

  // A message's text in `thread` (a message an agent sent its parent, say).
  const sent = parseJson<{ threadId: string }>(await env.run(["send", id, "hello\u001b[2Jworld", "--json"]));
  const thread = await env.run(["thread", sent.threadId]);
  expect(thread.stdout).not.toContain("\u001b");
  expect(thread.stdout).toContain("helloworld");
  const threadJson = parseJson<{ messages: { text: string }[] }>(await env.run(["thread", sent.threadId, "--json"]));
  expect(threadJson.messages[0]!.text).toBe("hello\u001b[2Jworld");
  await env.run(["terminate", id]);
}, 60_000);
