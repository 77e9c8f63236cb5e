// The evidence store: attestations in, "what produced this artifact?" out.
//
// PushAttestation: parse and check the document (intoto.ts), apply the signature policy,
// store the exact bytes content-addressed (sha256), and index every subject (and SLSA
// material) digest for the organization, linked to the workflow, project and version.
//
// Signature policy: an organization with registered keys accepts only DSSE envelopes with a
// signature that verifies with one of them (FailedPrecondition otherwise); the attestation is
// then marked verified, with the key's fingerprint. An organization without keys accepts
// envelopes and bare statements alike, unverified. Pushing the same bytes again is
// idempotent (same id, no new rows); if it verifies now and did not before, it is marked
// verified (never the other way).
import { createHash } from "node:crypto";
import type { Actor } from "./caller.js";
import { verifyPae } from "../shared/dsse.js";
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound } from "./errors.js";
import { parseAttestation, type ArtifactRole, type AttestationFormat, type IndexedArtifact, type ParsedAttestation } from "./intoto.js";
import type { KeyUseCase, VerificationKey } from "./keys.js";
import { parsePageRequest, toPage, type Page, type PageRequest } from "./pagination.js";
import { requireName } from "./validation.js";
import { requireDigest } from "./deployments.js";

export const PROJECT_VERSION_MAX = 128;
const PROJECT_VERSION = /^[^\s\u0000-\u001f\u007f]+$/;
const CONTENT_ID = /^sha256:[0-9a-f]{64}$/;

export interface AttestedArtifact {
  digest: string;
  name: string;
  role: ArtifactRole;
}

export interface Attestation {
  /** `sha256:<hex>` of the stored bytes. */
  id: string;
  workflow: string;
  project: string;
  projectVersion: string;
  format: AttestationFormat;
  statementType: string;
  predicateType: string;
  verified: boolean;
  verifiedKey: { fingerprint: string; name: string } | undefined;
  subjects: AttestedArtifact[];
  materialCount: number;
  sizeBytes: number;
  createdAt: Date;
  pushedBy: Actor | undefined;
  /** Insertion order (newest first, paging keyset). */
  seq: bigint;
}

/** One attestation's mention of an artifact. */
export interface Evidence {
  attestationId: string;
  role: ArtifactRole;
  name: string;
  workflow: string;
  project: string;
  projectVersion: string;
  predicateType: string;
  verified: boolean;
  createdAt: Date;
}

export interface NewAttestation {
  organizationId: string;
  id: string;
  content: Uint8Array;
  workflow: string;
  project: string;
  projectVersion: string;
  format: AttestationFormat;
  statementType: string;
  predicateType: string;
  verifiedKey: { fingerprint: string; name: string } | undefined;
  artifacts: IndexedArtifact[];
  materialCount: number;
  pushedBy: Actor | undefined;
}

export interface AttestationFilters {
  digest?: string;
  workflow?: string;
  project?: string;
  projectVersion?: string;
}

/** Implemented by server/data/evidence.ts. */
export interface EvidenceRepository {
  /** Stores the attestation and its index rows in one transaction, or returns the one already stored with that id. */
  save(a: NewAttestation): Promise<{ attestation: Attestation; created: boolean }>;
  markVerified(orgId: string, id: string, key: { fingerprint: string; name: string }): Promise<Attestation>;
  get(orgId: string, id: string): Promise<{ attestation: Attestation; content: Uint8Array } | undefined>;
  list(orgId: string, filters: AttestationFilters, afterSeq: bigint | undefined, limit: number): Promise<Attestation[]>;
  /** Mentions of the digest, newest attestation first. */
  evidenceFor(orgId: string, digest: string, limit: number): Promise<Evidence[]>;
}

export interface PushInput {
  content: Uint8Array;
  workflow: string;
  project: string;
  projectVersion: string;
}

export interface ListAttestationsInput extends PageRequest {
  digest: string;
  workflow: string;
  project: string;
  projectVersion: string;
}

export class EvidenceUseCase {
  constructor(
    private readonly repo: EvidenceRepository,
    private readonly keys: KeyUseCase,
  ) {}

