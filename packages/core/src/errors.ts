/**
 * Every error tmux-claude raises on purpose is a TmuxClaudeError with a stable
 * `code`. Messages say what happened, with the value, and what to do next.
 */
export const ErrorCodes = {
  // usage / input
  INVALID_ARGUMENT: "TC_INVALID_ARGUMENT",
  CONFIG_INVALID: "TC_CONFIG_INVALID",
  CONFIG_NOT_FOUND: "TC_CONFIG_NOT_FOUND",
  CONFIG_LOAD_FAILED: "TC_CONFIG_LOAD_FAILED",
  UNKNOWN_ROLE: "TC_UNKNOWN_ROLE",
  ROLE_NOT_ALLOWED: "TC_ROLE_NOT_ALLOWED",
  UNKNOWN_AGENT: "TC_UNKNOWN_AGENT",
  WORKDIR_INVALID: "TC_WORKDIR_INVALID",
  WORKDIR_NOT_ALLOWED: "TC_WORKDIR_NOT_ALLOWED",
  AGENT_NOT_ALLOWED: "TC_AGENT_NOT_ALLOWED",
  EMPTY_TEXT: "TC_EMPTY_TEXT",
  // lookups
  INSTANCE_NOT_FOUND: "TC_INSTANCE_NOT_FOUND",
  // limits and state
  MAX_INSTANCES: "TC_MAX_INSTANCES",
  MAX_DEPTH: "TC_MAX_DEPTH",
  INSTANCE_BUSY: "TC_INSTANCE_BUSY",
  INSTANCE_EXITED: "TC_INSTANCE_EXITED",
  HAS_CHILDREN: "TC_HAS_CHILDREN",
  /** Its delivery is held (kernel.hold): a send that may not queue is refused. */
  INSTANCE_PAUSED: "TC_INSTANCE_PAUSED",
  /** limits.spawnRate: too many spawns in its window. */
  SPAWN_RATE: "TC_SPAWN_RATE",
  /** A spawn onto an account at its usage limit, with `limits.usage.spawn: "fail"`. */
  USAGE_LIMITED: "TC_USAGE_LIMITED",
  // failures of real parts
  TMUX_NOT_FOUND: "TC_TMUX_NOT_FOUND",
  TMUX_COMMAND_FAILED: "TC_TMUX_COMMAND_FAILED",
  TMUX_DISCONNECTED: "TC_TMUX_DISCONNECTED",
  AGENT_COMMAND_NOT_FOUND: "TC_AGENT_COMMAND_NOT_FOUND",
  SPAWN_FAILED: "TC_SPAWN_FAILED",
  SPAWN_TIMEOUT: "TC_SPAWN_TIMEOUT",
  SEND_FAILED: "TC_SEND_FAILED",
  SEND_TIMEOUT: "TC_SEND_TIMEOUT",
  READ_TIMEOUT: "TC_READ_TIMEOUT",
  STORE_FAILED: "TC_STORE_FAILED",
  LOCK_TIMEOUT: "TC_LOCK_TIMEOUT",
  // plugins
  PLUGIN_INVALID: "TC_PLUGIN_INVALID",
  PLUGIN_DUPLICATE: "TC_PLUGIN_DUPLICATE",
  PLUGIN_MISSING_DEPENDENCY: "TC_PLUGIN_MISSING_DEPENDENCY",
  PLUGIN_HOOK_FAILED: "TC_PLUGIN_HOOK_FAILED",
  PLUGIN_OPTIONS_INVALID: "TC_PLUGIN_OPTIONS_INVALID",
  KERNEL_STATE: "TC_KERNEL_STATE",
  // nodes
  NODE_UNREACHABLE: "TC_NODE_UNREACHABLE",
  ROUTE_FAILED: "TC_ROUTE_FAILED",
  WRONG_NODE: "TC_WRONG_NODE",
  SERVE_RUNNING: "TC_SERVE_RUNNING",
  // orchestration over MCP
  FORBIDDEN: "TC_FORBIDDEN",
  MCP_LISTEN_FAILED: "TC_MCP_LISTEN_FAILED",
} as const;

/** A built-in code, or one a plugin defined with `defineErrorCodes`. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | `TC_${string}`;

/** What kind of failure it is, so a CLI can choose an exit code. */
export type ErrorKind = "usage" | "not-found" | "failure";

