// DSSE (Dead Simple Signing Envelope, https://github.com/secure-systems-lab/dsse) signing
// and verification, and the public-key facts we rely on (algorithm, fingerprint). Pure
// node:crypto; the domain verifies with it what is pushed, the CLI signs with it what it pushes.
//
// A DSSE signature is over the pre-authentication encoding (PAE), never over the payload
// alone:  "DSSEv1" SP LEN(payloadType) SP payloadType SP LEN(payload) SP payload, where LEN
// is the byte length in ASCII decimal and payload is the decoded bytes.
import { createHash, sign, verify, type KeyObject } from "node:crypto";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export type KeyAlgorithm = "ECDSA_P256" | "ED25519";
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ECDSA_P256", "ED25519"];

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/** The bytes a DSSE signature covers. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "ascii"),
    type,
    Buffer.from(` ${payload.length} `, "ascii"),
    payload,
  ]);
}

/** ECDSA P-256 or Ed25519, or undefined for any other key. Works on public and private keys. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === "ed25519") return "ED25519";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ECDSA_P256";
  return undefined;
}

/** `sha256:<hex>` of the DER SubjectPublicKeyInfo: a key's stable identity. */
export function fingerprintOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

/** Signs PAE(payloadType, payload): ECDSA P-256 over SHA-256 with a DER signature (as cosign does), or Ed25519. */
export function signPae(privateKey: KeyObject, payloadType: string, payload: Uint8Array): Buffer {
  const algorithm = keyAlgorithmOf(privateKey);
  const data = pae(payloadType, payload);
  if (algorithm === "ED25519") return sign(null, data, privateKey);
  if (algorithm === "ECDSA_P256") return sign("sha256", data, { key: privateKey, dsaEncoding: "der" });
  throw new Error("only ECDSA P-256 and Ed25519 keys can sign attestations");
}

/**
 * True when `sig` is a valid signature of PAE(payloadType, payload) by `publicKey`. ECDSA
 * signatures are read as DER (cosign) and, when 64 bytes long, also as IEEE P1363 (r || s).
 * A malformed signature is simply not valid.
 */
export function verifyPae(publicKey: KeyObject, payloadType: string, payload: Uint8Array, sig: Uint8Array): boolean {
  const algorithm = keyAlgorithmOf(publicKey);
  const data = pae(payloadType, payload);
  const attempt = (f: () => boolean) => {
    try {
      return f();
    } catch {
      return false;
    }
  };
  if (algorithm === "ED25519") return attempt(() => verify(null, data, publicKey, sig));
  if (algorithm === "ECDSA_P256") {
    if (attempt(() => verify("sha256", data, { key: publicKey, dsaEncoding: "der" }, sig))) return true;
    return sig.length === 64 && attempt(() => verify("sha256", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, sig));
  }
  return false;
}

/** A DSSE envelope around an in-toto statement, signed with `privateKey`; `keyid` is the public key's fingerprint. */
export function signEnvelope(privateKey: KeyObject, publicKey: KeyObject, statement: Uint8Array): DsseEnvelope {
  const sig = signPae(privateKey, IN_TOTO_PAYLOAD_TYPE, statement);
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: Buffer.from(statement).toString("base64"),
    signatures: [{ keyid: fingerprintOf(publicKey), sig: sig.toString("base64") }],
  };
}
