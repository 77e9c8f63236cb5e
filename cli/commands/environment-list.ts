import { defineCommand } from "../command.js";

export const environmentList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List environments by name, a page at a time",
  builder: (y) =>
    y
      .options({
        query: { type: "string", default: "", defaultDescription: "none", describe: "Only environments whose name or description contains this text (any case)" },
        limit: { type: "number", default: 50, describe: "Environments per page, 1 to 1000" },
        "page-token": { type: "string", default: "", defaultDescription: "the first page", describe: "Start at this page (printed by the previous list)" },
        all: { type: "boolean", default: false, describe: "Fetch every page" },
      })
      .check(({ limit }) => (Number.isInteger(limit) && limit >= 1 && limit <= 1000) || "--limit must be a whole number from 1 to 1000"),
  examples: [
    ["The first 50 environments; a hint on stderr tells how to get the next page", "chainloop environment list"],
    ["Every environment whose name or description contains east, as a JSON array", "chainloop environment list --query east --all -o json"],
  ],
  async action(args, { client, out }) {
    const { EnvironmentService, EnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const environments = client(EnvironmentService);
    const rows = [];
    let pageToken = args.pageToken;
    do {
      const page = await environments.listEnvironments({ query: args.query, pageSize: args.limit, pageToken });
      rows.push(...page.environments);
      pageToken = page.nextPageToken;
    } while (args.all && pageToken);
    out.list(EnvironmentSchema, rows, [
      { header: "NAME", value: (e) => e.name },
      { header: "DESCRIPTION", value: (e) => e.description, maxWidth: 60 },
      { header: "CREATED", value: (e) => e.createTime },
      { header: "UPDATED", value: (e) => e.updateTime },
    ]);
    if (pageToken) out.note(`more environments exist: add --page-token ${pageToken} for the next page, or --all for every page`);
  },
});
