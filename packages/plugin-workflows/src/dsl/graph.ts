/** The `needs:` graph of a workflow's steps: cycles, prerequisites, the order steps can start in. */

interface Node {
  readonly id: string;
  readonly needs: readonly string[];
}

/** One cycle as the ids along it (`a -> b -> a`), or undefined. Unknown ids are ignored (reported elsewhere). */
export function findCycle(steps: readonly Node[]): string[] | undefined {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === "done") return undefined;
    if (state.get(id) === "visiting") return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, "visiting");
    stack.push(id);
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need)) continue;
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Every step `id` waits for, directly or through others (the graph must have no cycle). */
export function prerequisites(steps: readonly Node[], id: string): Set<string> {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const seen = new Set<string>();
  const pending = [...(byId.get(id)?.needs ?? [])];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...(byId.get(next)?.needs ?? []));
  }
  return seen;
}

/**
 * The steps in waves: each wave's steps need only steps of earlier waves, so
 * they can run at the same time (what a dry run shows). Keeps file order within a wave.
 */
export function waves(steps: readonly Node[]): string[][] {
  const done = new Set<string>();
  const out: string[][] = [];
  let left = [...steps];
  while (left.length > 0) {
    const wave = left.filter((step) => step.needs.every((need) => done.has(need)));
    if (wave.length === 0) throw new Error(`needs cycle among ${left.map((step) => step.id).join(", ")}`);
    for (const step of wave) done.add(step.id);
    out.push(wave.map((step) => step.id));
    left = left.filter((step) => !done.has(step.id));
  }
  return out;
}
