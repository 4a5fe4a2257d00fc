// Shared knowledge and file claims, when the knowledge plugin is loaded: read
// through its api when the store reports a change of its documents (by any
// process, any node), pushed to every subscriber. Never polled.
import type { KernelApi, Logger, StoreWatch } from "@tmux-claude/core";
import type { KnowledgeView, ServerMessage } from "../protocol.js";
import { CoalescedRead, emitTo } from "./coalesce.js";

/** What the dashboard uses of the knowledge plugin's api (its KnowledgeApi), typed here so the dashboard does not depend on the package. */
export interface KnowledgeApiLike {
  query(): Promise<readonly KnowledgeView["entries"][number][]>;
  claims(): Promise<readonly { hierarchy: string; claims: readonly ClaimLike[]; waiting: readonly ClaimLike[] }[]>;
  /** The store collections it keeps its documents in. */
  readonly collections: readonly string[];
}

interface ClaimLike {
  instanceId: string;
  paths: readonly string[];
  at: string;
}

/** The view of what the api reads: the entries as they are, the claims flattened (what the page lists). */
export async function knowledgeView(api: KnowledgeApiLike): Promise<KnowledgeView> {
  const [entries, docs] = await Promise.all([api.query(), api.claims()]);
  const claim = (hierarchy: string, waiting: boolean) => (c: ClaimLike) => ({ hierarchy, instanceId: c.instanceId, paths: [...c.paths], at: c.at, waiting });
  return {
    entries: entries.map((e) => ({ hierarchy: e.hierarchy, key: e.key, value: e.value, tags: [...e.tags], by: e.by, at: e.at, version: e.version })),
    claims: [...docs.flatMap((d) => d.claims.map(claim(d.hierarchy, false))), ...docs.flatMap((d) => d.waiting.map(claim(d.hierarchy, true)))],
  };
}

export class KnowledgeFeed {
  private view: KnowledgeView = { entries: [], claims: [] };
  private json = "";
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  private storeWatch: StoreWatch | undefined;
  private closed = false;
  private readonly reads = new CoalescedRead(
    () => this.read(),
    (error) => this.logger.warn({ err: error }, "dashboard: reading the shared knowledge failed; the next change retries"),
    () => this.closed,
  );

  constructor(
    private readonly api: KnowledgeApiLike,
    private readonly kernel: KernelApi,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const collections = new Set(this.api.collections);
    this.storeWatch = this.kernel.watch((change) => {
      if (change.kind === "doc" && collections.has(change.collection)) this.reads.schedule();
    });
    await this.storeWatch.ready;
    this.reads.schedule();
    await this.settled();
  }

  current(): KnowledgeView {
    return this.view;
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

  private async read(): Promise<void> {
    const view = await knowledgeView(this.api);
    const json = JSON.stringify(view);
    if (this.closed || json === this.json) return;
    this.view = view;
    this.json = json;
    emitTo(this.listeners, this.logger, { type: "knowledge", knowledge: view });
  }
}
