import { afterAll, beforeAll, expect, test } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

test("spawn, send, read, terminate", async () => {
  const t0 = Date.now();
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  console.log("spawn ms", Date.now() - t0, instance.id, instance.status);
  const t1 = Date.now();
  const receipt = await h.kernel.send(instance.id, "hello there");
  console.log("send ms", Date.now() - t1, receipt);
  const read = await h.kernel.read(instance.id, { wait: true });
  console.log(read);
  expect((await h.received()).map((m) => m.text)).toEqual(["hello there"]);
  const t2 = Date.now();
  await h.kernel.terminate(instance.id);
  console.log("terminate ms", Date.now() - t2);
});
