export { Kernel, defaultStateDir, type KernelOptions } from "./kernel/kernel.js";
export { withDefaultAgents, withDefaultRoles } from "./kernel/default-agents.js";
export { KERNEL_VERSION } from "./kernel/version.js";
export { INSTANCE_ENV, callingInstance } from "./kernel/instance-env.js";
export { agentForRole } from "./instances/spawn-policy.js";
export { SECRET_ENV, isSecretDigest, secretDigest, storedSecretDigest } from "./kernel/secret-env.js";
export { defaultNodeId, nodeOf } from "./kernel/node.js";
export { createHooks, type KernelHooks, type HookName } from "./kernel/hooks.js";
export { shownUsage } from "./instances/fields.js";
export type { KernelApi, ToolContribution, ToolCall, CommandContribution, CommandInvocation, OutputOptions, OutputStream, ActivityEvent } from "./kernel/api.js";
export type { BreakerState, BreakerFailure } from "./instances/breaker.js";
export { blockedReason } from "./instances/blocked.js";
export { HEALTH_CHECK_TIMEOUT_MS, runHealthChecks, type HealthCheck, type HealthCheckResult, type HealthReport } from "./kernel/health.js";
export type {
  SpawnPlan,
  StatusChange,
  ProgressUpdate,
  EventMeta,
  SpawnFailure,
  DeliveryEvent,
  TurnEnded,
  UsageUpdate,
  Notice,
  NoticeInput,
  OperationEvent,
  OperationInput,
  TerminateEvent,
  ReadyGate,
  ListColumn,
  InstanceFieldsRequest,
  TakePlan,
  TakeEvent,
} from "./kernel/events.js";
export type { OutgoingMessage, DeliveryReceipt, WhenBusy } from "./kernel/messages.js";
export { definePlugin, parsePluginOptions, type Plugin, type PluginCheck, type PluginContext, type PluginHooks, type PluginSpec, type PluginState, type TapOnlyHook } from "./kernel/plugin.js";
export type { PluginData } from "./kernel/plugin-data.js";
export type { RouteRequest, RouteResult, RouteResults, RouteOperation, RouteAddress, LocalOperations, NodeReport } from "./kernel/routing.js";
export { currentProcess, isSameProcess, processId, type ProcessId } from "./os/process-tree.js";
export {
  configSchema,
  settingsSchema,
  DEFAULT_ROLES,
  type Settings,
  type UserSettings,
  type PluginObject,
  type RoleConfig,
  type BudgetAction,
  type AgentConfig,
  type UserAgentConfig,
  type UserRoleConfig,
} from "./config/schema.js";
export { defineConfig, parseConfig, safeParseConfig, type UserConfig, type ResolvedConfig, type ConfigFactory, type PluginEntry } from "./config/config.js";
export { loadConfig, type LoadedConfig, type LoadConfigOptions } from "./config/load.js";
export { closest, formatPath, formatZodIssues, formatIssueList, showValue, type ConfigIssue } from "./config/issues.js";
export { regexSource } from "./config/regex.js";
export { configTemplate } from "./config/template.js";
export { ErrorCodes, TmuxClaudeError, defineErrorCodes, isPluginErrorCode, isTmuxClaudeError, quoteScreen, type ErrorCode, type ErrorKind } from "./errors.js";
export { createLogger, type Logger } from "./logger.js";
export type {
  ActivityOptions,
  AgentAdapter,
  AgentDriver,
  DriverContext,
  LaunchContext,
  LaunchSpec,
  PaneIO,
  StatusReport,
  SubmissionEvidence,
  TokenUsage,
  ModelTokens,
  TurnEndReason,
} from "./agents/adapter.js";
export { waitForOutput } from "./agents/adapter.js";
export { commandAdapter, commandAgentOptions, type CommandAgentOptions } from "./agents/command.js";
export { PasteModeTracker } from "./agents/paste-mode.js";
export { jsonlEvidence } from "./agents/submission-evidence.js";
export { typeableText } from "./tmux/typeable.js";
export type { InstanceRecord, InstanceStatus, PendingTurnEnd, MessageEntry, QueuedMessage, TmuxLocation, LaunchRecord, Budget, InstanceHold, Progress, ProgressItem, InstanceStall } from "./store/types.js";
export type { StateStore, StoreChange, StoredDoc, StoreWatch, Lease, LockOptions, QueueClaim, RecoveredClaim, ClaimOptions, ClaimOutcome } from "./store/store-contract.js";
export { INSTANCE_STATUSES, MESSAGE_HISTORY_LIMIT, MESSAGE_TEXT_LIMIT } from "./store/types.js";
export { cutText } from "./instances/message-history.js";
export { threadMessages, conversation, type ThreadMessage } from "./instances/threads.js";
// How message and thread ids are spelled (a send's messageId/threadId): for commands that take one.
export { MESSAGE_ID } from "./instances/send-input.js";
// Document names and values as every store checks them: for stores in plugins (plugin-redis).
export { DOC_SIZE_LIMIT, assertCollection, assertDocKey, byKey, decodeDoc, encodeDoc } from "./store/docs.js";
export { FileStore } from "./store/file-store.js";
// The store's lease lock, for plugins that need a cross-process lock of their own (plugin-git's merge lock).
export { acquireLock, cleanLockDir, lockPathFor } from "./store/lock.js";
export { MemoryStore } from "./store/memory-store.js";
// What every store's leases share (re-entrant locks, renewal every third of the lease, the lease floor): for stores in plugins (plugin-redis).
export { keepRenewed, waitUntil, withReentrantLock, type ReleaseLock } from "./store/reentrant.js";
export { DEFAULT_LEASE_MS, leaseMsOf } from "./store/lease-owner.js";
export { DEFAULT_LOCK_TIMEOUT_MS } from "./store/lock.js";
export { guardListener } from "./store/watch-listener.js";
export { TmuxRuntime, MONITOR_PREFIX, type PaneInfo, type TmuxRuntimeOptions } from "./tmux/runtime.js";
export { sessionNameFor } from "./tmux/quote.js";
export { attachTerminal, isServerGone, listSessionNames, tmuxVersion, type AttachOptions } from "./tmux/direct.js";
export { findLeftovers, removeLeftovers, isStaleMonitor, monitorOwner, type Leftovers, type LeftoverOptions } from "./tmux/leftovers.js";
export type {
  SpawnOptions,
  SpawnResult,
  SendOptions,
  ReadOptions,
  ReadResult,
  ListFilter,
  InstanceSummary,
  TerminateOptions,
} from "./instances/manager.js";
export { compareIds } from "./instances/manager.js";
export { resolveCommand } from "./instances/resolve-command.js";
export { assertDirectory, assertWorkDirAllowed } from "./instances/spawn-policy.js";
export { checkBudget, effectiveBudget } from "./instances/holds.js";
export { checkProgress, plainLine, terminalText, progressCopy, progressRollup, progressText, rollupText, sameProgress, subtreeIds, PROGRESS_LIMITS, type ProgressEntry, type ProgressInput, type ProgressRollup } from "./instances/progress.js";
export { TURN_PROMPTS } from "./instances/turn-prompts.js";
export { isProcessAlive } from "./os/process-tree.js";
