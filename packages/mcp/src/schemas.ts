import { INSTANCE_STATUSES, type InstanceStatus } from "@tmux-claude/core";
import { z } from "zod";

// Arguments and results of the core tools. Arguments are strict objects, so a
// misspelled argument (`parentID`) is an error that names it instead of being
// silently dropped.

const statuses = INSTANCE_STATUSES as unknown as [InstanceStatus, ...InstanceStatus[]];
const instanceId = z.string().min(1);

export const spawnInput = z.strictObject({
  role: z.string().min(1).describe("Role of the new instance, from the config's roles (e.g. manager, specialist). Your role decides which roles you may spawn."),
  workDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Directory the agent works in (absolute, or relative to its parent's). Default: the parent's working directory (yours when you are the parent). It must lie inside the parent's unless the role allows otherwise.",
    ),
  prompt: z.string().optional().describe("First message to the agent, delivered once it is ready."),
  context: z.string().optional().describe("Background sent before the prompt, in the same first message; without a prompt it is the first message."),
  parentId: instanceId.optional().describe("Parent of the new instance: you (the default) or one of your descendants."),
  name: z.string().optional().describe("A human-readable name shown in lists."),
  agent: z.string().min(1).optional().describe("Agent from the config's agents (default: defaultAgent)."),
  node: z
    .string()
    .min(1)
    .optional()
    .describe("Node (machine and tmux server) to run it on, as `list` shows nodes. Default: the config's node.placement (this node unless least-loaded)."),
  plugins: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Options for plugins, by plugin name, e.g. {"git": {"isolation": "shared"}}; each plugin checks its own.'),
  budget: z
    .strictObject({
      usd: z.number().nonnegative().optional().describe("US dollars, 0 or more."),
      tokens: z.int().nonnegative().optional().describe("Tokens of every kind summed, 0 or more."),
      action: z.enum(["pause", "stop", "notify"]).optional().describe("What happens when it is crossed (default: the config's limits.budget.action)."),
    })
    .optional()
    .describe("Budget of the new instance's subtree (it and everything it spawns): usd and/or tokens. A spawn into a subtree over its budget is refused."),
});

export const resumeInput = z.strictObject({
  instanceId: instanceId.describe("The paused instance to resume (one below you): what was queued for it is delivered, in order."),
});

export const sendInput = z.strictObject({
  instanceId: instanceId.describe("The instance to message (one you spawned, or below it)."),
  text: z.string().min(1).describe("The message, typed into the agent exactly as given."),
  whenBusy: z
    .enum(["queue", "now", "refuse"])
    .optional()
    .describe('If the agent is busy: "queue" (default; delivered when it is idle), "now" (type it in anyway) or "refuse" (fail).'),
  messageId: z
    .string()
    .optional()
    .describe("The message's id (default: a new one). Repeat a send whose answer you did not get with the same id: it is not delivered twice."),
});

export const readInput = z.strictObject({
  instanceId: instanceId.describe("The instance to read: one below you, or yourself (without wait)."),
  lines: z.int().min(1).max(10_000).optional().describe("Lines of screen to return (default 40)."),
  wait: z.boolean().optional().describe("Block until the agent's current turn ends (it is no longer starting or busy)."),
  timeoutMs: z.int().min(1).optional().describe("How long wait may block, in milliseconds (default 600000)."),
});

export const listInput = z.strictObject({
  role: z.string().min(1).optional().describe("Only instances of this role."),
  parentId: instanceId.optional().describe("Only direct children of this instance."),
  status: z.enum(statuses).optional().describe("Only instances in this status."),
});

export const terminateInput = z.strictObject({
  instanceId: instanceId.describe("The instance to end (one below you)."),
  cascade: z.boolean().optional().describe("Also end its descendants; without it an instance with running children is refused."),
  plugins: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Options for plugins, by plugin name, e.g. {"git": {"force": true}}; each plugin checks its own.'),
});

export const restartInput = z.strictObject({
  instanceId: instanceId.describe("The instance to relaunch (one below you); the conversation resumes where the agent can."),
});

export const instanceOutput = z.object({
  id: z.string(),
  role: z.string(),
  parentId: z.string().nullable(),
  depth: z.int(),
  name: z.string().optional(),
  agent: z.string(),
  status: z.enum(statuses),
  statusReason: z.string().optional(),
  /** Status limited: when the usage limit resets (ISO time). */
  limitedUntil: z.string().optional(),
  workDir: z.string(),
  createdAt: z.string(),
  /** The node (machine and tmux server) it lives on. */
  node: z.string().optional(),
});

/** What plugins add to an instance (the kernel's `instanceFields` hook), by plugin name (`cost`), and their lines for people. */
const pluginFields = {
  fields: z.record(z.string(), z.unknown()).optional(),
  details: z.array(z.string()).optional(),
};

export const listedInstanceOutput = instanceOutput.extend({
  children: z.array(z.string()),
  ...pluginFields,
  /** Set when its node is down (lost or stopped): why it cannot be reached now; `status` is what its node last wrote. */
  unreachable: z.string().optional(),
  /** Set while its delivery is held (a budget's pause, the turn cap): why; messages to it wait in its queue. */
  paused: z.string().optional(),
});

export const receiptOutput = z.object({
  messageId: z.string(),
  instanceId: z.string(),
  state: z.enum(["delivered", "queued"]),
  acceptedAt: z.string().optional(),
  position: z.int().optional(),
  /** Queued for a paused instance (a budget, the turn cap): why; it is delivered once the instance is resumed. */
  paused: z.string().optional(),
});

export const usageOutput = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheCreationInputTokens: z.number(),
  cacheReadInputTokens: z.number(),
  model: z.string().optional(),
  /** The same tokens by model, where the agent's adapter can tell. */
  models: z.array(z.object({ model: z.string(), input: z.number(), output: z.number(), cacheWrite: z.number(), cacheRead: z.number(), longContext: z.boolean().optional() })).optional(),
});

export const spawnOutput = z.object({ instance: instanceOutput, receipt: receiptOutput.optional() });
export const sendOutput = receiptOutput;
export const readOutput = z.object({
  id: z.string(),
  status: z.enum(statuses),
  statusReason: z.string().optional(),
  /** Status limited: when the usage limit resets (ISO time). */
  limitedUntil: z.string().optional(),
  lastReply: z.string().optional(),
  screen: z.string(),
  queued: z.int(),
  usage: usageOutput.optional(),
  paused: z.string().optional(),
  ...pluginFields,
});
export const listOutput = z.object({ instances: z.array(listedInstanceOutput) });
export const terminateOutput = z.object({ terminated: z.array(z.string()) });
export const restartOutput = z.object({ instance: instanceOutput });
export const resumeOutput = z.object({ instanceId: z.string(), resumed: z.boolean() });
/** Plugin tools declare no result shape: any object. */
export const pluginOutput = z.looseObject({});
