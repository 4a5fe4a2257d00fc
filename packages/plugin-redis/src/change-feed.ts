/**
 * The store's changes channel (`<prefix>:changes`) as this process hears it:
 * one subscriber connection per store, whose messages become watch changes
 * (`i:<id>`, `q:<id>`, `d:<collection>:<key>`) and wake lock waiters
 * (`u:<key>`). Every write publishes its message in the same script or MULTI
 * as the write, so a subscribed watcher never misses one.
 */
import { EventEmitter } from "node:events";
import type { StoreChange } from "@tmux-claude/core";
import type { Redis } from "ioredis";
import { docChange } from "./redis-docs.js";

type ChangeListener = (change: StoreChange) => void;

export class ChangeFeed {
  private subscriber: Redis | undefined;
  private subscription: Promise<void> | undefined;
  /** "change" for watchers, "unlock:<key>" for lock waiters. */
  private readonly events = new EventEmitter();

  constructor(
    private readonly client: Redis,
    private readonly channel: string,
    /** Keeps the subscriber's last connection error for the store's messages. */
    private readonly onError: (message: string) => void,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Subscribe once; resolves when Redis confirmed the subscription. A failure lets the next caller try again. */
  subscribed(): Promise<void> {
    this.subscription ??= (async () => {
      const subscriber = this.client.duplicate();
      this.subscriber = subscriber;
      subscriber.on("error", (error: Error) => this.onError(error.message));
      subscriber.on("message", (_channel: string, message: string) => this.dispatch(message));
      // ioredis subscribes again by itself after a reconnect (autoResubscribe).
      await subscriber.subscribe(this.channel);
    })().catch((error: unknown) => {
      this.subscription = undefined;
      this.subscriber?.disconnect();
      throw error;
    });
    return this.subscription;
  }

  onChange(listener: ChangeListener): void {
    this.events.on("change", listener);
  }

  offChange(listener: ChangeListener): void {
    this.events.off("change", listener);
  }

  /** Report a change to this process's watchers only (nothing is published). */
  emitChange(change: StoreChange): void {
    this.events.emit("change", change);
  }

  onceUnlocked(key: string, wake: () => void): void {
    this.events.once(`unlock:${key}`, wake);
  }

  offUnlocked(key: string, wake: () => void): void {
    this.events.off(`unlock:${key}`, wake);
  }

  /** The subscriber connection, for the store's close to end with its own. */
  get connection(): Redis | undefined {
    return this.subscriber;
  }

  private dispatch(message: string): void {
    const kind = message.slice(0, 2);
    const rest = message.slice(2);
    if (kind === "i:") this.emitChange({ kind: "instance", id: rest });
    else if (kind === "q:") this.emitChange({ kind: "queue", instanceId: rest });
    else if (kind === "d:") this.emitChange(docChange(rest));
    else if (kind === "u:") this.events.emit(`unlock:${rest}`);
  }
}
