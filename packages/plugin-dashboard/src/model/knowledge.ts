// Shared knowledge and file claims, when the knowledge plugin is loaded: read
// through its api when the store reports a change of its documents (by any
// process, any node), pushed to every subscriber. Never polled.
import type { KernelApi, Logger } from "@tmux-claude/core";
import type { KnowledgeView } from "../protocol.js";
import { DocFeed } from "./doc-feed.js";

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

export class KnowledgeFeed extends DocFeed {
  private view: KnowledgeView = { entries: [], claims: [] };
  private json = "";

  constructor(
    private readonly api: KnowledgeApiLike,
    kernel: KernelApi,
    logger: Logger,
  ) {
    super(kernel, logger, new Set(api.collections), "the shared knowledge");
  }

  current(): KnowledgeView {
    return this.view;
  }

  protected async read(): Promise<void> {
    const view = await knowledgeView(this.api);
    const json = JSON.stringify(view);
    if (this.closed || json === this.json) return;
    this.view = view;
    this.json = json;
    this.emit({ type: "knowledge", knowledge: view });
  }
}
