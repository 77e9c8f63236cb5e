// `chainloop deployment describe ID`: one deployment record in full.
import { defineCommand } from "../command.js";

export const deploymentDescribe = defineCommand({
  command: "describe [id]",
  describe: "Show one deployment record: its artifact, status, times and who recorded it",
  builder: (y) =>
    y
      .positional("id", { type: "string", describe: "The record's ID (may also be given as --id); deployment list --wide shows them" })
      .demandOption("id"),
  examples: [
    ["Show a record", "chainloop deployment describe 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11"],
    ["The same, as JSON", "chainloop deployment describe --id 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11 -o json"],
  ],
  async action(args, { client, out }) {
    const [{ DeploymentService, GetDeploymentResponseSchema }, { deploymentFields }, { evidenceFields }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("../deployment-format.js"),
      import("../evidence-format.js"),
    ]);
    const res = await client(DeploymentService).getDeployment({ id: args.id });
    const d = res.deployment!;
    const fields = deploymentFields(d);
    // Evidence (the attestations that mention the digest) after the record's own fields; the
    // JSON is the whole GetDeploymentResponse: {"deployment": {…}, "evidence": […]}.
    out.details(GetDeploymentResponseSchema, res, [...fields, ...evidenceFields(res.evidence)]);
  },
});
