import { parseDigest } from "../../server/shared/digest.js";
import { defineCommand, digestProblem } from "../command.js";
import type { Options } from "yargs";
import { checkRegistryArgs, registryOptions } from "../oci/options.js";
import { ARTIFACT_KINDS as KINDS } from "../../server/shared/names.js";

const SUBJECT_REF_GROUP = "Subjects by reference (--subject-oci-ref), resolved on this machine:";

/** The same options under another --help heading. */
function regroup<T extends Record<string, Options>>(options: T, group: string): T {
  return Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { ...o, group }])) as T;
}

export const attestationPush = defineCommand({
  command: "push",
  describe:
    "Push evidence: an in-toto statement or DSSE envelope (--file), or a minimal statement built from --subject / --subject-oci-ref",
  builder: (y) =>
    y
      // --version is the project version here, not the CLI's.
      .version(false)
      .options({
        file: { type: "string", requiresArg: true, describe: "The document to push (JSON, at most 1 MiB); - reads standard input" },
        workflow: { type: "string", demandOption: true, requiresArg: true, describe: "Workflow that produced the evidence (DNS label)" },
        project: { type: "string", demandOption: true, requiresArg: true, describe: "Project the artifacts belong to (DNS label)" },
        version: { type: "string", default: "", defaultDescription: "none", describe: "Project version, e.g. v1.2.0" },
        subject: {
          type: "string",
          array: true,
          requiresArg: true,
          describe: "Without --file: an artifact digest (sha256:… or sha512:…) the statement is about; repeatable",
        },
        "subject-oci-ref": {
          type: "string",
          array: true,
          requiresArg: true,
          describe: "Without --file: an image or Helm chart reference, resolved to its digest on this machine; repeatable",
        },
        kind: { choices: KINDS, default: "CONTAINER_IMAGE" as const, describe: "What --subject-oci-ref names" },
        key: {
          type: "string",
          requiresArg: true,
          describe:
            "Sign with this private key (ECDSA P-256 or Ed25519): a PEM key, or cosign's encrypted cosign.key with its password in CHAINLOOP_SIGNING_PASSWORD or COSIGN_PASSWORD; the statement is pushed in a DSSE envelope",
        },
        ...regroup(registryOptions, SUBJECT_REF_GROUP),
      })
      .group(["file", "workflow", "project", "version", "subject", "key"], "Options:")
      .group(["subject-oci-ref", "kind"], SUBJECT_REF_GROUP)
      .check((args) => {
        const built = (args.subject?.length ?? 0) + (args["subject-oci-ref"]?.length ?? 0) > 0;
        if (args.file !== undefined && built) return "--file cannot be combined with --subject or --subject-oci-ref";
        if (args.file === undefined && !built) return "give --file, or at least one --subject or --subject-oci-ref";
        for (const d of args.subject ?? []) {
          const problem = digestProblem("--subject", d);
          if (problem) return problem;
        }
        return checkRegistryArgs({
          registryPassword: args["registry-password"],
          registryPasswordStdin: args["registry-password-stdin"],
          registryTimeout: args["registry-timeout"],
        });
      }),
  examples: [
    ["Push a provenance document", "chainloop attestation push --file provenance.intoto.json --workflow release --project api-server --version v1.0.0"],
    ["Attest a digest, signed with a local key", "chainloop attestation push --subject sha256:… --workflow release --project api-server --version v1.0.0 --key cosign.key"],
    ["Attest an image by reference", "chainloop attestation push --subject-oci-ref ghcr.io/acme/api-server:v1.0.0 --workflow release --project api-server --version v1.0.0"],
  ],
  async action(args, { client, out }) {
    const [{ AttestationService, AttestationSchema }, ev, { shortDigest }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/attestation_pb.js"),
      import("../evidence.js"),
      import("../../server/shared/digest.js"),
    ]);
    let content: Buffer;
    if (args.file !== undefined) {
      content = await ev.readInput(args.file);
    } else {
      const subjects: Array<{ digest: string; name?: string }> = (args.subject ?? []).map((d) => ({ digest: parseDigest(d).value }));
      if ((args.subjectOciRef ?? []).length > 0) {
        const { resolveOciArgs } = await import("../oci/options.js");
        for (const ref of args.subjectOciRef ?? []) {
          const resolved = await resolveOciArgs({ ...args, ociRef: ref }, args.kind);
          subjects.push({ digest: resolved.digest, name: resolved.artifactReference });
        }
      }
      content = ev.minimalStatement(subjects, { workflow: args.workflow, project: args.project, version: args.version });
    }
    if (args.key !== undefined) {
      if (ev.isEnvelope(content)) throw new Error(`${args.file} is already a DSSE envelope; push it as it is, without --key`);
      content = ev.signStatement(content, await ev.readPrivateKey(args.key, await ev.readInput(args.key)));
    }
    const res = await client(AttestationService).pushAttestation({
      content,
      workflow: args.workflow,
      project: args.project,
      projectVersion: args.version,
    });
    const a = res.attestation!;
    const what = `${a.project}${a.projectVersion ? ` ${a.projectVersion}` : ""} (workflow ${a.workflow})`;
    const subjects = a.subjects.map((s) => shortDigest(s.digest)).join(", ");
    out.changed(
      AttestationSchema,
      a,
      `attestation ${a.id} ${res.created ? "pushed" : "was already stored"}: ${what}, ${a.verified ? `verified by key "${a.verifiedKeyName}"` : "unverified"}; subjects: ${subjects}`,
    );
  },
});
