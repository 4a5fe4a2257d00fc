// The outbox: an unreachable endpoint is a warning (the kernel keeps running), and an event outlives the process that recorded it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { notify } from "../src/index.js";
import { closedAfterEach, createNotifyEnv, receiverAccepts, warnings } from "./helpers.js";
import { startReceiver } from "./receiver.js";

const SECRET = "outbox-secret-0123456789abcdef";
const RAISE_NOTICE = fileURLToPath(new URL("./fixtures/raise-notice.mjs", import.meta.url));
const started = closedAfterEach();

test("an unreachable endpoint is a warning and the kernel keeps working; the next serve sends the event a CLI left pending, once", async () => {
  // A port nothing listens on (until the receiver comes back on it).
  const gone = await startReceiver();
  const port = Number(new URL(gone.url).port);
  await gone.close();
  const env = (started.env = await createNotifyEnv());
  const plugin = () => notify({ webhook: { url: `http://127.0.0.1:${port}/hook`, secret: SECRET }, on: ["budget"], retry: { initialDelayMs: 300, maxDelayMs: 1_000 } });

  const cli = await env.start(plugin, "on-demand");
  await cli.notice({ kind: "budget", title: "exec-1's subtree crossed 10000 tokens", eventId: "budget-left-pending" });
  const warning = await cli.untilLog((line) => line.includes("sending to webhook"));
  expect(JSON.parse(warning)).toMatchObject({ level: 40, destination: "webhook", reason: "request failed: ECONNREFUSED" });
  expect(JSON.parse(warning).msg).toContain("retrying with backoff");
  // The kernel is not held up by the endpoint: it spawns and lists as before.
  const { instance } = await cli.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
  expect((await cli.kernel.list()).map((listed) => listed.id)).toContain(instance.id);
  await cli.kernel.terminate(instance.id);
  // The CLI exits mid-backoff: the event stays in the store.
  await cli.kernel.close();
  expect(cli.logs.join("\n")).not.toContain(SECRET);

  const receiver = (started.receiver = await startReceiver(port));
  const serve = await env.start(plugin, "all");
  const [sent] = await receiver.until((accepted) => accepted.length >= 1, 15_000, "the pending event from serve");
  expect(sent!.headers["x-tmux-claude-event-id"]).toBe("budget-left-pending");
  expect(receiverAccepts(SECRET, sent!)).toBe(true);
  await serve.kernel.close();
  expect(receiver.requests).toHaveLength(1);
  expect(warnings(serve.logs)).toEqual([]);
});

test("an event already sent is not sent again by a later process that raises it or by the next serve", async () => {
  const r = (started.receiver = await startReceiver());
  const env = (started.env = await createNotifyEnv());
  const plugin = () => notify({ discord: { webhookUrl: `${r.url}/discord/api/webhooks/3/tok` }, on: ["run-finished"] });
  const first = await env.start(plugin, "on-demand");
  await first.notice({ kind: "run-finished", title: "Run r-7 failed", eventId: "run-r-7", severity: "error" });
  await r.until((accepted) => accepted.length >= 1, 15_000, "the first send");
  await first.kernel.close();
  // A retry after a restart raises the same event again; a serve starts and reads the outbox.
  const again = await env.start(plugin, "on-demand");
  await again.notice({ kind: "run-finished", title: "Run r-7 failed", eventId: "run-r-7", severity: "error" });
  await again.kernel.close();
  const serve = await env.start(plugin, "all");
  await serve.kernel.close();
  expect(r.requests).toHaveLength(1);
  expect(JSON.parse(r.requests[0]!.body).embeds[0]).toMatchObject({ title: "Run r-7 failed", color: 0xef4444 });
});

test("a sender killed mid-send leaves a claim that lapses; the next serve sends the event", async () => {
  const r = (started.receiver = await startReceiver());
  r.failNext(0); // the first request is never answered: its sender dies waiting
  const env = (started.env = await createNotifyEnv());
  const options = { webhook: { url: `${r.url}/hook`, secret: SECRET }, on: ["budget"], timeoutMs: 1_000 };
  const configFile = path.join(env.harness.dir, "config.json");
  await writeFile(configFile, JSON.stringify(env.harness.userConfig));
  const notice = { kind: "budget", title: "exec-2's subtree crossed $1.00", eventId: "budget-crash" };
  const child = spawn(process.execPath, [RAISE_NOTICE, configFile, JSON.stringify(options), JSON.stringify(notice)], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await r.until((_accepted, all) => all.length >= 1, 20_000, "the child's request");
  } finally {
    child.kill("SIGKILL");
    await once(child, "close");
  }

  const serve = await env.start(() => notify(options), "all");
  await r.until((accepted) => accepted.length >= 1, 20_000, "serve's send after the claim lapsed");
  await serve.kernel.close();
  expect(r.requests.map((request) => [request.headers["x-tmux-claude-event-id"], request.status])).toEqual([
    ["budget-crash", 0],
    ["budget-crash", 200],
  ]);
  // The claim covered the dead sender's request timeout (1 s) and a 5 s margin: nobody sent while it might still answer.
  expect(r.requests[1]!.at - r.requests[0]!.at).toBeGreaterThanOrEqual(5_000);
});

test("unreachable Slack and Discord endpoints: one warning each naming the cause, never the URL's token", async () => {
  const gone = await startReceiver();
  const port = Number(new URL(gone.url).port);
  await gone.close();
  const env = (started.env = await createNotifyEnv());
  const plugin = () =>
    notify({
      slack: { webhookUrl: `http://127.0.0.1:${port}/slack/services/T5/B5/slacktoken` },
      discord: { webhookUrl: `http://127.0.0.1:${port}/discord/api/webhooks/5/discordtoken` },
      on: ["budget"],
      retry: { attempts: 1 },
    });
  const cli = await env.start(plugin, "on-demand");
  await cli.notice({ kind: "budget", title: "over", eventId: "budget-unreachable" });
  for (const destination of ["slack", "discord"]) {
    const line = await cli.untilLog((l) => l.includes(`"destination":"${destination}"`) && l.includes("gave up"));
    expect(JSON.parse(line)).toMatchObject({ level: 40, reason: "request failed: ECONNREFUSED", host: `http://127.0.0.1:${port}` });
  }
  await cli.kernel.close();
  expect(warnings(cli.logs).filter((w) => w.msg.startsWith("notify:"))).toHaveLength(2);
  for (const secret of ["slacktoken", "discordtoken", "/services/", "/webhooks/"]) expect(cli.logs.join("\n")).not.toContain(secret);
});
