/** `tmux-claude audit`: the node's audit log read back (plugin-audit), across its rotated files. */
import type { Command } from "commander";
import { auditOf, describeOutcome, parseSince, type AuditFilter } from "@tmux-claude/plugin-audit";
import { nonEmpty, stateDirOf, type ActionFactory, type Cli } from "../context.js";
import { table } from "../output.js";

interface AuditFlags {
  since?: string;
  caller?: string;
  operation?: string;
  json?: boolean;
}

export function registerAudit(program: Command, action: ActionFactory): void {
  program
    .command("audit")
    .description("Show the audit log of this node: every MCP call and CLI command with its caller, target, result and time, oldest first.")
    .option("--since <time|duration>", "only entries at or after an ISO time (2026-12-05T10:00:00Z) or within a duration back from now (30s, 10m, 2h, 7d)", nonEmpty("--since", "a time or duration", "Pass e.g. --since 1h or --since 2026-12-05T10:00:00Z."))
    .option("--caller <id|root>", "only the calls of one instance, or root (a person: the CLI, tmux-claude mcp)", nonEmpty("--caller", "an instance id or root", "Pass an instance id (tmux-claude list) or root."))
    .option("--operation <name>", "only one tool or command (spawn, send, read, list, terminate, run_workflow, ...)", nonEmpty("--operation", "an operation name", "Pass a tool or command name, e.g. --operation spawn."))
    .option("--json", "print the entries as a JSON array")
    .addHelpText("after", "\nExamples:\n  tmux-claude audit --since 1h\n  tmux-claude audit --caller exec-1 --operation spawn --json")
    .action(action(audit));
}

async function audit(cli: Cli, flags: AuditFlags): Promise<number> {
  const filter: AuditFilter = {
    ...(flags.since !== undefined ? { since: parseSince(flags.since) } : {}),
    ...(flags.caller !== undefined ? { caller: flags.caller } : {}),
    ...(flags.operation !== undefined ? { operation: flags.operation } : {}),
  };
  const { config } = await cli.loadConfig("audit");
  const log = auditOf(config)!;
  if (!log.enabled) cli.err("warning: the audit log is off in this config (audit({ enabled: false })); showing what was recorded before.");
  const { entries, unreadable, files } = await log.read(stateDirOf(config), filter);
  if (unreadable > 0) cli.err(`warning: ${unreadable} line(s) in ${files} are not audit entries (a write cut short by a killed process?) and were skipped.`);
  if (flags.json) {
    cli.json(entries);
    return 0;
  }
  if (entries.length === 0) {
    cli.out(`No audit entries${Object.keys(filter).length ? " match" : ` yet in ${files}`}.`);
    return 0;
  }
  const rows = entries.map((e) => [e.at, e.node, e.caller, e.surface, e.operation, e.target ?? "-", describeOutcome(e), `${e.durationMs}ms`]);
  cli.out(table(["TIME", "NODE", "CALLER", "VIA", "OPERATION", "TARGET", "RESULT", "TOOK"], rows));
  return 0;
}
