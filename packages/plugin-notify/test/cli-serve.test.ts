// The Done-when case end to end: `tmux-claude serve` and CLI processes attached to one state dir,
// a config that imports notify() as a user's would; every event reaches the receiver once per endpoint.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { ECHO_AGENT } from "@tmux-claude/testkit";
import { DELIVERED, createEnv, type TestEnv } from "../../cli/test/helpers.js";
import { eventIdOf, receiverAccepts } from "./helpers.js";
import { startReceiver, type Received, type Receiver } from "./receiver.js";

const SECRET = "cli-serve-secret-0123456789abcdef";
let env: TestEnv | undefined;
let receiver: Receiver | undefined;
let serve: ChildProcess | undefined;
afterEach(async () => {
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill("SIGTERM");
    await once(serve, "close");
  }
  await env?.close();
  await receiver?.close();
  env = receiver = serve = undefined;
});

test("with serve and CLI processes attached, each status change and each notice reaches the webhook, Slack and Discord once", async () => {
  receiver = await startReceiver();
  const r = receiver;
  env = await createEnv({
    agents: {
      echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT] },
      asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\)$" },
    },
  });
  const configFile = path.join(env.dir, "notify.config.mjs");
  const options = {
    webhook: { url: `${r.url}/hook`, secret: SECRET },
    slack: { webhookUrl: `${r.url}/slack/services/T9/B9/slacktoken` },
    discord: { webhookUrl: `${r.url}/discord/api/webhooks/9/discordtoken` },
    on: ["waiting", "exited", "error", "run-finished"],
  };
  await writeFile(configFile, `import { notify } from "@tmux-claude/plugin-notify";\nimport base from "./tmuxclaude.config.mjs";\nexport default { ...base, plugins: [notify(${JSON.stringify(options)})] };\n`);
  const cli = (args: string[]) => env!.run(["--config", configFile, ...args], { config: false });

  let serveStderr = "";
  serve = env.start(["--config", configFile, "serve", "--log-level", "info"], { config: false });
  serve.stderr!.setEncoding("utf8").on("data", (chunk: string) => (serveStderr += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${serveStderr}`)), 20_000);
    serve!.stderr!.on("data", () => serveStderr.includes('"msg":"serving"') && (clearTimeout(timer), resolve()));
    serve!.once("close", () => reject(new Error(`serve exited:\n${serveStderr}`)));
  });

  const spawned = await cli(["spawn", "specialist", "--agent", "asker"]);
  expect(spawned.code, spawned.stderr).toBe(0);
  const id = spawned.stdout.trim();
  expect((await cli(["send", id, "/ask"])).code).toBe(0);
  const kindOf = (request: Received) => (JSON.parse(request.body) as { kind: string }).kind;
  await r.until((accepted) => accepted.filter((request) => request.path === "/hook" && kindOf(request) === "waiting").length >= 1, 20_000, "waiting");
  // A waiting agent takes its answer at once; /exit ends it after that.
  expect((await cli(["send", id, "y", "--when-busy", "now"])).stdout).toMatch(DELIVERED);
  expect((await cli(["send", id, "/exit"])).code).toBe(0);
  await r.until((accepted) => accepted.some((request) => request.path === "/hook" && ["exited", "error"].includes(kindOf(request))), 20_000, "the instance's end");

  // A notice raised in a CLI process (the run's runner) while serve runs.
  const workflow = path.join(env.dir, "tidy.yaml");
  await writeFile(workflow, `workflow: tidy\nsteps:\n  - id: lint\n    run: [node, -e, "process.exit(0)"]\n`);
  const run = await cli(["run", workflow, "--json"]);
  expect(run.code, run.stderr).toBe(0);
  await r.until((accepted) => accepted.some((request) => request.path === "/hook" && kindOf(request) === "run-finished"), 20_000, "run-finished");

  // serve stops: sends under way finish first, so what arrived is all there will be.
  serve.kill("SIGTERM");
  await once(serve, "close");
  const hooks = r.requests.filter((request) => request.path === "/hook");
  const kinds = hooks.map(kindOf);
  expect(kinds.filter((kind) => kind === "waiting")).toHaveLength(1);
  expect(kinds.filter((kind) => kind === "run-finished")).toHaveLength(1);
  expect(kinds.filter((kind) => kind === "exited" || kind === "error")).toHaveLength(1);
  expect(hooks.every((request) => receiverAccepts(SECRET, request))).toBe(true);
  const ids = hooks.map(eventIdOf);
  expect(new Set(ids).size).toBe(ids.length);
  // Slack and Discord got the same events, once each.
  expect(r.requests.filter((request) => request.path.startsWith("/slack/"))).toHaveLength(hooks.length);
  const discordIds = r.requests.filter((request) => request.path.startsWith("/discord/")).map(eventIdOf);
  expect(discordIds.sort()).toEqual([...ids].sort());
  expect(r.requests.every((request) => request.status < 300)).toBe(true);
  for (const secret of [SECRET, "slacktoken", "discordtoken"]) expect(serveStderr).not.toContain(secret);
});
