export { StandInModel, type StandInModelOptions } from "./stand-in-model.js";
export { usageLimitReply } from "./stand-in-replies.js";
export type { ErrorReply, MessageReply, Reply, ReplySource, RuleHandle, RuleScope, RuleSpec, ToolUseSpec, Usage } from "./stand-in-replies.js";
export { isMainTurn, isSideRequest, lastUserText, match, toolNames, toolResults } from "./messages.js";
export { offersTool } from "./tool-search.js";
export type {
  ContentBlock,
  Message,
  MessagesRequestBody,
  RecordedRequest,
  RequestKind,
  RequestPredicate,
  ToolDefinition,
  ToolResult,
} from "./messages.js";
export { apiKeyFingerprint, claudeEnv, prepareClaudeHome, trustDir } from "./claude-home.js";
export type { ClaudeEnvOptions, ClaudeHome, PrepareClaudeHomeOptions } from "./claude-home.js";
export { CLAUDE_BIN_ENV, claudeVersion, findClaudeBinary } from "./claude-binary.js";
export type { ClaudeBinary, FindClaudeBinaryOptions } from "./claude-binary.js";
export { claudeReleases, newestClaudeVersion, NEWEST_CLAUDE_ENV } from "./claude-releases.js";
export type { ClaudeRelease, ClaudeReleasesOptions } from "./claude-releases.js";
export { TestkitError, TestkitErrorCodes } from "./errors.js";
export type { TestkitErrorCode } from "./errors.js";
export { childProcessPeer, contractMessage, contractRecord, inProcessPeer, runPeerCommand, runStoreContract, servePeer } from "./store-contract/index.js";
export type { PeerCommand, StoreContractSubject, StorePeer } from "./store-contract/index.js";
export { countingAgent, countingUsage } from "./counting-agent.js";
export { createHarness, eventually, readEchoLog, removeTestSocket, ECHO_AGENT } from "./kernel-harness.js";
export type { EchoMessage, Harness, HarnessOptions, StartKernelOptions, WatchMode } from "./kernel-harness.js";
export { removeRun, testRun, testSocket, tmuxProcesses, tmuxSocketDir, TEST_SOCKET_PREFIX } from "./sockets.js";
export { createClaudeHarness, API_KEY } from "./claude-harness.js";
export type { ClaudeHarness, ClaudeHarnessOptions } from "./claude-harness.js";
export { statusLog } from "./status-log.js";
export type { StatusLog } from "./status-log.js";
export { freePort, startRedis, REDIS_SERVER_BIN } from "./redis-server.js";
export { startReadyProcess, type ReadyProcess } from "./ready-process.js";
export type { RedisServer, StartRedisOptions } from "./redis-server.js";
