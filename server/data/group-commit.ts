// Group commit: concurrent callers share one statement (one transaction, one commit), each
// answered only after that commit.
//
// Policy: up to `maxInFlight` batches run at once. A caller arriving while a slot is free goes
// out at once, alone (no waiting window: an unloaded server answers as fast as before); callers
// arriving while every slot is busy queue, and whoever is waiting when a batch ends goes out in
// the next one, up to `maxBatch` items. So batches grow with the load, by themselves.
//
// Items carry a key (the deployment slot). A batch never holds two items with one key, and an
// item never starts while a batch holding its key is in flight: items of one key run one after
// another, in arrival order. Within a batch every key is distinct, which the record statement
// needs (it locks and writes each slot once), and this process never makes its own batches wait
// on each other's row locks.
//
// `run` answers per item (PromiseSettledResult): a refusal or failure of one item is that
// item's alone (server/data/deployments.ts runs a failed batch again item by item). A rejection
// of `run` itself (the database cannot be reached, or did not answer in time) fails every item
// of the batch and every item waiting: they would only fail the same way after waiting their
// turn, and a caller waiting behind a batch that hung would wait twice the database's timeout.
//
// Written here rather than taken from a library: DataLoader (the usual batching library) batches
// per event-loop tick and has no notion of keys that must not share or overlap batches.

import { AsyncResource } from "node:async_hooks";

export interface GroupCommitOptions {
  /** Most items in one batch. */
  maxBatch: number;
  /** Most batches running at once. */
  maxInFlight: number;
}

interface Waiting<I, R> {
  item: I;
  key: string;
  /**
   * The submitter's async context: a batch runs in its first item's, so the statement's trace
   * span (server/tracing-otel.ts) is a child of that caller's call, not of whichever earlier
   * batch happened to start this one. (An AsyncResource: ~0.4 µs; AsyncLocalStorage.snapshot()
   * cost ~45 µs on Node 20.)
   */
  context: AsyncResource;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<I, R> {
  private queue: Array<Waiting<I, R>> = [];
  private inFlight = 0;
  /** Keys of the items in running batches. */
  private readonly busy = new Set<string>();
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly run: (items: I[]) => Promise<Array<PromiseSettledResult<R>>>,
    private readonly keyOf: (item: I) => string,
    opts: GroupCommitOptions,
  ) {
    if (!(opts.maxBatch >= 1 && opts.maxInFlight >= 1)) throw new Error("maxBatch and maxInFlight must be at least 1");
    this.maxBatch = opts.maxBatch;
    this.maxInFlight = opts.maxInFlight;
  }

  /** Items waiting for a batch (not counting those in running batches). */
  get waiting(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, key: this.keyOf(item), resolve, reject, context: new AsyncResource("GroupCommitItem") });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Array<Waiting<I, R>> = [];
      const keys = new Set<string>();
      const rest: Array<Waiting<I, R>> = [];
      for (const w of this.queue) {
        // An item whose key is running or already in this batch waits, and so keeps its place
        // before any later item of that key (which is skipped for the same reason).
        if (batch.length < this.maxBatch && !this.busy.has(w.key) && !keys.has(w.key)) {
          batch.push(w);
          keys.add(w.key);
        } else {
          rest.push(w);
        }
      }
      if (batch.length === 0) return; // everything waiting is behind a running batch
      this.queue = rest;
      this.start(batch, keys);
    }
  }

  private start(batch: Array<Waiting<I, R>>, keys: Set<string>): void {
    this.inFlight++;
    for (const k of keys) this.busy.add(k);
    let results: Promise<Array<PromiseSettledResult<R>>>;
    try {
      results = batch[0].context.runInAsyncScope(() => this.run(batch.map((w) => w.item)));
    } catch (e) {
      results = Promise.reject(e);
    }
    results
      .then(
        (settled) => {
          batch.forEach((w, i) => {
            const s = settled[i];
            if (!s) w.reject(new Error(`group commit: no result for item ${i} of ${batch.length}`));
            else if (s.status === "fulfilled") w.resolve(s.value);
            else w.reject(s.reason);
          });
        },
        (e: unknown) => {
          const waiting = this.queue;
          this.queue = [];
          for (const w of [...batch, ...waiting]) w.reject(e);
        },
      )
      .finally(() => {
        this.inFlight--;
        for (const k of keys) this.busy.delete(k);
        this.pump();
      });
  }
}
