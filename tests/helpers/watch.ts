// A WatchDeployments stream read in the background: every event is kept, with the time it
// arrived, and tests wait for the ones they expect.
import type { Client } from "@connectrpc/connect";
import {
  DeploymentService,
  WatchEventType,
  type WatchDeploymentsRequestSchema,
  type WatchDeploymentsResponse,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";

export interface Received {
  event: WatchDeploymentsResponse;
  at: number;
}

export class Watch {
  readonly events: Received[] = [];
  error: unknown;
  ended = false;
  private readonly abort = new AbortController();
  private waiters: Array<() => void> = [];
  readonly done: Promise<void>;

  constructor(client: Client<typeof DeploymentService>, req: MessageInitShape<typeof WatchDeploymentsRequestSchema> = {}) {
    this.done = (async () => {
      try {
        for await (const event of client.watchDeployments(req, { signal: this.abort.signal })) {
          this.events.push({ event, at: performance.now() });
          this.notify();
        }
      } catch (e) {
        if (!this.abort.signal.aborted) this.error = e;
      } finally {
        this.ended = true;
        this.notify();
      }
    })();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Events after the snapshot. */
  get changes(): WatchDeploymentsResponse[] {
    const end = this.events.findIndex((r) => r.event.type === WatchEventType.SNAPSHOT_END);
    return end < 0 ? [] : this.events.slice(end + 1).map((r) => r.event);
  }

  get snapshot(): WatchDeploymentsResponse[] {
    const end = this.events.findIndex((r) => r.event.type === WatchEventType.SNAPSHOT_END);
    return (end < 0 ? this.events : this.events.slice(0, end)).map((r) => r.event);
  }

  /** Resolves with the first received event matching `pred` (searching from the start), or rejects after timeoutMs. */
  async waitFor(pred: (e: WatchDeploymentsResponse) => boolean, timeoutMs = 5000, what = "event"): Promise<Received> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((r) => pred(r.event));
      if (hit) return hit;
      if (this.ended) throw new Error(`watch ended before ${what} arrived: ${String(this.error)}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${this.events.map((r) => WatchEventType[r.event.type]).join(", ")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  ready(timeoutMs = 10_000): Promise<Received> {
    return this.waitFor((e) => e.type === WatchEventType.SNAPSHOT_END, timeoutMs, "SNAPSHOT_END");
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
