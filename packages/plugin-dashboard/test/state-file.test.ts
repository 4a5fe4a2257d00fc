// `dashboard.json` names a running dashboard only when its port answers: a
// killed dashboard can linger as a zombie (its pid alive) for a moment.
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { readDashboardInfo, writeDashboardInfo } from "../src/state-file.js";

test("a live pid whose port no longer answers is no running dashboard", async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "tc-dash-state-"));
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  try {
    const info = { pid: process.pid, host: "127.0.0.1", port, url: `http://127.0.0.1:${port}`, startedAt: new Date().toISOString() };
    await writeDashboardInfo(stateDir, info, "the-secret");
    expect(await readDashboardInfo(stateDir)).toMatchObject({ port, secret: "the-secret" });
    server.close();
    await once(server, "close");
    expect(await readDashboardInfo(stateDir)).toBeUndefined();
  } finally {
    server.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});
