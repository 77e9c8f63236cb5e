import { defineCommand } from "../command.js";

export const attestationDescribe = defineCommand({
  command: "describe [id]",
  describe: "Show one attestation; --content prints the stored document itself",
  builder: (y) =>
    y
      .positional("id", { type: "string", describe: "The attestation id, sha256:… (may also be given as --id)" })
      .demandOption("id")
      .options({ content: { type: "boolean", default: false, describe: "Print the document exactly as it was pushed, and nothing else" } }),
  examples: [
    ["Show an attestation", "chainloop attestation describe sha256:…"],
    ["Save the stored document", "chainloop attestation describe sha256:… --content > provenance.json"],
  ],
  async action(args, { client, out }) {
    const { AttestationService, AttestationSchema, AttestationFormat } = await import("../../gen/proto/chainloop/v1/attestation_pb.js");
    const res = await client(AttestationService).getAttestation({ id: args.id });
    if (args.content) {
      process.stdout.write(res.content);
      return;
    }
    const a = res.attestation!;
    out.details(AttestationSchema, a, [
      ["ID", a.id],
      ["Workflow", a.workflow],
      ["Project", a.project],
      ["Version", a.projectVersion],
      ["Verified", a.verified ? `yes, by key "${a.verifiedKeyName}" (${a.verifiedKeyFingerprint})` : "no"],
      ["Format", a.format === AttestationFormat.DSSE_ENVELOPE ? "DSSE envelope" : "in-toto statement"],
      ["Statement", a.statementType],
      ["Predicate", a.predicateType],
      ["Subjects", a.subjects.map((s) => `${s.digest}${s.name ? ` ${s.name}` : ""}`).join(", ")],
      ["Materials", String(a.materialCount)],
      ["Size", `${a.sizeBytes} bytes`],
      ["Pushed", a.createTime],
      ["Pushed by", a.pushedBy?.tokenName ?? ""],
    ]);
  },
});
