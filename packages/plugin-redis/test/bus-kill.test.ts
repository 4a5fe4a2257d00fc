// Exactly once across kill -9s of both sides. Two senders, each in its own
// process (one of node A, one of node C), send in order to an instance of
// node B through the bus while B's serve and the senders are killed with -9
// again and again and started again. A sender keeps a journal and repeats a
// send whose answer it did not get with the same message id (the idempotency
// key); B's next serve answers the requests its killed one left and finishes
// a message it was typing from its queue claim and the agent's evidence (see
// Messaging.sendHere). Every message is typed in once, in each sender's order.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHarness, eventually, removeTestSocket, startReadyProcess, startRedis, testSocket, type Harness, type ReadyProcess, type RedisServer } from "@tmux-claude/testkit";
import { afterAll, expect, test } from "vitest";
import { redis } from "../src/index.js";
import { freshPrefix } from "./helpers.js";

const SERVE = fileURLToPath(new URL("./fixtures/serve-node.mjs", import.meta.url));
const SENDER = fileURLToPath(new URL("./fixtures/journal-sender.mjs", import.meta.url));
const KILLS = 20;
const PER_SENDER = 500;
const SENDERS = [
  { tag: "from-a", node: "node-a" },
  { tag: "from-c", node: "node-c" },
] as const;
const prefix = freshPrefix("bus-kill");
const sockets = { b: testSocket("bus-kill-b"), c: testSocket("bus-kill-c") };

let server: RedisServer | undefined;
let h: Harness | undefined;
let jitiCache: string | undefined;
const running = new Set<ReadyProcess>();

afterAll(async () => {
  await Promise.all([...running].map((p) => p.kill()));
  await h?.close();
  await removeTestSocket(sockets.b);
  await removeTestSocket(sockets.c);
  await server?.close();
  if (jitiCache) await rm(jitiCache, { recursive: true, force: true });
});

interface Journal {
  answered: number;
  failed: string[];
  repeats: number;
  done: boolean;
}

async function readJournal(file: string): Promise<Journal> {
  const journal: Journal = { answered: 0, failed: [], repeats: 0, done: false };
  for (const line of (await readFile(file, "utf8").catch(() => "")).split("\n")) {
    let entry: Record<string, { i: number; code?: string; message?: string }> & { done?: boolean };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.answered) journal.answered++;
    if (entry.failed) journal.failed.push(`#${entry.failed.i} ${entry.failed.code}: ${entry.failed.message}`);
    if (entry.repeating) journal.repeats++;
    if (entry.done) journal.done = true;
  }
  return journal;
}

test(`${PER_SENDER * SENDERS.length} messages from two nodes to node B's instance across ${KILLS} kill -9s of B's serve and of the senders: none lost, none typed twice, each sender's order kept`, async () => {
  server = await startRedis();
  const url = server.url;
  // A waits long enough for B's next serve to take what B's killed one left.
  h = await createHarness({ node: { id: "node-a" }, plugins: [redis({ url, prefix, bus: { acceptTimeoutMs: 30_000 } })] }, { label: "bus-kill" });
  jitiCache = await mkdtemp(path.join(os.tmpdir(), "tc-jiti-"));
  const env = { ...process.env, JITI_CACHE: jitiCache };
  const configOf = async (name: string, node: string, socket: string) => {
    const file = path.join(h!.dir, `${name}.json`);
    await writeFile(file, JSON.stringify({ ...h!.userConfig, tmux: { ...h!.userConfig.tmux, socket }, node: { id: node }, plugins: undefined }));
    return file;
  };
  const serveConfig = await configOf("serve-b", "node-b", sockets.b);
  const startServe = async () => {
    const p = await startReadyProcess(SERVE, [serveConfig, url, prefix], env);
    running.add(p);
    return p;
  };
  let serve = await startServe();
  const onB = (await h.kernel.spawn({ role: "executive", workDir: h.workDir, node: "node-b" })).instance.id;

  const senders = await Promise.all(
    SENDERS.map(async ({ tag, node }) => {
      const config = await configOf(`sender-${tag}`, node, node === "node-a" ? h!.socket : sockets.c);
      const journal = path.join(h!.dir, `${tag}.jsonl`);
      const start = async () => {
        const p = await startReadyProcess(SENDER, [config, url, prefix, onB, tag, String(PER_SENDER), journal], env);
        running.add(p);
        return p;
      };
      return { tag, journal, process: await start(), start };
    }),
  );
  const answered = async () => (await Promise.all(senders.map((s) => readJournal(s.journal)))).reduce((sum, j) => sum + j.answered, 0);
  const kills = { serve: 0, senders: 0 };

  for (let round = 0; round < KILLS; round++) {
    const before = await answered();
    // Kill while messages flow, at a moment that varies from round to round.
    await eventually(async () => (await answered()) >= before + 5 + ((round * 13) % 17), 60_000, `round ${round}: messages answered`);
    await new Promise((resolve) => setTimeout(resolve, (round * 7) % 45));
    // Every other kill is B's serve; the others take turns among the senders still sending.
    const sending = [];
    for (const sender of senders) if (!(await readJournal(sender.journal)).done) sending.push(sender);
    if (round % 2 === 0 || sending.length === 0) {
      await serve.kill();
      running.delete(serve);
      kills.serve++;
      serve = await startServe();
    } else {
      const sender = sending[((round - 1) / 2) % sending.length]!;
      await sender.process.kill();
      running.delete(sender.process);
      kills.senders++;
      sender.process = await sender.start();
    }
  }

  const texts = async () => (await h!.received()).map((m) => m.text);
  const journals = () => Promise.all(senders.map((s) => readJournal(s.journal)));
  try {
    await eventually(async () => (await journals()).every((j) => j.done), 180_000, "both senders done");
    await eventually(async () => (await texts()).length >= PER_SENDER * SENDERS.length, 60_000, "every message typed in");
  } catch (error) {
    const got = await texts();
    throw new Error(`${String(error)}: typed ${got.length}, journals ${JSON.stringify(await journals())}, last typed ${JSON.stringify(got.slice(-5))}`);
  } finally {
    await serve.kill();
  }

  const got = await texts();
  const report = SENDERS.map(({ tag }) => {
    const sent = Array.from({ length: PER_SENDER }, (_, i) => `${tag} #${i}`);
    const mine = got.filter((t) => t.startsWith(`${tag} #`));
    return {
      tag,
      lost: sent.filter((t) => !mine.includes(t)),
      duplicated: mine.filter((t, i) => mine.indexOf(t) !== i),
      inOrder: mine.length === sent.length && mine.every((t, i) => t === sent[i]),
    };
  });
  const odd = got.filter((t) => !SENDERS.some(({ tag }) => new RegExp(`^${tag} #\\d+$`, "u").test(t)));
  const repeats = (await journals()).reduce((sum, j) => sum + j.repeats, 0);
  const failed = (await journals()).flatMap((j) => j.failed);
  console.log(
    `bus kill -9: ${kills.serve} kills of B's serve, ${kills.senders} of senders, ${got.length} typed of ${PER_SENDER * SENDERS.length}, ${repeats} sends repeated after a kill, ${failed.length} attempts failed and retried`,
  );
  expect({ odd, report }).toEqual({ odd: [], report: SENDERS.map(({ tag }) => ({ tag, lost: [], duplicated: [], inOrder: true })) });
  expect(kills.serve + kills.senders).toBe(KILLS);
}, 600_000);