const USAGE_CODES = new Set<ErrorCode>([
  ErrorCodes.INVALID_ARGUMENT,
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.CONFIG_NOT_FOUND,
  ErrorCodes.CONFIG_LOAD_FAILED,
  ErrorCodes.UNKNOWN_ROLE,
  ErrorCodes.ROLE_NOT_ALLOWED,
  ErrorCodes.UNKNOWN_AGENT,
  ErrorCodes.WORKDIR_INVALID,
  ErrorCodes.WORKDIR_NOT_ALLOWED,
  ErrorCodes.AGENT_NOT_ALLOWED,
  ErrorCodes.EMPTY_TEXT,
  ErrorCodes.PLUGIN_INVALID,
  ErrorCodes.PLUGIN_DUPLICATE,
  ErrorCodes.PLUGIN_MISSING_DEPENDENCY,
  ErrorCodes.PLUGIN_OPTIONS_INVALID,
  ErrorCodes.FORBIDDEN,
]);

/** Codes plugins defined: their kind (for exit codes) and who defined them. */
const pluginCodes = new Map<string, { kind: ErrorKind; owner: string }>();
const BUILTIN_CODES = new Set<string>(Object.values(ErrorCodes));
const CODE_PATTERN = /^TC_[A-Z][A-Z0-9_]*$/u;

/**
 * Define a plugin's own error codes, so its errors keep their code through
 * the CLI (exit code by kind: usage 2, not-found 3, failure 1) and MCP tool
 * errors. Codes are `TC_<NAME>` in capitals; a code another plugin (or the
 * kernel) already defined is refused. Defining the same codes again with the
 * same owner and kinds (a module loaded twice) is allowed.
 *
 * `const GitErrors = defineErrorCodes("git", { DIRTY: { code: "TC_GIT_DIRTY", kind: "usage" } })`
 * then `throw new TmuxClaudeError(GitErrors.DIRTY, "…")`.
 */
export function defineErrorCodes<const T extends Record<string, { code: `TC_${string}`; kind?: ErrorKind }>>(
  owner: string,
  codes: T,
): { readonly [K in keyof T]: T[K]["code"] } {
  const out: Record<string, string> = {};
  for (const [name, { code, kind = "failure" }] of Object.entries(codes)) {
    if (!CODE_PATTERN.test(code)) {
      throw new TmuxClaudeError(ErrorCodes.PLUGIN_INVALID, `Plugin "${owner}" defines error code "${code}" (${name}); codes are TC_ followed by capitals, digits and _, e.g. "TC_${owner.toUpperCase().replace(/[^A-Z0-9]+/gu, "_")}_${name}".`, { plugin: owner, code });
    }
    const known = BUILTIN_CODES.has(code) ? { owner: "the kernel", kind: undefined } : pluginCodes.get(code);
    if (known && (known.owner !== owner || known.kind !== kind)) {
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_INVALID,
        `Plugin "${owner}" defines error code "${code}", which ${known.owner === owner ? `it defined before with kind "${known.kind}"` : `${known.owner === "the kernel" ? "the kernel" : `plugin "${known.owner}"`} already defines`}. Give the code a name of its own, e.g. prefixed with the plugin's name.`,
        { plugin: owner, code, definedBy: known.owner },
      );
    }
    pluginCodes.set(code, { kind, owner });
    out[name] = code;
  }
  return Object.freeze(out) as { readonly [K in keyof T]: T[K]["code"] };
}

/** Was the code defined by a plugin (defineErrorCodes)? */
export function isPluginErrorCode(code: string): boolean {
  return pluginCodes.has(code);
}

export interface ErrorDetails {
  /** For plugin failures: which plugin. */
  plugin?: string;
  /** For plugin failures: which hook. */
  hook?: string;
  /** The tail of the agent's screen when the failure involves an agent. */
  screen?: string;
  [key: string]: unknown;
}

export class TmuxClaudeError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TmuxClaudeError";
    this.code = code;
    this.details = details;
  }

  get kind(): ErrorKind {
    if (this.code === ErrorCodes.INSTANCE_NOT_FOUND) return "not-found";
    return pluginCodes.get(this.code)?.kind ?? (USAGE_CODES.has(this.code) ? "usage" : "failure");
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.details };
  }
}

export function isTmuxClaudeError(value: unknown, code?: ErrorCode): value is TmuxClaudeError {
  return value instanceof TmuxClaudeError && (code === undefined || value.code === code);
}

/** Indent a screen capture so it reads as a quote inside an error message. */
export function quoteScreen(screen: string, maxLines = 15): string {
  const lines = screen.replace(/\s+$/u, "").split("\n").slice(-maxLines);
  if (lines.length === 0 || (lines.length === 1 && lines[0] === "")) return "  | (the screen is empty)";
  return lines.map((line) => `  | ${line}`).join("\n");
}
