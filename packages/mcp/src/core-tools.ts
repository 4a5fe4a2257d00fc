import path from "node:path";
import { conversation, type KernelApi } from "@tmux-claude/core";
import type { z } from "zod";
import { assertMaySend, assertTarget, describeCaller, isDescendant, mayOrchestrate, subtreeOf, type Caller } from "./caller.js";
import { forbidden } from "./errors.js";
import { progressTools } from "./progress-tools.js";
import { resumeTool } from "./resume-tool.js";
import * as s from "./schemas.js";
import type { ToolDef } from "./tool-def.js";
import { conversationText, instanceView, listedView, listText, readText, readView, receiptView } from "./views.js";

/**
 * Spawn options only a plugin's own code may pass (the workflows plugin ties
 * a spawned instance to a run's task with its `workflows` option): an agent
 * passing one could take over a task of someone else's run.
 */
const RESERVED_PLUGIN_OPTIONS = ["workflows"] as const;

export function coreTools(kernel: KernelApi): ToolDef[] {
  const orchestrator = (caller: Caller) => mayOrchestrate(kernel.config, caller);
  const refusal = (caller: Caller) =>
    `${describeCaller(caller)} may not use tmux-claude's orchestration tools: its role spawns nothing (roles.${caller.role}.spawns is empty), so it works on its own task only.`;
  const base = { allowed: orchestrator, refusal };

  return [
    {
      ...base,
      name: "spawn",
      title: "Spawn an agent",
      description:
        "Start a new agent instance (a real interactive agent in its own tmux session) below you. Returns once it is ready and its prompt was accepted, or fails with its screen quoted. Your role decides which roles you may spawn.",
      input: s.spawnInput,
      output: s.spawnOutput,
      run: async (args, caller) => {
        const a = args as z.output<typeof s.spawnInput>;
        for (const name of RESERVED_PLUGIN_OPTIONS) {
          if (a.plugins?.[name] !== undefined) {
            throw forbidden(
              `plugins.${name} is reserved: the workflow engine sets it to tie an instance it spawns to a task of its run, and no spawn tool call may. Leave it out; to run a workflow, call run_workflow.`,
              { option: `plugins.${name}` },
            );
          }
        }
        const parentId = a.parentId ?? caller.instanceId;
        if (caller.instanceId !== null && parentId !== caller.instanceId && !(parentId && (await isDescendant(kernel, caller.instanceId, parentId)))) {
          throw forbidden(
            `${describeCaller(caller)} may not spawn under "${parentId}": the parent must be itself or one of its descendants. Leave parentId out to spawn your own child.`,
            { caller: caller.instanceId, parentId },
          );
        }
        // The parent's workDir: where a child must work unless its role allows otherwise.
        const base = parentId ? (await kernel.get(parentId)).workDir : process.cwd();
        const workDir = a.workDir === undefined ? base : path.resolve(base, a.workDir);
        const { instance, receipt, source } = await kernel.spawn(
          { role: a.role, workDir, prompt: a.prompt, context: a.context, parentId, name: a.name, agent: a.agent, node: a.node, plugins: a.plugins, budget: a.budget, reuse: a.reuse },
          caller.instanceId,
        );
        const prompt = receipt ? ` Its prompt was ${receipt.state === "delivered" ? "delivered" : `queued (position ${receipt.position ?? "?"})`}.` : "";
        return {
          structured: { instance: instanceView(instance), ...(receipt ? { receipt: receiptView(receipt) } : {}), source },
          text: `${source === "cold" ? "Spawned" : source === "pool" ? "Took from the warm pool" : "Reused (conversation reset)"} ${instance.role} "${instance.id}" (agent ${instance.agent}) in ${instance.workDir}${instance.parentId ? ` under "${instance.parentId}"` : " at the top level"}; it is ${instance.status}.${prompt}`,
        };
      },
    },
    {
      // Every instance may answer its own parent (a reply with replyTo makes a thread two-sided); only orchestrators send down.
      allowed: () => true,
      refusal,
      name: "send",
      title: "Send a message",
      description:
        'Send a message to an instance below you, or answer your own parent (give replyTo: the message you answer). Returns a receipt once the agent accepted the input, or "queued" when it is busy (delivered as soon as it is idle). To your parent it is always queued (or refused) while it is busy: never typed in mid-turn.',
      input: s.sendInput,
      output: s.sendOutput,
      run: async (args, caller) => {
        const a = args as z.output<typeof s.sendInput>;
        await assertMaySend(kernel, caller, a.instanceId, a.whenBusy, orchestrator(caller), refusal);
        const options = { whenBusy: a.whenBusy, messageId: a.messageId, threadId: a.threadId, replyTo: a.replyTo };
        const receipt = await kernel.send(a.instanceId, a.text, Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)), caller.instanceId);
        // Queued for a paused instance (a budget, the turn cap): waiting for idle would not deliver it; say what will.
        const why = receipt.paused ? `it is paused (${receipt.paused}); the message is delivered once it is resumed` : "it is busy; the message is delivered when it becomes idle";
        return {
          structured: receiptView(receipt),
          text: `${receipt.state === "delivered" ? `Delivered to "${receipt.instanceId}" (accepted at ${receipt.acceptedAt ?? "now"}).` : `Queued for "${receipt.instanceId}" at position ${receipt.position ?? "?"}: ${why}.`} Message ${receipt.messageId}, thread ${receipt.threadId ?? receipt.messageId}.`,
        };
      },
    },
    {
      ...base,
      name: "read",
      title: "Read an instance",
      description:
        "Status, last reply, token usage and the screen tail of an instance below you (or yourself). With wait: true it blocks until the agent's current turn ends.",
      input: s.readInput,
      output: s.readOutput,
      annotations: { readOnlyHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.readInput>;
        await assertTarget(kernel, caller, a.instanceId, "read", true);
        if (a.wait && a.instanceId === caller.instanceId) {
          throw forbidden(`${describeCaller(caller)} may not read itself with wait: its own turn cannot end while it waits. Read without wait.`, {
            caller: caller.instanceId,
          });
        }
        const result = await kernel.read(a.instanceId, { lines: a.lines, wait: a.wait, timeoutMs: a.timeoutMs });
        // Every message shown involves the instance the caller may read: what it was sent by `with`, and what it sent there.
        if (a.with === undefined) return { structured: readView(result), text: readText(result) };
        const messages = conversation(await kernel.list(), a.instanceId, a.with);
        return { structured: { ...readView(result), conversation: messages }, text: `${readText(result)}\n${conversationText(a.instanceId, a.with, messages)}` };
      },
    },
    {
      ...base,
      name: "list",
      title: "List instances",
      description: "Instances with role, parent, status, working directory, creation time and children. You see yourself and the instances below you.",
      input: s.listInput,
      output: s.listOutput,
      annotations: { readOnlyHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.listInput>;
        let instances = await kernel.list({ role: a.role, parentId: a.parentId, status: a.status, ...(a.blocked ? { blocked: true } : {}) });
        if (caller.instanceId !== null) {
          const inside = subtreeOf(await kernel.list(), caller.instanceId);
          instances = instances.filter((i) => inside.has(i.id));
        }
        return { structured: { instances: instances.map(listedView) }, text: listText(instances) };
      },
    },
    {
      ...base,
      name: "terminate",
      title: "Terminate an instance",
      description: "End an instance below you and its whole process tree. With cascade: true its descendants end too; without it an instance with running children is refused.",
      input: s.terminateInput,
      output: s.terminateOutput,
      annotations: { destructiveHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.terminateInput>;
        await assertTarget(kernel, caller, a.instanceId, "terminate");
        const terminated = await kernel.terminate(a.instanceId, { cascade: a.cascade, ...(a.plugins ? { plugins: a.plugins } : {}) });
        return { structured: { terminated }, text: `Terminated ${terminated.map((id) => `"${id}"`).join(", ")}.` };
      },
    },
    {
      ...base,
      name: "restart",
      title: "Restart an instance",
      description: "Relaunch an instance below you in the same working directory, resuming its conversation where the agent can. Returns once it is ready.",
      input: s.restartInput,
      output: s.restartOutput,
      annotations: { destructiveHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.restartInput>;
        await assertTarget(kernel, caller, a.instanceId, "restart");
        const instance = await kernel.restart(a.instanceId);
        return { structured: { instance: instanceView(instance) }, text: `Restarted "${instance.id}"; it is ${instance.status}.` };
      },
    },
    resumeTool(kernel, base),
    ...progressTools(kernel, base),
  ];
}
