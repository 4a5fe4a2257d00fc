/**
 * The store documents of turn prompts: `{ text }` by instance id. The sender
 * writes one before it types (typing.ts), whoever sees the turn start reads it
 * (announcer.ts), terminate removes it (terminator.ts). Its own module: the
 * readers need only the name, not the typing code and what it imports.
 */
export const TURN_PROMPTS = "kernel/turn-prompt";
