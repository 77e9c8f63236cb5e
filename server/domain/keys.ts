// Signing keys: the public keys that verify the DSSE signatures of an organization's
// attestations. Registering the first key switches the organization to "signed evidence
// only" (see evidence.ts).
import { createPublicKey, type KeyObject } from "node:crypto";
import type { Audited } from "./audit.js";
import type { Actor } from "./caller.js";
import { fingerprintOf, keyAlgorithmOf, type KeyAlgorithm } from "../shared/dsse.js";
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound } from "./errors.js";
import { requireName } from "./validation.js";

export const KEY_PEM_MAX = 8192;
/** Keys per organization: bounds the verification work of one push. */
export const MAX_KEYS = 50;

const PUBLIC_KEY_PEM = /^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----$/;

export interface SigningKey {
  id: string;
  name: string;
  algorithm: KeyAlgorithm;
  publicKeyPem: string;
  fingerprint: string;
  createdAt: Date;
}

export interface NewSigningKey {
  name: string;
  algorithm: KeyAlgorithm;
  publicKeyPem: string;
  fingerprint: string;
}

/** Implemented by server/data/keys.ts. */
export interface KeyRepository {
  /** A taken name or an already registered key (same fingerprint) throws AlreadyExists. */
  create(orgId: string, key: NewSigningKey): Promise<SigningKey>;
  findByFingerprint(orgId: string, fingerprint: string): Promise<SigningKey | undefined>;
  /** By name. */
  list(orgId: string): Promise<SigningKey[]>;
  count(orgId: string): Promise<number>;
  delete(orgId: string, name: string): Promise<boolean>;
}

/** A key ready to verify signatures. */
export interface VerificationKey {
  key: SigningKey;
  publicKey: KeyObject;
}

export interface ParsedPublicKey {
  algorithm: KeyAlgorithm;
  /** Normalized PEM (SPKI). */
  pem: string;
  fingerprint: string;
  publicKey: KeyObject;
}

/** Reads a PEM public key (SubjectPublicKeyInfo), ECDSA P-256 or Ed25519. Private keys are refused, never derived from. */
export function parsePublicKeyPem(input: string): ParsedPublicKey {
  const pem = input.trim();
  if (pem === "") throw new InvalidArgument("public_key_pem is required: a PEM public key (-----BEGIN PUBLIC KEY-----)");
  if (pem.length > KEY_PEM_MAX) throw new InvalidArgument(`public_key_pem is ${pem.length} characters long; the limit is ${KEY_PEM_MAX}`);
  if (/PRIVATE KEY-----/.test(pem)) {
    throw new InvalidArgument(
      "public_key_pem holds a private key; register the public key only (cosign.pub, or `openssl pkey -pubout`) and keep the private key secret",
    );
  }
  if (!PUBLIC_KEY_PEM.test(pem)) {
    throw new InvalidArgument(
      "public_key_pem must be one PEM public key block (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----), SubjectPublicKeyInfo as cosign and openssl write it",
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pem, format: "pem" });
  } catch (e) {
    throw new InvalidArgument(`public_key_pem cannot be read as a public key (${(e as Error).message.slice(0, 120)})`);
  }
  const algorithm = keyAlgorithmOf(publicKey);
  if (!algorithm) {
    const curve = publicKey.asymmetricKeyDetails?.namedCurve;
    throw new InvalidArgument(
      `public_key_pem is a ${publicKey.asymmetricKeyType}${curve ? ` (${curve})` : ""} key; supported: ECDSA P-256 and Ed25519`,
    );
  }
  return {
    algorithm,
    pem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    fingerprint: fingerprintOf(publicKey),
    publicKey,
  };
}

export class KeyUseCase {
  constructor(
    private readonly repo: KeyRepository,
    /** Changes, each with its audit entry in one transaction. */
    private readonly writes: Audited<KeyRepository>,
  ) {}

  async create(orgId: string, input: { publicKeyPem: string; name: string }, actor?: Actor): Promise<SigningKey> {
    const parsed = parsePublicKeyPem(input.publicKeyPem);
    const name = input.name === "" ? `key-${parsed.fingerprint.slice("sha256:".length, "sha256:".length + 12)}` : requireName("name", input.name);
    const existing = await this.repo.findByFingerprint(orgId, parsed.fingerprint);
    if (existing) throw new AlreadyExists(`this key is already registered as "${existing.name}" (${existing.fingerprint})`);
    if ((await this.repo.count(orgId)) >= MAX_KEYS) {
      throw new FailedPrecondition(`the organization has ${MAX_KEYS} keys, the limit; delete one first (chainloop key delete NAME)`);
    }
    return this.writes(async ({ repo, audit }) => {
      const key = await repo.create(orgId, {
        name,
        algorithm: parsed.algorithm,
        publicKeyPem: parsed.pem,
        fingerprint: parsed.fingerprint,
      });
      await audit.append(orgId, actor, { action: "key.create", resourceType: "key", resourceName: key.name });
      return key;
    });
  }

  list(orgId: string): Promise<SigningKey[]> {
    return this.repo.list(orgId);
  }

  async delete(orgId: string, name: string, actor?: Actor): Promise<void> {
    requireName("name", name);
    await this.writes(async ({ repo, audit }) => {
      if (!(await repo.delete(orgId, name))) throw new NotFound(`key "${name}" not found; list them with: chainloop key list`);
      await audit.append(orgId, actor, { action: "key.delete", resourceType: "key", resourceName: name });
    });
  }

  /** The organization's keys as verifiers; empty when it has none (evidence is then accepted unverified). */
  async verificationKeys(orgId: string): Promise<VerificationKey[]> {
    return (await this.repo.list(orgId)).map((key) => ({ key, publicKey: createPublicKey({ key: key.publicKeyPem, format: "pem" }) }));
  }
}
