// Notifications reach real HTTP receivers on loopback: signed webhook, Slack- and Discord-shaped payloads, once per event.
import { expect, test } from "vitest";
import { notify, verifySignature } from "../src/index.js";
import { closedAfterEach, createNotifyEnv, eventIdOf, receiverAccepts, warnings } from "./helpers.js";
import { startReceiver } from "./receiver.js";

const SECRET = "test-secret-0123456789abcdef";
const started = closedAfterEach();

test("a status change and a notice reach the signed webhook, Slack and Discord at local URLs, once each", async () => {
  const r = (started.receiver = await startReceiver());
  const env = (started.env = await createNotifyEnv());
  const plugin = () =>
    notify({
      webhook: { url: `${r.url}/hook`, secret: SECRET },
      slack: { webhookUrl: `${r.url}/slack/services/T1/B2/slacktoken` },
      discord: { webhookUrl: `${r.url}/discord/api/webhooks/1/discordtoken` },
      on: ["waiting", "run-finished"],
    });
  const { kernel, notice, logs } = await env.start(plugin, "all");
  const { instance } = await kernel.spawn({ role: "specialist", workDir: env.harness.workDir, agent: "asker" });
  await kernel.send(instance.id, "/ask", { whenBusy: "now" });
  const first = await r.until((accepted) => accepted.length >= 3, 15_000, "the waiting event at three endpoints");

  const hook = first.find((request) => request.path === "/hook")!;
  expect(receiverAccepts(SECRET, hook)).toBe(true);
  // The same check through the exported helper, and what it refuses: a replay 10 minutes later, a changed body, another secret.
  const signed = { body: hook.body, signature: String(hook.headers["x-tmux-claude-signature"]), timestamp: String(hook.headers["x-tmux-claude-timestamp"]) };
  expect(verifySignature(SECRET, signed)).toEqual({ ok: true, eventId: hook.headers["x-tmux-claude-event-id"] });
  expect(verifySignature(SECRET, signed, { now: Date.now() + 600_000 }).ok).toBe(false);
  expect(receiverAccepts(SECRET, hook, Date.now() + 600_000)).toBe(false);
  expect(receiverAccepts(SECRET, { ...hook, body: hook.body.replace("waiting", "idle") })).toBe(false);
  expect(receiverAccepts("another-secret-0123456789", hook)).toBe(false);
  const body = JSON.parse(hook.body) as Record<string, unknown>;
  expect(body).toMatchObject({
    type: "tmux-claude.notification",
    version: 1,
    kind: "waiting",
    severity: "warning",
    source: "kernel",
    node: kernel.node,
    instance: { id: instance.id, role: "specialist" },
    status: { to: "waiting" },
  });
  expect(body.eventId).toBe(hook.headers["x-tmux-claude-event-id"]);
  expect(body.title).toContain(`${instance.id} is waiting for you`);
  expect(Date.parse(String(body.at))).toBeGreaterThan(Date.now() - 60_000);

  const slack = JSON.parse(first.find((request) => request.path.startsWith("/slack/services/"))!.body) as { text: string; blocks: { type: string; elements?: { text: string }[] }[] };
  expect(slack.text).toBe(`[tmux-claude] ${String(body.title)}`);
  expect(slack.blocks.map((block) => block.type)).toEqual(["section", "context"]);
  const slackFacts = slack.blocks[1]!.elements!.map((element) => element.text).join(" ");
  for (const fact of [instance.id, "waiting", kernel.node, String(body.at)]) expect(slackFacts).toContain(fact);

  const discord = JSON.parse(first.find((request) => request.path.startsWith("/discord/api/webhooks/"))!.body) as {
    allowed_mentions: unknown;
    embeds: { title: string; timestamp: string; fields: { name: string; value: string }[]; footer: { text: string } }[];
  };
  expect(discord.allowed_mentions).toEqual({ parse: [] });
  expect(discord.embeds[0]!.title).toBe(body.title);
  expect(discord.embeds[0]!.timestamp).toBe(body.at);
  expect(Object.fromEntries(discord.embeds[0]!.fields.map((field) => [field.name, field.value]))).toMatchObject({
    Instance: `${instance.id} (specialist)`,
    Status: expect.stringContaining("→ waiting"),
    Node: kernel.node,
  });
  expect(discord.embeds[0]!.footer.text).toBe(`event ${String(body.eventId)}`);

  // A notice of a kind in `on` is sent; one that is not (budget here) is not.
  await notice({ kind: "budget", title: "Budget crossed", instanceId: instance.id });
  await notice({ kind: "run-finished", title: "Run nightly-1 succeeded", eventId: "run-nightly-1", data: { run: "nightly-1", state: "succeeded" } });
  const all = await r.until((accepted) => accepted.length >= 6, 15_000, "the run-finished notice at three endpoints");
  const finished = JSON.parse(all.find((request) => request.path === "/hook" && request.headers["x-tmux-claude-event-id"] === "run-nightly-1")!.body) as Record<string, unknown>;
  expect(finished).toMatchObject({ kind: "run-finished", source: "raiser", title: "Run nightly-1 succeeded", data: { run: "nightly-1", state: "succeeded" } });

  // Closing lets every send under way finish: what arrived by then is all that ever will.
  await kernel.close();
  expect(r.requests.map((request) => request.status).every((status) => status < 300)).toBe(true);
  expect(r.requests).toHaveLength(6);
  expect(new Set(r.requests.filter((request) => request.path === "/hook").map(eventIdOf))).toEqual(new Set([String(body.eventId), "run-nightly-1"]));
  expect(warnings(logs)).toEqual([]);
  for (const secret of [SECRET, "slacktoken", "discordtoken"]) expect(logs.join("\n")).not.toContain(secret);
});

