import { defineCommand } from "../command.js";
import { fetchPages, limitProblem, morePagesNote, pagingOptions } from "../paging.js";

export const environmentList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List environments by name, a page at a time",
  builder: (y) =>
    y
      .options({
        query: { type: "string", default: "", defaultDescription: "none", describe: "Only environments whose name or description contains this text (any case)" },
        ...pagingOptions("Environments"),
      })
      .check(({ limit }) => limitProblem(limit) ?? true),
  examples: [
    ["The first 50 environments; a hint on stderr tells how to get the next page", "chainloop environment list"],
    ["Every environment whose name or description contains east, as a JSON array", "chainloop environment list --query east --all -o json"],
  ],
  async action(args, { client, out }) {
    const { EnvironmentService, EnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const environments = client(EnvironmentService);
    const { rows, nextPageToken } = await fetchPages(args, async (pageSize, pageToken) => {
      const page = await environments.listEnvironments({ query: args.query, pageSize, pageToken });
      return { rows: page.environments, nextPageToken: page.nextPageToken };
    });
    out.list(EnvironmentSchema, rows, [
      { header: "NAME", value: (e) => e.name },
      { header: "DESCRIPTION", value: (e) => e.description, maxWidth: 60 },
      { header: "CREATED", value: (e) => e.createTime },
      { header: "UPDATED", value: (e) => e.updateTime },
    ]);
    if (nextPageToken) out.note(morePagesNote("environments", nextPageToken));
  },
});
