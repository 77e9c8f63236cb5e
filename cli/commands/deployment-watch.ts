// `chainloop deployment watch`: what runs where, live. First the active records (the
// snapshot), then one line per change as servers commit it: created, heartbeat, superseded,
// decommissioned, stale, stale-time (the environment's heartbeat interval changed). Table mode prints a header and one row per event (columns of fixed
// width, since rows arrive over time); json mode prints one JSON object per event per line.
// Ctrl-C (SIGINT) or SIGTERM stops it with exit code 0. When the server ends the stream for a
// reason that a new watch fixes (it is shutting down, lost its database's change feed, or
// this watcher fell behind), the command watches again, after a short pause.
import { defineCommand } from "../command.js";
import { digestFilterProblem } from "../filters.js";
import { DEPLOYMENT_FILTERS, deploymentFilterOptions } from "./deployment-filters.js";

/** Fixed widths of the table columns (longer values are cut with "…"). */
const COLUMNS: Array<[header: string, width: number]> = [
  ["TIME", 8],
  ["EVENT", 14],
  ["ENVIRONMENT", 28],
  ["DEPLOYMENT", 24],
  ["VERSION", 24],
  ["DIGEST", 19],
  ["STATUS", 14],
  ["STALE", 5],
];

export const deploymentWatch = defineCommand({
  command: "watch",
  describe: "Watch what runs where, live: the active records, then every change as it happens (Ctrl-C stops)",
  builder: (y) =>
    y
      // --version is the project version here, not the CLI's.
      .version(false)
      .options(deploymentFilterOptions)
      .group(DEPLOYMENT_FILTERS, "Options:")
      .check(({ digest }) => digestFilterProblem(digest) ?? true),
  examples: [
    ["Everything, live", "chainloop deployment watch"],
    ["Production in k8s-east, one JSON object per event per line", "chainloop deployment watch --env k8s-east --logical-env production -o json"],
    ["Where api-server's artifacts run, live", "chainloop deployment watch --project api-server"],
  ],
  async action(args, { client, out }) {
    const [{ DeploymentService, WatchDeploymentsResponseSchema, WatchEventType }, { KIND_TO_PB }, { toJson }, { Code, ConnectError }, fmt] =
      await Promise.all([
        import("../../gen/proto/chainloop/v1/deployment_pb.js"),
        import("../deployment-format.js"),
        import("@bufbuild/protobuf"),
        import("@connectrpc/connect"),
        import("../watch-format.js"),
      ]);
    const deployments = client(DeploymentService);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const json = args.output === "json";
    const write = (line: string) => process.stdout.write(`${line}\n`);
    if (!json) write(fmt.row(COLUMNS, COLUMNS.map(([h]) => h)));

    let attempt = 0;
    try {
      for (;;) {
        let established = false;
        try {
          const stream = deployments.watchDeployments(
            {
              environment: args.env ?? "",
              logicalEnvironment: args.logicalEnv ?? "",
              deploymentName: args.deploymentName ?? "",
              kind: args.kind ? KIND_TO_PB[args.kind] : undefined,
              digest: args.digest ?? "",
              project: args.project,
              projectVersion: args.version,
            },
            { signal: stop.signal },
          );
          let active = 0;
          for await (const ev of stream) {
            if (json) {
              write(JSON.stringify(toJson(WatchDeploymentsResponseSchema, ev, { alwaysEmitImplicit: true })));
            } else if (ev.type === WatchEventType.SNAPSHOT_END) {
              out.note(`${active} active record${active === 1 ? "" : "s"}; watching for changes (Ctrl-C to stop)`);
            } else {
              write(fmt.row(COLUMNS, fmt.eventCells(ev)));
            }
            if (ev.type === WatchEventType.SNAPSHOT) active++;
            if (ev.type === WatchEventType.SNAPSHOT_END) {
              established = true;
              attempt = 0;
            }
          }
          return; // the server ended the stream cleanly
        } catch (e) {
          if (stop.signal.aborted) return; // Ctrl-C: a normal end
          const err = ConnectError.from(e);
          const again = established && [Code.Unavailable, Code.ResourceExhausted].includes(err.code);
          if (!again && !(attempt > 0 && err.code === Code.Unavailable)) throw e;
          attempt++;
          const pauseMs = Math.min(500 * 2 ** (attempt - 1), 10_000);
          out.note(`watch interrupted (${err.rawMessage}); watching again in ${Math.round(pauseMs / 100) / 10}s`);
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, pauseMs);
            stop.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
          });
          if (stop.signal.aborted) return;
        }
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
});
