// `chainloop deployment list`: what runs where (active records), or with --history what ran
// before too, or with --at what ran at a past time, newest first, a page at a time.
import { defineCommand } from "../command.js";
import { parseInstant } from "../../server/shared/durations.js";
import { fetchPages, limitProblem, morePagesNote, PAGING_FLAGS, pagingOptions } from "../paging.js";
import { digestFilterProblem } from "../filters.js";
import { atOption, DEPLOYMENT_FILTERS, deploymentFilterOptions } from "./deployment-filters.js";
import { DEPLOYMENT_STATUSES as STATUSES } from "../../server/shared/names.js";

export const deploymentList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List deployment records: what runs where now, with --history what ran before, with --at what ran at a time",
  builder: (y) =>
    y
      // --version is the project version here, not the CLI's.
      .version(false)
      .options({
        ...deploymentFilterOptions,
        status: {
          choices: STATUSES,
          requiresArg: true,
          coerce: (v: string) => String(v).toLowerCase() as (typeof STATUSES)[number],
          describe: "Only records with this status (superseded and decommissioned imply --history)",
        },
        history: { type: "boolean", default: false, describe: "Include superseded and decommissioned records, not only what runs now" },
        at: atOption(
          "What ran at this time: the records deployed then, whatever their status now. An RFC 3339 time (2026-12-01T10:00:00Z) or a duration ago (30m, 3h, 2d)",
        ),
        rollbacks: { type: "boolean", default: false, describe: "Only rollbacks: records of a digest the slot ran before (add --history for past ones)" },
        wide: { type: "boolean", default: false, describe: "Add the record ID column (for deployment describe) and show artifacts uncut" },
        ...pagingOptions("Records"),
      })
      .group([...DEPLOYMENT_FILTERS, "status", "history", "at", "rollbacks", "wide", ...PAGING_FLAGS], "Options:")
      .check(({ limit, digest, at, history, status }) => {
        const badLimit = limitProblem(limit);
        if (badLimit) return badLimit;
        // (yargs' `conflicts` counts --history's default as given.)
        if (at !== undefined && (history || status !== undefined)) {
          return `--at cannot be combined with ${history ? "--history" : "--status"}: it lists the records deployed at that time, whatever their status now`;
        }
        return digestFilterProblem(digest) ?? true;
      }),
  examples: [
    ["What runs in production, in every environment", "chainloop deployment list --logical-env production"],
    ["What runs and ran in k8s-east's production, newest first", "chainloop deployment list --env k8s-east --logical-env production --history"],
    ["Where api-server v1.0.0's artifacts run", "chainloop deployment list --project api-server --version v1.0.0"],
    ["Every record of a digest, with record IDs, as JSON", "chainloop deployment list --digest sha256:<64 hex digits> --history --all -o json"],
    ["What ran in k8s-east at a time", "chainloop deployment list --env k8s-east --at 2026-12-01T10:00:00Z"],
    ["What ran in production three hours ago, as JSON", "chainloop deployment list --logical-env production --at 3h -o json"],
    ["Rollbacks in production, past ones too", "chainloop deployment list --logical-env production --rollbacks --history"],
  ],
  async action(args, { client, out }) {
    const [{ DeploymentService, DeploymentSchema }, { KIND_TO_PB, STATUS_TO_PB, listColumns }, { timestampFromDate }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("../deployment-format.js"),
      import("@bufbuild/protobuf/wkt"),
    ]);
    const deployments = client(DeploymentService);
    // `3h` is counted back once, so every page of --all is as of the same instant.
    const at = args.at === undefined ? undefined : parseInstant(args.at, "--at");
    const { rows, nextPageToken } = await fetchPages(args, async (pageSize, pageToken) => {
      const page = await deployments.listDeployments({
        environment: args.env ?? "",
        logicalEnvironment: args.logicalEnv ?? "",
        deploymentName: args.deploymentName ?? "",
        kind: args.kind ? KIND_TO_PB[args.kind] : undefined,
        digest: args.digest ?? "",
        status: args.status ? STATUS_TO_PB[args.status] : undefined,
        history: args.history,
        project: args.project,
        projectVersion: args.version,
        asOf: at ? timestampFromDate(at) : undefined,
        rollbacksOnly: args.rollbacks,
        pageSize,
        pageToken,
      });
      return { rows: page.deployments, nextPageToken: page.nextPageToken };
    });
    out.list(DeploymentSchema, rows, listColumns(args.wide));
    if (at) out.note(`deployed at ${at.toISOString()}, newest first; STATUS is each record's status now`);
    // A duration ago counts back from each run's clock: the next page must name the same instant.
    if (nextPageToken) out.note(morePagesNote("records", nextPageToken, at ? `--at ${at.toISOString()}` : ""));
  },
});
