// `chainloop metrics`: how a team delivers, from the deployment history — the four DORA measures
// of one logical environment (GetDeliveryMetrics): deployment frequency, lead time for changes,
// change failure rate and time to restore, per day, week or month and in total. The definitions
// are the API's (proto/chainloop/v1/delivery_metrics.proto, README "Delivery metrics").
import type { CommandModule } from "yargs";
import { defineCommand, type GlobalArgs } from "../command.js";
import { anyFilter, envFilter, logicalEnvOption } from "../filters.js";
import { parseDuration, parseInstant } from "../../server/shared/durations.js";
import { METRICS_BUCKETS as BUCKETS } from "../../server/shared/names.js";

// Typed as the other top-level entries of the command array (groups, `version`) are.
export const metrics: CommandModule<GlobalArgs, any> = defineCommand({
  command: "metrics",
  describe: "Delivery metrics (DORA) of a lifecycle stage: deployment frequency, lead time, change failure rate, time to restore",
  builder: (y) =>
    y
      .options({
        "logical-env": logicalEnvOption("The logical environment measured, e.g. production"),
        env: { ...envFilter, defaultDescription: "every environment" },
        project: anyFilter("Only artifacts an attestation of this project names as a subject"),
        since: {
          type: "string",
          requiresArg: true,
          defaultDescription: "30d before --until",
          describe: "Start of the period: a duration ago (30d, 12w, 36h) or an RFC 3339 time",
          coerce: (v: string) => parseInstant(v, "--since"),
        },
        until: {
          type: "string",
          requiresArg: true,
          defaultDescription: "now",
          describe: "End of the period (not included): a duration ago or an RFC 3339 time",
          coerce: (v: string) => parseInstant(v, "--until"),
        },
        bucket: {
          choices: BUCKETS,
          default: "week" as const,
          coerce: (v: string) => String(v).toLowerCase() as (typeof BUCKETS)[number],
          describe: "Rows of the table: UTC days, ISO weeks (from Monday) or months",
        },
        "failure-window": {
          type: "string",
          requiresArg: true,
          defaultDescription: "1h",
          describe: "How soon after a deployment a decommission counts it as failed, e.g. 30m or 2h",
          coerce: (v: string) => parseDuration(v, "--failure-window"),
        },
      })
      .check((args) => {
        const since = args.since as Date | undefined;
        const until = args.until as Date | undefined;
        if (since && until && until.getTime() <= since.getTime()) return "--until must be after --since";
        return true;
      }),
  examples: [
    ["Production over the last 30 days, week by week", "chainloop metrics --logical-env production"],
    ["One cluster's production, day by day for two weeks", "chainloop metrics --logical-env production --env k8s-east --since 14d --bucket day"],
    [
      "One project's artifacts, month by month since January, as JSON",
      "chainloop metrics --logical-env production --project api-server --since 2026-01-01T00:00:00Z --bucket month -o json",
    ],
  ],
  async action(args, { client, out }) {
    const [{ DeliveryMetricsService, GetDeliveryMetricsResponseSchema }, { BUCKET_TO_PB, metricsText }, { toJson }, { durationFromMs, timestampFromDate }] =
      await Promise.all([
        import("../../gen/proto/chainloop/v1/delivery_metrics_pb.js"),
        import("../metrics-format.js"),
        import("@bufbuild/protobuf"),
        import("@bufbuild/protobuf/wkt"),
      ]);
    const since = args.since as Date | undefined;
    const until = args.until as Date | undefined;
    const failureWindow = args.failureWindow as number | undefined;
    const res = await client(DeliveryMetricsService).getDeliveryMetrics({
      logicalEnvironment: args.logicalEnv,
      environment: args.env ?? "",
      project: args.project ?? "",
      startTime: since ? timestampFromDate(since) : undefined,
      endTime: until ? timestampFromDate(until) : undefined,
      bucket: BUCKET_TO_PB[args.bucket],
      failureWindow: failureWindow === undefined ? undefined : durationFromMs(failureWindow),
    });
    out.plain(
      toJson(GetDeliveryMetricsResponseSchema, res, { alwaysEmitImplicit: true }),
      metricsText(res, { logicalEnvironment: args.logicalEnv, environment: args.env, project: args.project }),
    );
  },
});
