// Node B's serve runs in its own process and is killed with -9 again and
// again while node A sends to B's instance through the bus: every message is
// typed in once, in the order A sent them, and every send gets its receipt
// (a request B's killed serve had read or accepted is answered by the next;
// a message it was typing is finished from its queue claim and the agent's
// evidence, see Messaging.sendHere).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHarness, eventually, removeTestSocket, startReadyProcess, startRedis, testSocket, type Harness, type RedisServer } from "@tmux-claude/testkit";
import { afterAll, expect, test } from "vitest";
import { redis } from "../src/index.js";
import { freshPrefix } from "./helpers.js";

const WORKER = fileURLToPath(new URL("./fixtures/bus-serve.mjs", import.meta.url));
const KILLS = 10;
const MESSAGES = 150;
const prefix = freshPrefix("bus-kill");
const socketB = testSocket("bus-kill-b");

let server: RedisServer | undefined;
let h: Harness | undefined;
let jitiCache: string | undefined;

afterAll(async () => {
  await h?.close();
  await removeTestSocket(socketB);
  await server?.close();
  if (jitiCache) await rm(jitiCache, { recursive: true, force: true });
});

/** Node B's serve in its own process; resolves once it serves, with how to kill it. */
function startServe(configFile: string, url: string) {
  return startReadyProcess(WORKER, [configFile, url, prefix], { ...process.env, JITI_CACHE: jitiCache });
}

test(`${MESSAGES} messages from node A to node B's instance across ${KILLS} kill -9s of B's serve: none lost, none typed twice, in order`, async () => {
  server = await startRedis();
  const url = server.url;
  // A waits long enough for B's next serve to take what B's killed one left.
  h = await createHarness({ node: { id: "node-a" }, plugins: [redis({ url, prefix, bus: { acceptTimeoutMs: 30_000 } })] }, { label: "bus-kill" });
  jitiCache = await mkdtemp(path.join(os.tmpdir(), "tc-jiti-"));
  const configFile = path.join(h.dir, "node-b.json");
  await writeFile(configFile, JSON.stringify({ ...h.config, tmux: { ...h.config.tmux, socket: socketB }, node: { id: "node-b" }, plugins: [] }));
  let serve = await startServe(configFile, url);
  const onB = (await h.kernel.spawn({ role: "executive", workDir: h.workDir, node: "node-b" })).instance.id;
  const texts = async () => (await h!.received()).map((m) => m.text).filter((t) => t.startsWith("bus #"));

  const sent: string[] = [];
  const failures: string[] = [];
  const answers = new Map<string, string>();
  const sending = (async () => {
    for (let i = 0; i < MESSAGES; i++) {
      const text = `bus #${i}`;
      sent.push(text);
      await h!.kernel.send(onB, text).then(
        (receipt) => answers.set(text, receipt.state),
        (error: unknown) => failures.push(`${text}: ${String(error)}`),
      );
    }
  })();

  try {
    for (let round = 0; round < KILLS; round++) {
      const before = (await texts()).length;
      // Kill it while it serves: after it typed something, at a moment that varies from round to round.
      await eventually(async () => (await texts()).length > before, 30_000, `round ${round}: a delivery`);
      await new Promise((resolve) => setTimeout(resolve, (round * 7) % 45));
      await serve.kill();
      serve = await startServe(configFile, url);
    }
    await sending;
    await eventually(async () => (await texts()).length >= MESSAGES, 60_000, "every message typed in").catch(async (error: unknown) => {
      const queue = await h!.kernel.get(onB).then((r) => r.messages?.filter((m) => m.state === "queued").map((m) => m.text));
      const got = await texts();
      const odd = got.filter((text) => !/^bus #\d+$/u.test(text));
      const missing = sent.filter((text) => !got.includes(text));
      throw new Error(
        `${String(error)}: typed ${got.length}, missing ${JSON.stringify(missing)}, odd entries ${JSON.stringify(odd)}, answers ${JSON.stringify(missing.map((text) => answers.get(text)))}, failed sends ${JSON.stringify(failures)}, still queued in the history: ${JSON.stringify(queue)}, status ${(await h!.kernel.get(onB)).status}`,
      );
    });
  } finally {
    await serve.kill();
  }

  const got = await texts();
  const lost = sent.filter((text) => !got.includes(text));
  const duplicated = got.filter((text, i) => got.indexOf(text) !== i);
  console.log(`bus kill -9: ${KILLS} kills of B's serve, ${MESSAGES} messages, ${failures.length} failed sends, ${lost.length} lost, ${duplicated.length} duplicated`);
  expect({ failures, lost, duplicated }).toEqual({ failures: [], lost: [], duplicated: [] });
  expect(got).toEqual(sent);
}, 300_000);
