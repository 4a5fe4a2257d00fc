import path from "node:path";
import { definePlugin, type OperationEvent, type ResolvedConfig } from "@tmux-claude/core";
import { z } from "zod";
import { toEntry, type AuditEntry } from "./entry.js";
import { auditKey } from "./key.js";
import { appendLine, readLines, type LogFileOptions } from "./log-file.js";
import { isEntry, matches, type AuditFilter } from "./query.js";

export const PLUGIN_NAME = "audit";

const optionsSchema = z.strictObject({
  /** Off: nothing is recorded (the CLI adds the plugin to every config; list `audit({ enabled: false })` to turn it off). */
  enabled: z.boolean().default(true),
  /** The log's directory; default `<stateDir>/audit`, so each node (each state dir) keeps its own. */
  dir: z.string().min(1).refine((value) => path.isAbsolute(value), { message: "expected an absolute path" }).optional(),
  /** Rotate before the current file would pass this many bytes (default 10 MiB). */
  maxBytes: z.number().int().min(1024).default(10 * 1024 * 1024),
  /** Rotated files kept besides the current one (default 5). */
  keep: z.number().int().min(1).max(100).default(5),
});

export type AuditOptions = z.input<typeof optionsSchema>;

/**
 * The log without a kernel: the CLI records its commands and reads the log
 * through it (many commands run no kernel), the plugin's tap through it too.
 */
export interface AuditApi {
  readonly enabled: boolean;
  /** Where the log of the kernel (or CLI) with this state dir lives. */
  dir(stateDir: string): string;
  /** Append one operation, reduced (see entry.ts). Rejects when the file cannot be written. */
  record(event: OperationEvent, stateDir: string): Promise<void>;
  /** The entries that match, oldest first, across the rotated files; `unreadable` counts lines that are not JSON. */
  read(stateDir: string, filter?: AuditFilter): Promise<{ entries: AuditEntry[]; unreadable: number; files: string }>;
}

function auditApi(options: z.output<typeof optionsSchema>): AuditApi {
  const file: LogFileOptions = { maxBytes: options.maxBytes, keep: options.keep };
  const dir = (stateDir: string) => options.dir ?? path.join(stateDir, "audit");
  return {
    enabled: options.enabled,
    dir,
    record: async (event, stateDir) => {
      if (!options.enabled) return;
      await appendLine(dir(stateDir), JSON.stringify(toEntry(event, await auditKey(stateDir))), file);
    },
    read: async (stateDir, filter = {}) => {
      const { lines, unreadable } = await readLines(dir(stateDir), options.keep);
      const entries = lines.filter(isEntry).filter((entry) => matches(entry, filter));
      return { entries, unreadable: unreadable.length + lines.filter((line) => !isEntry(line)).length, files: dir(stateDir) };
    },
  };
}

/**
 * `audit()`: every operation a caller asks of this kernel through MCP (the
 * `operation` hook, fired for each tool call) is appended to the node's audit
 * log. The CLI records its own commands through the same api.
 */
export const audit = definePlugin({
  name: PLUGIN_NAME,
  options: optionsSchema,
  api: auditApi,
  setup(ctx) {
    const api = ctx.plugin<AuditApi>(PLUGIN_NAME);
    if (!api.enabled) return;
    // A failing write reaches the kernel, which logs it: the caller's operation has finished and stands.
    ctx.hooks.operation.tapPromise((event) => api.record(event, ctx.kernel.stateDir));
  },
});

/** The config with the audit plugin added unless it lists one itself (with its own options): the CLI records by default. */
export function withAudit(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, audit()] };
}

/** The audit api of a config's plugin, if the config has one (for the CLI, which may run no kernel). */
export function auditOf(config: ResolvedConfig): AuditApi | undefined {
  return config.plugins.find((plugin) => plugin.name === PLUGIN_NAME)?.api as AuditApi | undefined;
}
