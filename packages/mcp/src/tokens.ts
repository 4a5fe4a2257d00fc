import { randomBytes } from "node:crypto";
import { INSTANCE_ENV, secretDigest, storedSecretDigest, type InstanceRecord, type KernelApi } from "@tmux-claude/core";
import type { Caller } from "./caller.js";

/** The variables an instance finds its MCP endpoint and secret in: core's INSTANCE_ENV names, which adapters read (the claude adapter turns them into `--mcp-config`). */
export const MCP_URL_ENV = INSTANCE_ENV.endpointUrl;
export const MCP_TOKEN_ENV = INSTANCE_ENV.endpointToken;

/** A per-instance secret: 32 random bytes, base64url. */
export function mintToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The digest the kernel stores in a token's place (core's secret-env): what a presented token is checked against. */
export function tokenDigest(token: string): string {
  return secretDigest(token);
}

export type Authentication = { ok: true; caller: Caller } | { ok: false; reason: string };

/**
 * Token -> instance. The source of truth is the instance's own record: its
 * `launch.env` holds the token's SHA-256 digest (the kernel never stores the
 * token itself, so a shared store holds no usable secret; the instance keeps
 * it and gets it again on restart), so a token is valid exactly while its
 * instance exists and has not exited, and its role is read from the same
 * record. A cache maps digests to instance ids; a miss rebuilds it.
 * Looking a digest up in a Map is not constant-time, which leaks nothing
 * useful: nobody can steer the SHA-256 of a guess towards a stored one.
 */
export class TokenIndex {
  private byDigest = new Map<string, string>();

  constructor(private readonly kernel: KernelApi) {}

  async authenticate(token: string): Promise<Authentication> {
    const digest = tokenDigest(token);
    let record = await this.lookup(digest);
    if (!record) {
      await this.rebuild();
      record = await this.lookup(digest);
    }
    if (!record) return { ok: false, reason: "The token is not valid: no instance has it (it may have been terminated)." };
    if (record.status === "exited") {
      return { ok: false, reason: `Instance "${record.id}" has exited; its token is accepted again once it is restarted (tmux-claude restart ${record.id}).` };
    }
    return { ok: true, caller: { instanceId: record.id, role: record.role } };
  }

  /** The record whose token has this digest, checked against the record itself (not only the cache). */
  private async lookup(digest: string): Promise<InstanceRecord | undefined> {
    const id = this.byDigest.get(digest);
    if (!id) return undefined;
    const record = await this.kernel.get(id).catch(() => undefined);
    const stored = record?.launch.env[MCP_TOKEN_ENV];
    if (!record || !stored || storedSecretDigest(stored) !== digest) {
      this.byDigest.delete(digest);
      return undefined;
    }
    return record;
  }

  private async rebuild(): Promise<void> {
    const next = new Map<string, string>();
    for (const record of await this.kernel.list()) {
      const stored = record.launch.env[MCP_TOKEN_ENV];
      if (stored) next.set(storedSecretDigest(stored), record.id);
    }
    this.byDigest = next;
  }
}
