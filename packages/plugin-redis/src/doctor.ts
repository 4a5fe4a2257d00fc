/**
 * `tmux-claude doctor`'s line for this plugin: Redis answers at the URL,
 * takes the credentials, has every command the store and the bus send, and
 * the prefix is a store of ours or empty. Doctor creates nothing: this only
 * reads, on one connection it closes again.
 */
import { isTmuxClaudeError, type PluginCheck } from "@tmux-claude/core";
import { checkServer, connect, createClient, inspectPrefix } from "./connection.js";
import { redactUrl, type ResolvedRedisOptions } from "./options.js";

export async function doctorChecks(options: ResolvedRedisOptions): Promise<PluginCheck[]> {
  const url = redactUrl(options.url);
  const { client } = createClient(options);
  try {
    await connect(client, options);
    const version = await checkServer(client, url);
    const prefix = await inspectPrefix(client, options.prefix, url);
    const state = prefix === "ours" ? "a tmux-claude store" : "empty (the first kernel marks it as a store)";
    return [{ name: "redis", ok: true, detail: `${url}: Redis ${version}, prefix "${options.prefix}" ${state}` }];
  } catch (error) {
    // Our errors name the URL (never its password) and the fix; a Redis reply error (an ACL's NOPERM, say) gets the URL added.
    const detail = isTmuxClaudeError(error) ? error.message : `${url}: ${(error as Error).message}`;
    return [{ name: "redis", ok: false, detail }];
  } finally {
    client.disconnect();
  }
}