test("two kernels attached to one store (serve and a CLI's): each status change and each notice is sent once", async () => {
  const r = (started.receiver = await startReceiver());
  const env = (started.env = await createNotifyEnv());
  const plugin = () => notify({ webhook: { url: `${r.url}/hook`, secret: SECRET }, discord: { webhookUrl: `${r.url}/discord/api/webhooks/7/tok` }, on: ["waiting", "exited", "conflict"] });
  const serve = await env.start(plugin, "all");
  const cli = await env.start(plugin, "on-demand");
  const { instance } = await cli.kernel.spawn({ role: "specialist", workDir: env.harness.workDir, agent: "asker" });
  await cli.kernel.send(instance.id, "/ask", { whenBusy: "now" });
  await r.until((accepted) => accepted.some((request) => request.body.includes('"kind":"waiting"')), 15_000, "waiting");
  // The same notice raised by both processes (as a plugin that decides it in each would), at once: one event.
  const conflict = { kind: "conflict", title: "exec-1 and exec-2 both change src/a.ts", eventId: "conflict-exec-1-exec-2-abc", severity: "warning" } as const;
  await Promise.all([serve.notice(conflict), cli.notice(conflict), serve.notice(conflict)]);
  await r.until((accepted) => accepted.filter((request) => eventIdOf(request) === conflict.eventId).length >= 2, 15_000, "the conflict at two endpoints");
  await cli.kernel.close();
  await serve.kernel.close();

  const byEndpoint = (path: string) => r.requests.filter((request) => request.path.startsWith(path)).map(eventIdOf);
  for (const path of ["/hook", "/discord"]) {
    const ids = byEndpoint(path);
    expect(ids, path).toHaveLength(2);
    expect(new Set(ids).size, path).toBe(2);
    expect(ids).toContain(conflict.eventId);
  }
});

test("a receiver that fails 3 times, then succeeds, gets the event once; the failures are one warning, without secrets", async () => {
  const r = (started.receiver = await startReceiver());
  const env = (started.env = await createNotifyEnv());
  r.failNext(500, 503, 429);
  const plugin = () =>
    notify({
      webhook: { url: `${r.url}/hook/with-key-in-path`, secret: SECRET },
      on: ["budget"],
      retry: { attempts: 5, initialDelayMs: 50, maxDelayMs: 200 },
    });
  const { kernel, notice, logs } = await env.start(plugin, "all");
  const began = Date.now();
  await notice({ kind: "budget", title: "exec-1's subtree crossed $5.00", eventId: "budget-exec-1-1", severity: "warning" });
  await r.until((accepted) => accepted.length >= 1, 15_000, "the event after three failures");
  const ms = Date.now() - began;
  await kernel.close();

  expect(r.requests.map((request) => request.status)).toEqual([500, 503, 429, 200]);
  expect(new Set(r.requests.map(eventIdOf))).toEqual(new Set(["budget-exec-1-1"]));
  expect(r.requests.every((request) => receiverAccepts(SECRET, request))).toBe(true);
  // Backoff: 50 + 100 + 200 ms at least between the tries.
  expect(ms).toBeGreaterThanOrEqual(350);
  const warned = warnings(logs);
  expect(warned).toHaveLength(1);
  expect(warned[0]!.msg).toContain("sending to webhook (http://127.0.0.1:");
  expect(warned[0]!.msg).toContain("HTTP 500");
  expect(logs.some((line) => line.includes("webhook (http://127.0.0.1:") && line.includes("delivers again"))).toBe(true);
  for (const secret of [SECRET, "with-key-in-path"]) expect(logs.join("\n")).not.toContain(secret);
});

test("with the default `on`, a blocked notice (the supervisor's, for a top-level instance nobody else hears of) is sent", async () => {
  const r = (started.receiver = await startReceiver());
  const env = (started.env = await createNotifyEnv());
  const { notice } = await env.start(() => notify({ webhook: { url: `${r.url}/hook`, secret: SECRET } }), "all");
  await notice({ kind: "blocked", severity: "warning", title: "[supervisor] exec-1 (executive) is blocked: stalled", eventId: "blocked-exec-1-1-busy" });
  const [sent] = await r.until((accepted) => accepted.length >= 1, 15_000, "the blocked notice");
  expect(JSON.parse(sent!.body)).toMatchObject({ kind: "blocked", title: "[supervisor] exec-1 (executive) is blocked: stalled" });
});
