// The live model against a kernel that only lists and watches (what LiveModel
// uses of it), so a test decides what each read returns and when it finishes.
import pino from "pino";
import { expect, test } from "vitest";
import { LiveModel, MESSAGE_LIMIT } from "../src/model/live-model.js";

type Change = { kind: "instance"; id: string };

function record(id: string, minute: number, status = "idle") {
  return {
    id, parentId: null, role: "worker", agent: "echo", status, depth: 1, tmux: {}, queuedIds: [] as string[],
    createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z",
    messages: Array.from({ length: 50 }, (_, i) => ({ id: `${id}-m${i}`, from: null, text: "x", sentAt: new Date(Date.UTC(2026, 0, 1, 0, minute, i)).toISOString(), state: "delivered" })),
  };
}

function standInKernel(list: () => Promise<unknown[]>) {
  let listener: (change: Change) => void = () => undefined;
  const kernel = { node: "n", list, watch: (l: typeof listener) => ((listener = l), { ready: Promise.resolve(), stop() {} }) };
  return { kernel, change: (id: string) => listener({ kind: "instance", id }) };
}

test("over MESSAGE_LIMIT, a change of an instance does not push its evicted messages again", async () => {
  let records = Array.from({ length: 12 }, (_, n) => record(`i${n}`, n)); // 600 entries > 500
  expect(records.length * 50).toBeGreaterThan(MESSAGE_LIMIT);
  const { kernel, change } = standInKernel(async () => records);
  const model = new LiveModel(kernel as never, pino({ level: "silent" }));
  await model.start();
  expect(model.timeline()).toHaveLength(MESSAGE_LIMIT);
  const pushed: string[] = [];
  model.subscribe((m) => pushed.push(m.type === "message" ? `message:${m.message.id}` : m.type));
  // i0's entries were all evicted at start; now i0 only changes status, three times, then gets one new message.
  for (const status of ["busy", "idle", "busy"]) {
    records = records.map((r) => (r.id === "i0" ? { ...r, status } : r));
    change("i0");
    await model.settled();
  }
  records = records.map((r) => (r.id === "i0" ? { ...r, messages: [...r.messages.slice(1), { id: "i0-new", from: null, text: "y", sentAt: "2026-01-02T00:00:00.000Z", state: "delivered" }] } : r));
  change("i0");
  await model.settled();
  expect(pushed.filter((p) => p.startsWith("message:"))).toEqual(["message:i0-new"]);
  expect(pushed.filter((p) => p === "instance")).toHaveLength(3);
  model.close();
});

test("a change during start's first read is not lost to that (staler) read finishing last", async () => {
  let releaseFirst!: () => void;
  const firstRead = new Promise<void>((resolve) => (releaseFirst = resolve));
  let reads = 0;
  let firstStarted!: () => void;
  const firstReadStarted = new Promise<void>((resolve) => (firstStarted = resolve));
  const { kernel, change } = standInKernel(async () => {
    reads++;
    if (reads === 1) {
      // The state before "b" was spawned; this read is slow and ends after the change below.
      const before = [record("a", 0)];
      firstStarted();
      await firstRead;
      return before;
    }
    return [record("a", 0), record("b", 1)];
  });
  const model = new LiveModel(kernel as never, pino({ level: "silent" }));
  const started = model.start();
  await firstReadStarted;
  change("b"); // spawned by another process while start reads
  releaseFirst();
  await started;
  await model.settled();
  expect(model.instances().map((v) => v.id)).toEqual(["a", "b"]);
  model.close();
});

test("a failing first read fails start", async () => {
  const { kernel } = standInKernel(async () => {
    throw new Error("store unreadable");
  });
  const model = new LiveModel(kernel as never, pino({ level: "silent" }));
  await expect(model.start()).rejects.toThrow("store unreadable");
});
