/**
 * @tmux-claude/plugin-notify: status changes and notices sent to a signed
 * generic webhook, Slack and Discord (see README.md).
 */
export { notify } from "./plugin.js";
export { notifyOptionsSchema, parseNotifyOptions, DEFAULT_ON, PLUGIN_NAME, type NotifyOptions, type ResolvedNotifyOptions } from "./options.js";
export { sign, verifySignature, SIGNATURE_HEADER, TIMESTAMP_HEADER, EVENT_ID_HEADER, DEFAULT_TOLERANCE_SECONDS, type VerifyResult } from "./signature.js";
export { webhookBody, slackMessage, discordMessage } from "./format.js";
export type { NotifyEvent } from "./event.js";
export type { OutboxEntry } from "./sender.js";
