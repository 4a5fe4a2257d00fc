// kernel.list with 10 / 100 / 1000 instance records in the store.
//
// The records are clones of one real instance's record (spawned and read
// back from the store), written with the store's own API (FileStore.put)
// under fresh ids: `list` reads records from the store and touches no tmux
// session, so 1000 records cost 1000 files instead of 1000 agents. A second
// FileStore on the same directory writes them after the kernel started
// (a kernel marks instances whose pane is gone as exited when it starts).
import { loadCore, startKernel } from "../lib/setup.mjs";
import { timedRow, targets } from "../lib/rows.mjs";
import { killServer, now } from "../lib/util.mjs";

export async function list({ quick, log }) {
  const sizes = [10, 100, 1000];
  const iterations = quick ? 30 : 100;
  const k = await startKernel({ label: "list", watch: "on-demand" });
  const rows = [];
  try {
    const { instance } = await k.kernel.spawn({ role: "specialist", workDir: k.workDir });
    const template = await k.kernel.get(instance.id);
    const { FileStore } = await loadCore();
    const store = new FileStore(k.stateDir);
    await store.init();
    let have = 1;
    for (const size of sizes) {
      const puts = [];
      for (; have < size; have++) {
        const id = `clone-${have}`;
        puts.push(store.put({ ...template, id, tmux: { ...template.tmux, session: id } }));
      }
      await Promise.all(puts);
      const samples = [];
      const n = size >= 1000 ? Math.ceil(iterations / 3) : iterations;
      for (let i = 0; i < 5 + n; i++) {
        const t0 = now();
        const result = await k.kernel.list();
        const t = now() - t0;
        if (result.length !== size) throw new Error(`list returned ${result.length} records, expected ${size}`);
        if (i >= 5) samples.push(t);
      }
      log(`list(${size}): ${n} iterations done`);
      rows.push(
        timedRow({
          id: `list-${size}`,
          label: `list (${size} instances)`,
          samples,
          target: size === 100 ? targets.atMost(2, "ms") : undefined,
          note: size === 1 ? undefined : `${size - 1} records cloned from a live one with FileStore.put; no tmux sessions behind them`,
        }),
      );
    }
    await store.close();
  } finally {
    await k.close();
    await killServer(k.socket);
  }
  return rows;
}
