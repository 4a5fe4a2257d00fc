/**
 * The kernel's module graph: no import cycle among core's modules (type-only
 * imports included, since a type cycle knots modules as tightly for a reader),
 * and no adapter in core (adapters come from plugins: @tmux-claude/agent-claude).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every module specifier a file names: import/export ... from, side-effect imports, import() (also in types). */
function specifiers(source: string): string[] {
  const found = [
    ...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gmsu),
    ...source.matchAll(/^\s*import\s*"([^"]+)"/gmu),
    ...source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/gu),
  ];
  return found.map((match) => match[1]!);
}

const files = sourceFiles(SRC);
const graph = new Map(
  files.map((file) => [
    file,
    specifiers(readFileSync(file, "utf8"))
      .filter((spec) => spec.startsWith("."))
      .map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/u, ".ts"))),
  ]),
);

/** The cycles found by a depth-first walk, each as the chain of files that closes it. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === "open") found.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => path.relative(SRC, f)));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

describe("core's module graph", () => {
  test("every relative import names a module that exists", () => {
    const missing = [...graph].flatMap(([file, deps]) => deps.filter((dep) => !graph.has(dep)).map((dep) => `${path.relative(SRC, file)} -> ${path.relative(SRC, dep)}`));
    expect(missing).toEqual([]);
  });

  test("has no import cycle, type imports included", () => {
    expect(cycles().map((chain) => chain.join(" -> "))).toEqual([]);
  });

  test("the check finds a cycle when there is one", () => {
    // Guard against a parser that sees no imports at all: the graph has edges, and a cycle added to it is found.
    const edges = [...graph.values()].reduce((sum, deps) => sum + deps.length, 0);
    expect(edges).toBeGreaterThan(100);
    const [a, b] = [path.join(SRC, "errors.ts"), path.join(SRC, "logger.ts")];
    const saved = [graph.get(a)!, graph.get(b)!];
    graph.set(a, [...saved[0]!, b]);
    graph.set(b, [...saved[1]!, a]);
    try {
      expect(cycles().some((chain) => chain.includes("errors.ts") && chain.includes("logger.ts"))).toBe(true);
    } finally {
      graph.set(a, saved[0]!);
      graph.set(b, saved[1]!);
    }
  });

  test("imports no agent adapter package: adapters come from plugins", () => {
    const adapterImports = files.flatMap((file) =>
      specifiers(readFileSync(file, "utf8"))
        // config/template.ts writes a config that imports @tmux-claude/core: core naming itself is no adapter.
        .filter((spec) => spec.startsWith("@tmux-claude/") && spec !== "@tmux-claude/core")
        .map((spec) => `${path.relative(SRC, file)} imports ${spec}`),
    );
    expect(adapterImports).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(SRC, "..", "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    expect(deps.filter((name) => name.startsWith("@tmux-claude/"))).toEqual([]);
  });
});