  async push(orgId: string, input: PushInput, actor?: Actor): Promise<{ attestation: Attestation; created: boolean }> {
    const workflow = requireName("workflow", input.workflow);
    const project = requireName("project", input.project);
    const projectVersion = optionalProjectVersion(input.projectVersion);
    const doc = parseAttestation(input.content);
    const verifiedKey = verify(doc, await this.keys.verificationKeys(orgId));
    const id = `sha256:${createHash("sha256").update(input.content).digest("hex")}`;

    const { attestation, created } = await this.repo.save({
      organizationId: orgId,
      id,
      content: input.content,
      workflow,
      project,
      projectVersion,
      format: doc.format,
      statementType: doc.statementType,
      predicateType: doc.predicateType,
      verifiedKey,
      artifacts: [...doc.subjects, ...doc.materials],
      materialCount: doc.materials.length,
      pushedBy: actor,
    });
    if (created) return { attestation, created };
    if (attestation.workflow !== workflow || attestation.project !== project || attestation.projectVersion !== projectVersion) {
      throw new AlreadyExists(
        `attestation ${id} was already pushed for workflow "${attestation.workflow}", project "${attestation.project}"` +
          `${attestation.projectVersion ? `, version "${attestation.projectVersion}"` : ""}; the same document cannot be filed under another one`,
      );
    }
    if (verifiedKey && !attestation.verified) {
      return { attestation: await this.repo.markVerified(orgId, id, verifiedKey), created: false };
    }
    return { attestation, created: false };
  }

  async get(orgId: string, id: string): Promise<{ attestation: Attestation; content: Uint8Array }> {
    const found = await this.repo.get(orgId, requireAttestationId(id));
    if (!found) throw new NotFound(`attestation ${id} not found; list them with: chainloop attestation list`);
    return found;
  }

  async list(orgId: string, input: ListAttestationsInput): Promise<Page<Attestation>> {
    const filters: AttestationFilters = {};
    if (input.digest !== "") filters.digest = requireDigest("digest", input.digest);
    if (input.workflow !== "") filters.workflow = requireName("workflow", input.workflow);
    if (input.project !== "") filters.project = requireName("project", input.project);
    if (input.projectVersion !== "") {
      if (!filters.project) throw new InvalidArgument("project_version needs project");
      filters.projectVersion = optionalProjectVersion(input.projectVersion);
    }
    const page = parsePageRequest(input, filters, ["digits"]);
    const after = page.after ? BigInt(page.after[0] as string) : undefined;
    const rows = await this.repo.list(orgId, filters, after, page.limit + 1);
    return toPage(rows, page, (a) => [a.seq.toString()]);
  }

  /** Up to `limit` mentions of the digest (already parsed), newest first. */
  evidenceFor(orgId: string, digest: string, limit: number): Promise<Evidence[]> {
    return this.repo.evidenceFor(orgId, digest, limit);
  }
}

/**
 * The signature policy. No keys: accepted, unverified. Keys: a DSSE signature must verify
 * with one of them; keys a signature's keyid names are tried first.
 */
function verify(doc: ParsedAttestation, keys: VerificationKey[]): { fingerprint: string; name: string } | undefined {
  if (keys.length === 0) return undefined;
  const names = keys.map((k) => k.key.name).join(", ");
  if (!doc.envelope) {
    throw new FailedPrecondition(
      `this organization requires signed evidence (keys: ${names}): push a DSSE envelope signed with one of them ` +
        `(for example chainloop attestation push … --key cosign.key), not a bare in-toto statement`,
    );
  }
  const { payloadType, payload, signatures } = doc.envelope;
  if (signatures.length === 0) {
    throw new FailedPrecondition(`this organization requires signed evidence (keys: ${names}) and the envelope has no signatures`);
  }
  for (const s of signatures) {
    const named = (k: VerificationKey) =>
      s.keyid !== "" && [k.key.fingerprint, k.key.fingerprint.slice("sha256:".length), k.key.name, k.key.id].includes(s.keyid);
    const ordered = [...keys.filter(named), ...keys.filter((k) => !named(k))];
    for (const k of ordered) {
      if (verifyPae(k.publicKey, payloadType, payload, s.sig)) return { fingerprint: k.key.fingerprint, name: k.key.name };
    }
  }
  throw new FailedPrecondition(
    `no signature of the envelope verifies with this organization's keys (${names}): the payload was changed after signing, ` +
      `or it was signed with a key that is not registered (chainloop key add --file pub.pem)`,
  );
}

function optionalProjectVersion(value: string): string {
  if (value === "") return "";
  if (value.length > PROJECT_VERSION_MAX) {
    throw new InvalidArgument(`project_version is ${value.length} characters long; the limit is ${PROJECT_VERSION_MAX}`);
  }
  if (!PROJECT_VERSION.test(value)) {
    throw new InvalidArgument(`project_version ${JSON.stringify(value.slice(0, 64))} must not contain whitespace or control characters`);
  }
  return value;
}

function requireAttestationId(id: string): string {
  if (!CONTENT_ID.test(id)) {
    throw new InvalidArgument(`id ${JSON.stringify(id.slice(0, 80))} is not an attestation id (sha256:<64 lowercase hex digits>)`);
  }
  return id;
}
