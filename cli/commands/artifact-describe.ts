import { defineCommand } from "../command.js";

export const artifactDescribe = defineCommand({
  command: "describe [digest]",
  describe: "Where an artifact runs, where it ran, and the evidence that produced it",
  builder: (y) =>
    y.positional("digest", { type: "string", describe: "The artifact digest, sha256:… (may also be given as --digest)" }).demandOption("digest"),
  examples: [
    ["Trace a running image", "chainloop artifact describe --digest sha256:…"],
    ["The same, as JSON", "chainloop artifact describe sha256:… -o json"],
  ],
  async action(args, { client, out }) {
    const [{ ArtifactService, DescribeArtifactResponseSchema }, { DeploymentStatus, ArtifactKind }, fmt, { ago }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/artifact_pb.js"),
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("../evidence-format.js"),
      import("../output.js"),
    ]);
    const res = await client(ArtifactService).describeArtifact({ digest: args.digest });
    const running = res.deployments.filter((d) => d.status === DeploymentStatus.DEPLOYED);
    const before = res.deployments.filter((d) => d.status !== DeploymentStatus.DEPLOYED);
    const slot = (d: (typeof res.deployments)[number]) =>
      `${d.environment}/${d.logicalEnvironment} ${d.deploymentName}${d.createTime ? ` (since ${ago(d.createTime)})` : ""}`;
    const more = (flag: boolean) => (flag ? " (more exist)" : "");

    out.details(DescribeArtifactResponseSchema, res, [
      ["Digest", res.digest],
      ["Running in", running.length > 0 ? running.map(slot).join("; ") : "nowhere now"],
      ...fmt.evidenceFields(res.evidence, res.moreEvidence),
    ]);
    if (args.output !== "table") return;

    const status = (s: number) => DeploymentStatus[s]?.toLowerCase() ?? String(s);
    out.section("RUNNING NOW", running, [
      { header: "ENVIRONMENT", value: (d) => d.environment },
      { header: "LOGICAL-ENV", value: (d) => d.logicalEnvironment },
      { header: "DEPLOYMENT", value: (d) => d.deploymentName },
      { header: "KIND", value: (d) => ArtifactKind[d.kind] },
      { header: "SINCE", value: (d) => d.createTime },
      { header: "LAST-SEEN", value: (d) => d.lastSeenTime },
      { header: "RECORD", value: (d) => d.id },
    ]);
    out.section(`RAN BEFORE${more(res.moreDeployments)}`, before, [
      { header: "ENVIRONMENT", value: (d) => d.environment },
      { header: "LOGICAL-ENV", value: (d) => d.logicalEnvironment },
      { header: "DEPLOYMENT", value: (d) => d.deploymentName },
      { header: "STATUS", value: (d) => status(d.status) },
      { header: "FROM", value: (d) => d.createTime },
      { header: "UNTIL", value: (d) => d.supersededTime ?? d.decommissionTime },
      { header: "RECORD", value: (d) => d.id },
    ]);
    out.section(`EVIDENCE${more(res.moreEvidence)}`, res.evidence, fmt.evidenceColumns);
  },
});
