// What the runs feed and the knowledge feed share: a plugin's store documents
// read again (one read at a time, see CoalescedRead) whenever the store's
// change feed reports one of them changed, by any process or node, and what
// changed pushed to every subscriber. Never polled.
import type { KernelApi, Logger, StoreWatch } from "@tmux-claude/core";
import type { ServerMessage } from "../protocol.js";
import { CoalescedRead, emitTo } from "./coalesce.js";

export abstract class DocFeed {
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  private storeWatch: StoreWatch | undefined;
  protected closed = false;
  private readonly reads: CoalescedRead;

  constructor(
    protected readonly kernel: KernelApi,
    protected readonly logger: Logger,
    /** The store collections whose documents it shows. */
    private readonly collections: ReadonlySet<string>,
    /** What it reads, for the warning when a read fails ("the workflow runs"). */
    what: string,
  ) {
    this.reads = new CoalescedRead(
      () => this.read(),
      (error) => this.logger.warn({ err: error }, `dashboard: reading ${what} failed; the next change retries`),
      () => this.closed,
    );
  }

  async start(): Promise<void> {
    this.storeWatch = this.kernel.watch((change) => {
      if (change.kind === "doc" && this.collections.has(change.collection)) this.reads.schedule();
    });
    await this.storeWatch.ready;
    this.reads.schedule();
    await this.settled();
  }

  subscribe(listener: (message: ServerMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every change reported so far is read (tests). */
  settled(): Promise<void> {
    return this.reads.settled();
  }

  close(): void {
    this.closed = true;
    this.storeWatch?.stop();
    this.listeners.clear();
  }

  /** Read the documents again and emit what changed. */
  protected abstract read(): Promise<void>;

  protected emit(message: ServerMessage): void {
    emitTo(this.listeners, this.logger, message);
  }
}
