import { createHash, randomBytes } from "node:crypto";
import { INSTANCE_ENV, type InstanceRecord, type KernelApi } from "@tmux-claude/core";
import type { Caller } from "./caller.js";

/** The variables an instance finds its MCP endpoint and secret in: core's INSTANCE_ENV names, which adapters read (the claude adapter turns them into `--mcp-config`). */
export const MCP_URL_ENV = INSTANCE_ENV.endpointUrl;
export const MCP_TOKEN_ENV = INSTANCE_ENV.endpointToken;

/** A per-instance secret: 32 random bytes, base64url. */
export function mintToken(): string {
  return randomBytes(32).toString("base64url");
}

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export type Authentication = { ok: true; caller: Caller } | { ok: false; reason: string };

/**
 * Token -> instance. The source of truth is the instance's own record: the
 * token is in `launch.env` (the kernel stores it 0600 and reuses it on
 * restart), so a token is valid exactly while its instance exists and has not
 * exited, and its role is read from the same record. Only SHA-256 digests are
 * kept in memory, as a cache from digest to instance id; a miss rebuilds it.
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
    const token = record?.launch.env[MCP_TOKEN_ENV];
    if (!record || !token || tokenDigest(token) !== digest) {
      this.byDigest.delete(digest);
      return undefined;
    }
    return record;
  }

  private async rebuild(): Promise<void> {
    const next = new Map<string, string>();
    for (const record of await this.kernel.list()) {
      const token = record.launch.env[MCP_TOKEN_ENV];
      if (token) next.set(tokenDigest(token), record.id);
    }
    this.byDigest = next;
  }
}
