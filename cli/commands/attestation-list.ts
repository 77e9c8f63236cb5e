import { defineCommand } from "../command.js";
import { anyFilter, digestFilterProblem, filter, versionFilter } from "../filters.js";
import { fetchPages, limitProblem, morePagesNote, PAGING_FLAGS, pagingOptions } from "../paging.js";

const paging = pagingOptions("Attestations");

export const attestationList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List attestations, newest first, one page at a time",
  builder: (y) =>
    y
      // --version is the project version here, not the CLI's.
      .version(false)
      .options({
        digest: { ...filter("Only attestations naming this artifact digest (subject or material)"), defaultDescription: "any" },
        workflow: anyFilter("Only this workflow's"),
        project: anyFilter("Only this project's"),
        version: versionFilter,
        ...paging,
        // This command's help has always said "first page" (the others: "the first page").
        "page-token": { ...paging["page-token"], defaultDescription: "first page" },
      })
      .group(["digest", "workflow", "project", "version", ...PAGING_FLAGS], "Options:")
      .check(({ limit, digest }) => limitProblem(limit) ?? digestFilterProblem(digest) ?? true),
  examples: [
    ["The newest attestations", "chainloop attestation list"],
    ["Evidence for one artifact, as JSON", "chainloop attestation list --digest sha256:… -o json"],
    ["What api-server v1.0.0 pushed", "chainloop attestation list --project api-server --version v1.0.0"],
  ],
  async action(args, { client, out }) {
    const [{ AttestationService, AttestationSchema }, { shortDigest }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/attestation_pb.js"),
      import("../../server/shared/digest.js"),
    ]);
    const service = client(AttestationService);
    const { rows, nextPageToken } = await fetchPages(args, async (pageSize, pageToken) => {
      const page = await service.listAttestations({
        digest: args.digest ?? "",
        workflow: args.workflow,
        project: args.project,
        projectVersion: args.version,
        pageSize,
        pageToken,
      });
      return { rows: page.attestations, nextPageToken: page.nextPageToken };
    });
    out.list(AttestationSchema, rows, [
      { header: "ID", value: (a) => shortDigest(a.id) },
      { header: "WORKFLOW", value: (a) => a.workflow },
      { header: "PROJECT", value: (a) => a.project },
      { header: "VERSION", value: (a) => a.projectVersion },
      { header: "SUBJECTS", value: (a) => a.subjects.map((s) => shortDigest(s.digest)).join(","), maxWidth: 48 },
      { header: "VERIFIED", value: (a) => a.verified },
      { header: "PREDICATE", value: (a) => a.predicateType, maxWidth: 48 },
      { header: "PUSHED", value: (a) => a.createTime },
    ]);
    if (nextPageToken) out.note(morePagesNote("attestations", nextPageToken));
  },
});
