// AttestationService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ArtifactRole as RolePb,
  AttestationFormat as FormatPb,
  AttestationSchema,
  AttestationService,
  AttestedArtifactSchema,
  EvidenceSchema,
  type Attestation as AttestationPb,
  type Evidence as EvidencePb,
} from "../../gen/proto/chainloop/v1/attestation_pb.js";
import type { Attestation, Evidence, EvidenceUseCase } from "../domain/evidence.js";
import type { ArtifactRole, AttestationFormat } from "../domain/intoto.js";
import { callerOf } from "../interceptors/caller.js";
import { actorToPb } from "./api-token.js";

const ROLE_TO_PB: Record<ArtifactRole, RolePb> = { subject: RolePb.SUBJECT, material: RolePb.MATERIAL };
const FORMAT_TO_PB: Record<AttestationFormat, FormatPb> = {
  DSSE_ENVELOPE: FormatPb.DSSE_ENVELOPE,
  IN_TOTO_STATEMENT: FormatPb.IN_TOTO_STATEMENT,
};

export function attestationToPb(a: Attestation): AttestationPb {
  return create(AttestationSchema, {
    id: a.id,
    workflow: a.workflow,
    project: a.project,
    projectVersion: a.projectVersion,
    format: FORMAT_TO_PB[a.format],
    statementType: a.statementType,
    predicateType: a.predicateType,
    verified: a.verified,
    verifiedKeyFingerprint: a.verifiedKey?.fingerprint ?? "",
    verifiedKeyName: a.verifiedKey?.name ?? "",
    subjects: a.subjects.map((s) => create(AttestedArtifactSchema, { digest: s.digest, name: s.name, role: ROLE_TO_PB[s.role] })),
    materialCount: a.materialCount,
    sizeBytes: BigInt(a.sizeBytes),
    createTime: timestampFromDate(a.createdAt),
    pushedBy: actorToPb(a.pushedBy),
  });
}

export function evidenceToPb(e: Evidence): EvidencePb {
  return create(EvidenceSchema, {
    attestationId: e.attestationId,
    role: ROLE_TO_PB[e.role],
    name: e.name,
    workflow: e.workflow,
    project: e.project,
    projectVersion: e.projectVersion,
    predicateType: e.predicateType,
    verified: e.verified,
    createTime: timestampFromDate(e.createdAt),
  });
}

export function attestationHandlers(evidence: EvidenceUseCase): ServiceImpl<typeof AttestationService> {
  return {
    async pushAttestation(req, ctx) {
      const caller = callerOf(ctx);
      const res = await evidence.push(
        caller.organizationId,
        { content: req.content, workflow: req.workflow, project: req.project, projectVersion: req.projectVersion },
        caller,
      );
      return { attestation: attestationToPb(res.attestation), created: res.created };
    },
    async getAttestation(req, ctx) {
      const res = await evidence.get(callerOf(ctx).organizationId, req.id);
      return { attestation: attestationToPb(res.attestation), content: res.content };
    },
    async listAttestations(req, ctx) {
      const page = await evidence.list(callerOf(ctx).organizationId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        digest: req.digest,
        workflow: req.workflow,
        project: req.project,
        projectVersion: req.projectVersion,
      });
      return { attestations: page.items.map(attestationToPb), nextPageToken: page.nextPageToken };
    },
  };
}
