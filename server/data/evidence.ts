// EvidenceRepository on Prisma: attestations (the exact bytes, content-addressed per
// organization) and attested_artifacts (digest → attestation index). An attestation and its
// index rows are written by one statement (nested createMany), so a reader never sees one
// without the other; two pushes of the same bytes race on the unique (organization, digest)
// index and the loser reads the winner's row.
import type {
  Attestation,
  AttestationFilters,
  Evidence,
  EvidenceRepository,
  NewAttestation,
} from "../domain/evidence.js";
import type { Prisma } from "../../gen/prisma/client.js";
import type { PrismaClient } from "./client.js";
import { isUniqueViolation } from "./errors.js";

/** Everything but the document bytes, with the subjects in document order. */
const summary = {
  omit: { content: true },
  include: { artifacts: { where: { role: "subject" }, orderBy: { position: "asc" } } },
} as const satisfies Prisma.AttestationDefaultArgs;

type SummaryRow = Prisma.AttestationGetPayload<typeof summary>;

function toAttestation(r: SummaryRow): Attestation {
  return {
    id: r.digest,
    workflow: r.workflow,
    project: r.project,
    projectVersion: r.projectVersion,
    format: r.format,
    statementType: r.statementType,
    predicateType: r.predicateType,
    verified: r.verified,
    verifiedKey: r.verifiedKeyFingerprint ? { fingerprint: r.verifiedKeyFingerprint, name: r.verifiedKeyName ?? "" } : undefined,
    subjects: r.artifacts.map((a) => ({ digest: a.digest, name: a.name, role: a.role })),
    materialCount: r.materialCount,
    sizeBytes: r.sizeBytes,
    createdAt: r.createdAt,
    pushedBy: r.pushedByTokenId ? { tokenId: r.pushedByTokenId, tokenName: r.pushedByName } : undefined,
    seq: r.seq,
  };
}

export class PrismaEvidenceRepository implements EvidenceRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async save(a: NewAttestation): Promise<{ attestation: Attestation; created: boolean }> {
    const existing = await this.find(a.organizationId, a.id);
    if (existing) return { attestation: existing, created: false };
    try {
      const row = await this.prisma.attestation.create({
        data: {
          organizationId: a.organizationId,
          digest: a.id,
          content: new Uint8Array(a.content),
          sizeBytes: a.content.length,
          format: a.format,
          statementType: a.statementType,
          predicateType: a.predicateType,
          workflow: a.workflow,
          project: a.project,
          projectVersion: a.projectVersion,
          verified: a.verifiedKey !== undefined,
          verifiedKeyFingerprint: a.verifiedKey?.fingerprint ?? null,
          verifiedKeyName: a.verifiedKey?.name ?? null,
          materialCount: a.materialCount,
          pushedByTokenId: a.pushedBy?.tokenId ?? null,
          pushedByName: a.pushedBy?.tokenName ?? "",
          artifacts: {
            createMany: {
              data: a.artifacts.map((x) => ({
                organizationId: a.organizationId,
                digest: x.digest,
                role: x.role,
                name: x.name,
                position: x.position,
              })),
            },
          },
        },
        ...summary,
      });
      return { attestation: toAttestation(row), created: true };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      // A concurrent push of the same bytes won.
      const winner = await this.find(a.organizationId, a.id);
      if (!winner) throw e;
      return { attestation: winner, created: false };
    }
  }

  async markVerified(orgId: string, id: string, key: { fingerprint: string; name: string }): Promise<Attestation> {
    await this.prisma.attestation.updateMany({
      where: { organizationId: orgId, digest: id, verified: false },
      data: { verified: true, verifiedKeyFingerprint: key.fingerprint, verifiedKeyName: key.name },
    });
    const row = await this.find(orgId, id);
    if (!row) throw new Error(`attestation ${id} vanished`);
    return row;
  }

  async get(orgId: string, id: string): Promise<{ attestation: Attestation; content: Uint8Array } | undefined> {
    const row = await this.prisma.attestation.findUnique({
      where: { organizationId_digest: { organizationId: orgId, digest: id } },
      include: summary.include,
    });
    return row ? { attestation: toAttestation(row), content: row.content } : undefined;
  }

  async list(orgId: string, f: AttestationFilters, afterSeq: bigint | undefined, limit: number): Promise<Attestation[]> {
    const rows = await this.prisma.attestation.findMany({
      where: {
        organizationId: orgId,
        ...(f.digest ? { artifacts: { some: { digest: f.digest } } } : {}),
        ...(f.workflow ? { workflow: f.workflow } : {}),
        ...(f.project ? { project: f.project } : {}),
        ...(f.projectVersion ? { projectVersion: f.projectVersion } : {}),
        ...(afterSeq !== undefined ? { seq: { lt: afterSeq } } : {}),
      },
      ...summary,
      orderBy: { seq: "desc" },
      take: limit,
    });
    return rows.map(toAttestation);
  }

  async evidenceFor(orgId: string, digest: string, limit: number): Promise<Evidence[]> {
    const rows = await this.prisma.attestedArtifact.findMany({
      where: { organizationId: orgId, digest },
      select: {
        role: true,
        name: true,
        attestation: {
          select: {
            digest: true,
            workflow: true,
            project: true,
            projectVersion: true,
            predicateType: true,
            verified: true,
            createdAt: true,
          },
        },
      },
      orderBy: [{ attestation: { seq: "desc" } }, { role: "asc" }],
      take: limit,
    });
    return rows.map((r) => ({
      attestationId: r.attestation.digest,
      role: r.role,
      name: r.name,
      workflow: r.attestation.workflow,
      project: r.attestation.project,
      projectVersion: r.attestation.projectVersion,
      predicateType: r.attestation.predicateType,
      verified: r.attestation.verified,
      createdAt: r.attestation.createdAt,
    }));
  }

  private async find(orgId: string, id: string): Promise<Attestation | undefined> {
    const row = await this.prisma.attestation.findUnique({
      where: { organizationId_digest: { organizationId: orgId, digest: id } },
      ...summary,
    });
    return row ? toAttestation(row) : undefined;
  }
}
