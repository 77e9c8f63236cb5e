// How evidence reads in the CLI: the summary lines `artifact describe` and `deployment
// describe` print (what produced the artifact, what it was used to build, how much of the
// evidence is verified) and the columns of an evidence table.
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import { ArtifactRole, type Evidence } from "../gen/proto/chainloop/v1/attestation_pb.js";
import { shortDigest } from "../server/shared/digest.js";
import type { Cell, Column } from "./output.js";

/** `api-server v1.0.0 (workflow release, verified)` */
export function evidenceSource(e: Evidence): string {
  return `${e.project}${e.projectVersion ? ` ${e.projectVersion}` : ""} (workflow ${e.workflow}, ${e.verified ? "verified" : "unverified"})`;
}

const unique = (texts: string[]) => [...new Set(texts)].join("; ");

/** `Produced by`, `Used to build` (when it was a build input) and `Evidence` lines. */
export function evidenceFields(evidence: Evidence[], more = false): [label: string, value: Cell][] {
  const produced = evidence.filter((e) => e.role === ArtifactRole.SUBJECT);
  const consumed = evidence.filter((e) => e.role === ArtifactRole.MATERIAL);
  const verified = evidence.filter((e) => e.verified).length;
  const fields: [string, Cell][] = [
    ["Produced by", produced.length > 0 ? unique(produced.map(evidenceSource)) : "no attestation names it as a subject"],
  ];
  if (consumed.length > 0) fields.push(["Used to build", unique(consumed.map(evidenceSource))]);
  fields.push([
    "Evidence",
    evidence.length === 0
      ? "none (chainloop attestation push)"
      : `${evidence.length} attestation mention${evidence.length === 1 ? "" : "s"}, ${verified} verified${more ? " (more exist)" : ""}: ` +
        unique(evidence.map((e) => shortDigest(e.attestationId))),
  ]);
  return fields;
}

export const evidenceColumns: Column<Evidence>[] = [
  { header: "ATTESTATION", value: (e) => shortDigest(e.attestationId) },
  { header: "ROLE", value: (e) => ArtifactRole[e.role]?.toLowerCase() },
  { header: "PROJECT", value: (e) => e.project },
  { header: "VERSION", value: (e) => e.projectVersion },
  { header: "WORKFLOW", value: (e) => e.workflow },
  { header: "VERIFIED", value: (e) => e.verified },
  { header: "PUSHED", value: (e) => e.createTime },
  { header: "PREDICATE", value: (e) => e.predicateType, maxWidth: 40 },
];
