import type { Plugin } from "../kernel/plugin.js";
import { configSchema, type Settings, type UserSettings } from "./schema.js";

/** An entry of `plugins`; falsy ones are dropped, so `process.env.X && plugin()` works. */
export type PluginEntry = Plugin | false | 0 | "" | null | undefined;

/** What a user writes in tmuxclaude.config.ts. */
export type UserConfig = UserSettings & { plugins?: PluginEntry[] };

/** The validated config with every default filled in: the settings and the plugins in order. */
export type ResolvedConfig = Settings & { plugins: Plugin[] };

export type ConfigFactory = (env: { command: string; mode: string }) => UserConfig | Promise<UserConfig>;

/** Identity function that gives a config file its types. */
export function defineConfig(config: UserConfig): UserConfig;
export function defineConfig(config: ConfigFactory): ConfigFactory;
export function defineConfig(config: UserConfig | ConfigFactory): UserConfig | ConfigFactory {
  return config;
}

/**
 * Validate a config and fill in its defaults; throws the schema's ZodError.
 * The schema checks each plugin's shape (a name and an apply function); the
 * kernel checks the rest (dependencies, kernel range) when it applies them.
 */
export function parseConfig(input: unknown): ResolvedConfig {
  return configSchema.parse(input) as ResolvedConfig;
}

/** parseConfig that returns the ZodError instead of throwing it. */
export function safeParseConfig(input: unknown): { success: true; data: ResolvedConfig } | { success: false; error: ReturnType<typeof configSchema.safeParse>["error"] & object } {
  const result = configSchema.safeParse(input);
  return result.success ? { success: true, data: result.data as ResolvedConfig } : { success: false, error: result.error };
}
