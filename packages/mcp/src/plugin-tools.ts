import type { KernelApi, ToolContribution } from "@tmux-claude/core";
import type { z } from "zod";
import { describeCaller, isRoot, mayOrchestrate } from "./caller.js";
import * as s from "./schemas.js";
import type { ToolDef } from "./tool-def.js";

/** A plugin's tool (the kernel's `tools` hook) as this server serves it; undefined (with a warning) when it cannot be served. */
export function pluginTool(kernel: KernelApi, contribution: ToolContribution, logger: KernelApi["logger"]): ToolDef | undefined {
  const schema = contribution.inputSchema as z.ZodType | undefined;
  if (!schema || typeof schema !== "object" || !("_zod" in schema) || typeof schema.safeParseAsync !== "function") {
    logger.warn({ tool: contribution.name }, `plugin tool "${contribution.name}" has no zod 4 inputSchema; it is not served`);
    return undefined;
  }
  const roles = contribution.roles;
  return {
    name: contribution.name,
    description: contribution.description,
    input: schema,
    output: s.pluginOutput,
    allowed: (caller) => isRoot(caller) || (roles ? caller.role !== null && roles.includes(caller.role) : mayOrchestrate(kernel.config, caller)),
    refusal: (caller) =>
      roles
        ? `Tool "${contribution.name}" is for role(s) ${roles.join(", ")}; ${describeCaller(caller)} may not use it.`
        : `Tool "${contribution.name}" is for instances that orchestrate; ${describeCaller(caller)} may not use it (its role spawns nothing).`,
    run: async (args, caller, call) => {
      const result = await contribution.handler(args, { instanceId: caller.instanceId, role: caller.role }, call ?? {});
      // A result with a readable `text` (ToolContribution.handler): that is the text, the rest the structured content, as the core tools answer.
      if (isPlainObject(result) && typeof result.text === "string") {
        const { text, ...structured } = result;
        return { structured, text };
      }
      const structured = isPlainObject(result) ? result : { result: result ?? null };
      const text = typeof result === "string" ? result : JSON.stringify(result ?? null, null, 2);
      return { structured, text };
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
