/**
 * Secrets in an instance's launch environment (its MCP token): the agent's
 * process gets them, the store never does. A record's `launch.env` keeps a
 * digest in their place (`sha256:<hex>`), enough to authenticate the agent;
 * a shared store (Redis) thus holds no secret that would let its readers act
 * as an instance. The plaintext stays with the instance: in its process's
 * environment and, so that a restart on this machine gives it the same
 * secret, in its own 0600 file in its instance directory.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { INSTANCE_ENV } from "./instance-env.js";

/** The variables whose values are secrets. */
export const SECRET_ENV: readonly string[] = [INSTANCE_ENV.endpointToken];

const DIGEST_PREFIX = "sha256:";
const SECRETS_FILE = "secrets.json";

/** What the store keeps in a secret's place. */
export function secretDigest(value: string): string {
  return `${DIGEST_PREFIX}${createHash("sha256").update(value, "utf8").digest("hex")}`;
}

/** Is this stored value a digest (not a secret)? Records written before digests hold the secret itself. */
export function isSecretDigest(value: string): boolean {
  return /^sha256:[0-9a-f]{64}$/u.test(value);
}

/** The digest of a stored value, whether it is a digest already or (an older record) the secret. */
export function storedSecretDigest(value: string): string {
  return isSecretDigest(value) ? value : secretDigest(value);
}

/** `env` as the store keeps it: each secret replaced by its digest. */
export function storedEnv(env: Record<string, string>): Record<string, string> {
  const stored = { ...env };
  for (const name of SECRET_ENV) {
    const value = stored[name];
    if (value !== undefined) stored[name] = storedSecretDigest(value);
  }
  return stored;
}

/** Keep the instance's secrets (of `env`) in its own directory, readable by its owner only. */
export async function keepSecrets(instanceDir: string, env: Record<string, string>): Promise<void> {
  const secrets = Object.fromEntries(SECRET_ENV.flatMap((name) => (env[name] === undefined || isSecretDigest(env[name]) ? [] : [[name, env[name]]])));
  // No secret, no file: an instance directory holds only what something needs.
  if (Object.keys(secrets).length === 0) return;
  await writeFile(path.join(instanceDir, SECRETS_FILE), `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
}

/**
 * The environment to relaunch with from a stored one: each digest replaced
 * by the secret kept here when it matches, else dropped (another machine
 * launched it, or its file is gone), so the plugin that owns it mints anew.
 */
export async function restoreSecrets(instanceDir: string, env: Record<string, string>): Promise<Record<string, string>> {
  let kept: Record<string, string> = {};
  try {
    kept = JSON.parse(await readFile(path.join(instanceDir, SECRETS_FILE), "utf8")) as Record<string, string>;
  } catch {
    // No file: nothing to restore.
  }
  const restored = { ...env };
  for (const name of SECRET_ENV) {
    const value = restored[name];
    if (value === undefined || !isSecretDigest(value)) continue;
    const secret = kept[name];
    if (secret !== undefined && secretDigest(secret) === value) restored[name] = secret;
    else delete restored[name];
  }
  return restored;
}
