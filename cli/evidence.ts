// What the evidence commands share: reading a file or standard input, the minimal in-toto
// statement `attestation push --subject …` builds, and DSSE signing with a local key.
//
// Loaded only from inside actions (await import()), so it may import node:crypto and the
// server's pure DSSE helpers freely.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import fs from "node:fs";
import { keyAlgorithmOf, signEnvelope } from "../server/shared/dsse.js";

/**
 * The predicate type of the statements the CLI builds from flags. Its predicate carries the
 * workflow, project and version the evidence was pushed for:
 *   { "workflow": "release", "project": "api-server", "version": "v1.0.0" }   (version may be "")
 */
export const MINIMAL_PREDICATE_TYPE = "https://chainloop.dev/attestation/minimal/v1";

export interface Subject {
  digest: string;
  name?: string;
}

/** A file's bytes; `-` reads standard input. */
export async function readInput(file: string): Promise<Buffer> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  }
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A minimal in-toto v1 statement: the subjects and who they were built for. Deterministic, so pushing it twice is idempotent. */
export function minimalStatement(subjects: Subject[], meta: { workflow: string; project: string; version: string }): Buffer {
  const statement = {
    _type: "https://in-toto.io/Statement/v1",
    subject: subjects.map((s) => {
      const colon = s.digest.indexOf(":");
      return { ...(s.name ? { name: s.name } : {}), digest: { [s.digest.slice(0, colon)]: s.digest.slice(colon + 1) } };
    }),
    predicateType: MINIMAL_PREDICATE_TYPE,
    predicate: { workflow: meta.workflow, project: meta.project, version: meta.version },
  };
  return Buffer.from(`${JSON.stringify(statement, null, 2)}\n`);
}

/**
 * Reads a signing key, ECDSA P-256 or Ed25519: an unencrypted PEM private key (PKCS#8 or SEC1),
 * or cosign's encrypted key (cosign.key), decrypted with CHAINLOOP_SIGNING_PASSWORD or
 * COSIGN_PASSWORD (cli/cosign-key.ts, loaded only for such a key).
 */
export async function readPrivateKey(
  file: string,
  pem: Buffer,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const text = pem.toString("utf8");
  let privateKey: KeyObject;
  if (/-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----/.test(text)) {
    const cosign = await import("./cosign-key.js");
    privateKey = await cosign.decryptCosignKey(file, text, cosign.signingPassword(env));
  } else if (/ENCRYPTED/.test(text)) {
    throw new Error(
      `${file} is an encrypted private key; give an unencrypted PEM key (for example: openssl pkey -in ${file} -out key.pem) or a cosign key (cosign.key)`,
    );
  } else {
    try {
      privateKey = createPrivateKey({ key: text, format: "pem" });
    } catch (e) {
      throw new Error(`${file} is not a PEM private key (${(e as Error).message})`);
    }
  }
  if (!keyAlgorithmOf(privateKey)) throw new Error(`${file} is a ${privateKey.asymmetricKeyType} key; signing needs ECDSA P-256 or Ed25519`);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Wraps statement bytes, unchanged, in a DSSE envelope signed with the key. */
export function signStatement(statement: Buffer, key: { privateKey: KeyObject; publicKey: KeyObject }): Buffer {
  return Buffer.from(`${JSON.stringify(signEnvelope(key.privateKey, key.publicKey, statement), null, 2)}\n`);
}

/** True for a JSON document that is already a DSSE envelope. */
export function isEnvelope(content: Buffer): boolean {
  try {
    const doc = JSON.parse(content.toString("utf8")) as unknown;
    return typeof doc === "object" && doc !== null && "payloadType" in doc;
  } catch {
    return false;
  }
}
