// `chainloop deployment list`: what runs where (active records), or with --history what ran
// before too, newest first, a page at a time.
import { DigestError, parseDigest } from "../../server/domain/digest.js";
import { defineCommand } from "../command.js";

const KINDS = ["CONTAINER_IMAGE", "HELM_CHART"] as const;
const STATUSES = ["deployed", "superseded", "decommissioned"] as const;

export const deploymentList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List deployment records: what runs where now, or with --history what ran before",
  builder: (y) =>
    y
      .options({
        env: { type: "string", requiresArg: true, describe: "Only this environment" },
        "logical-env": { type: "string", requiresArg: true, describe: "Only this logical environment (lifecycle stage)" },
        "deployment-name": { type: "string", requiresArg: true, describe: "Only this deployment name" },
        kind: {
          choices: KINDS,
          requiresArg: true,
          coerce: (v: string) => String(v).toUpperCase().replace(/-/g, "_") as (typeof KINDS)[number],
          describe: "Only this kind of artifact",
        },
        digest: { type: "string", requiresArg: true, describe: "Only records of this digest (sha256:… or sha512:…)" },
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
      .check(({ limit, digest }) => {
        if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) return "--limit must be a whole number from 1 to 1000";
        if (digest !== undefined) {
          try {
            parseDigest(digest);
          } catch (e) {
            if (e instanceof DigestError) return `invalid --digest: ${e.message}`;
            throw e;
          }
        }
        return true;
      }),
  examples: [
    ["What runs in production, in every environment", "chainloop deployment list --logical-env production"],
    ["What runs and ran in k8s-east's production, newest first", "chainloop deployment list --env k8s-east --logical-env production --history"],
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
