// `chainloop deployment list`: what runs where (active records), or with --history what ran
// before too, newest first, a page at a time.
import { defineCommand } from "../command.js";
import { DEPLOYMENT_FILTERS, deploymentFilterOptions, digestFilterProblem } from "./deployment-filters.js";

const STATUSES = ["deployed", "superseded", "decommissioned"] as const;

export const deploymentList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List deployment records: what runs where now, or with --history what ran before",
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
        wide: { type: "boolean", default: false, describe: "Add the record ID column (for deployment describe) and show artifacts uncut" },
        limit: { type: "number", default: 50, describe: "Records per page, 1 to 1000" },
        "page-token": { type: "string", default: "", defaultDescription: "the first page", describe: "Start at this page (printed by the previous list)" },
        all: { type: "boolean", default: false, describe: "Fetch every page" },
      })
      .group(
        [...DEPLOYMENT_FILTERS, "status", "history", "wide", "limit", "page-token", "all"],
        "Options:",
      )
      .check(({ limit, digest }) => {
        if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) return "--limit must be a whole number from 1 to 1000";
        return digestFilterProblem(digest) ?? true;
      }),
  examples: [
    ["What runs in production, in every environment", "chainloop deployment list --logical-env production"],
    ["What runs and ran in k8s-east's production, newest first", "chainloop deployment list --env k8s-east --logical-env production --history"],
    ["Where api-server v1.0.0's artifacts run", "chainloop deployment list --project api-server --version v1.0.0"],
    ["Every record of a digest, with record IDs, as JSON", "chainloop deployment list --digest sha256:<64 hex digits> --history --all -o json"],
  ],
  async action(args, { client, out }) {
    const [{ DeploymentService, DeploymentSchema }, { KIND_TO_PB, STATUS_TO_PB, listColumns }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("../deployment-format.js"),
    ]);
    const deployments = client(DeploymentService);
    const rows = [];
    let pageToken = args.pageToken;
    do {
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
        pageSize: args.limit,
        pageToken,
      });
      rows.push(...page.deployments);
      pageToken = page.nextPageToken;
    } while (args.all && pageToken);
    out.list(DeploymentSchema, rows, listColumns(args.wide));
    if (pageToken) out.note(`more records exist: add --page-token ${pageToken} for the next page, or --all for every page`);
  },
});
