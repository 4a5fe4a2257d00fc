import type { Logger } from "pino";
import type { InstanceFieldsRequest } from "../kernel/events.js";
import type { KernelHooks } from "../kernel/hooks.js";
import type { InstanceRecord, TokenUsage } from "../store/types.js";

/** What plugins added to one instance (hook `instanceFields`). */
export interface AddedFields {
  fields?: Record<string, unknown>;
  details?: string[];
}

/**
 * Ask the `instanceFields` taps what they add to these instances. A failing
 * tap costs its own fields, never the read or list nor another plugin's: the
 * instances are what the caller asked for, a plugin's extras are not.
 */
export async function instanceFields(hooks: KernelHooks, logger: Logger, operation: "read" | "list", instances: readonly InstanceRecord[]): Promise<Map<string, AddedFields>> {
  const added = new Map<string, { fields: Record<string, unknown>; details: string[] }>();
  if (!hooks.instanceFields.isUsed() || instances.length === 0) return added;
  const known = new Set(instances.map((instance) => instance.id));
  // The key is the tap's plugin name (plugins tap through facades stamped with it), not a name the tap gives: a plugin cannot write another's fields.
  const addFor = (plugin: string) => (id: string, value: unknown, detail?: string) => {
    if (!known.has(id)) return;
    const entry = added.get(id) ?? { fields: {}, details: [] };
    entry.fields[plugin] = value;
    if (detail !== undefined && detail !== "") entry.details.push(detail);
    added.set(id, entry);
  };
  // Each tap on its own (the hook's promise() would stop at the first that throws): one plugin's failure costs only its fields.
  for (const tap of hooks.instanceFields.taps) {
    const request: InstanceFieldsRequest = { operation, instances, add: addFor(tap.name) };
    try {
      await (tap.fn as (r: InstanceFieldsRequest) => unknown)(request);
    } catch (error) {
      logger.warn({ err: error, plugin: tap.name }, `plugin "${tap.name}"'s instance fields are left out of this ${operation}`);
    }
  }
  return added;
}

/** `instance` with what plugins added, when they added something. */
export function withFields<T extends object>(instance: T, added: AddedFields | undefined): T {
  if (!added) return instance;
  return { ...instance, ...(added.fields && Object.keys(added.fields).length ? { fields: added.fields } : {}), ...(added.details?.length ? { details: added.details } : {}) };
}

/**
 * A usage as the CLI's read/list `--json` and the MCP `read` result show it:
 * without `costUsd`. That is the adapter's own figure at its shipped prices
 * (the dashboard and the workflow journal use it); the USD those results show
 * is the cost plugin's `fields.cost`, priced with the config's prices too, so
 * a second figure beside it could disagree.
 */
export function shownUsage(usage: TokenUsage): TokenUsage {
  const { costUsd: _adapterCost, ...shown } = usage;
  return shown;
}
