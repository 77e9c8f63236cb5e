// cosign's encrypted private keys (`cosign generate-key-pair` writes cosign.key), read so that
// `--key cosign.key` signs without converting the key first.
//
// The format, as cosign writes and reads it (sigstore/cosign pkg/cosign/keys.go, which calls
// secure-systems-lab/go-securesystemslib encrypted/encrypted.go):
//   * one PEM block, type "ENCRYPTED SIGSTORE PRIVATE KEY" (cosign since 2.0) or
//     "ENCRYPTED COSIGN PRIVATE KEY" (older cosign; still read by today's), no PEM headers;
//   * its body is JSON, every byte string in standard base64:
//       {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"…32 bytes…"},
//        "cipher":{"name":"nacl/secretbox","nonce":"…24 bytes…"},"ciphertext":"…"}
//   * key = scrypt(password, salt, N, r, p, 32 bytes); only the three parameter sets
//     go-securesystemslib writes are accepted (N = 2^15, 2^16 or 2^17 with r = 8, p = 1), as it
//     does itself, so a crafted file cannot make us spend gigabytes of memory;
//   * plaintext = NaCl secretbox open (XSalsa20-Poly1305, the 16-byte tag first) of the
//     ciphertext with that key and nonce; a wrong password and an altered file both fail its
//     authentication, and cannot be told apart;
//   * the plaintext is a DER PKCS#8 private key (ECDSA P-256 by default; RSA and Ed25519 when
//     imported or generated so).
//
// Loaded only when a key file has such a block (see readPrivateKey in evidence.ts): scrypt and
// @noble/ciphers stay out of every other command's start.
import { createPrivateKey, scrypt, type KeyObject } from "node:crypto";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";

export const COSIGN_PEM_TYPES = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"] as const;

/** The variables a password is read from, the first one set winning (an empty value counts, as in cosign). */
export const PASSWORD_VARIABLES = ["CHAINLOOP_SIGNING_PASSWORD", "COSIGN_PASSWORD"] as const;

const BLOCK = /-----BEGIN (ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY)-----\r?\n([\s\S]*?)-----END \1-----/;
/** The scrypt parameters go-securesystemslib writes (Legacy, Standard, OWASP) and alone accepts. */
const SCRYPT_PARAMS = [32768, 65536, 131072].map((N) => ({ N, r: 8, p: 1 }));
const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;

export interface Password {
  value: string;
  /** The variable it came from; undefined when none is set and the empty password is used. */
  from?: (typeof PASSWORD_VARIABLES)[number];
}

/**
 * The signing password: CHAINLOOP_SIGNING_PASSWORD, else COSIGN_PASSWORD (cosign's own), a set
 * but empty variable meaning the empty password as in cosign; neither set → the empty password,
 * which is what cosign ends up with when it runs without a terminal and nothing on standard
 * input (and `COSIGN_PASSWORD= cosign generate-key-pair` makes keys with it).
 */
export function signingPassword(env: NodeJS.ProcessEnv = process.env): Password {
  for (const name of PASSWORD_VARIABLES) {
    const value = env[name];
    if (value !== undefined) return { value, from: name };
  }
  return { value: "" };
}

const b64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function field(obj: unknown, key: string): unknown {
  return typeof obj === "object" && obj !== null && !Array.isArray(obj) ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * Decrypts a cosign encrypted private key. Every failure is an Error whose message starts with
 * `cannot decrypt <file>:` and never contains the password.
 */
export async function decryptCosignKey(file: string, text: string, password: Password): Promise<KeyObject> {
  const fail = (why: string) => new Error(`cannot decrypt ${file}: ${why}`);
  const block = BLOCK.exec(text);
  if (!block) throw fail(`no ${COSIGN_PEM_TYPES.join(" or ")} block`);
  const body = block[2].replace(/\s+/g, "");
  if (!b64.test(body)) throw fail(`the ${block[1]} block is not base64`);

  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body, "base64").toString("utf8"));
  } catch {
    throw fail(`the ${block[1]} block does not hold cosign's JSON (kdf, cipher, ciphertext); the file is damaged`);
  }
  const bytes = (value: unknown, what: string): Buffer => {
    if (typeof value !== "string" || !b64.test(value)) throw fail(`${what} is missing or not base64; the file is damaged`);
    return Buffer.from(value, "base64");
  };

  const kdf = field(doc, "kdf");
  const kdfName = field(kdf, "name");
  if (kdfName !== "scrypt") throw fail(`unsupported key derivation ${JSON.stringify(kdfName ?? null)}; cosign keys use "scrypt"`);
  const params = field(kdf, "params");
  const [N, r, p] = ["N", "r", "p"].map((k) => field(params, k));
  const allowed = SCRYPT_PARAMS.find((s) => s.N === N && s.r === r && s.p === p);
  if (!allowed) {
    throw fail(
      `unsupported scrypt parameters N=${String(N)} r=${String(r)} p=${String(p)}; cosign writes N=32768, 65536 or 131072 with r=8 and p=1`,
    );
  }
  const salt = bytes(field(kdf, "salt"), "kdf.salt");

  const cipher = field(doc, "cipher");
  const cipherName = field(cipher, "name");
  if (cipherName !== "nacl/secretbox") throw fail(`unsupported cipher ${JSON.stringify(cipherName ?? null)}; cosign keys use "nacl/secretbox"`);
  const nonce = bytes(field(cipher, "nonce"), "cipher.nonce");
  if (nonce.length !== NONCE_BYTES) throw fail(`cipher.nonce is ${nonce.length} bytes long; nacl/secretbox takes ${NONCE_BYTES}`);
  const ciphertext = bytes(field(doc, "ciphertext"), "ciphertext");
  if (ciphertext.length <= TAG_BYTES) throw fail(`the ciphertext is ${ciphertext.length} bytes long, too short for a key; the file is damaged`);

  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(Buffer.from(password.value, "utf8"), salt, KEY_BYTES, { ...allowed, maxmem: 256 * 1024 * 1024 }, (err, k) =>
      err ? reject(fail(`scrypt failed (${err.message})`)) : resolve(k),
    ),
  );
  let plaintext: Uint8Array;
  try {
    plaintext = xsalsa20poly1305(key, nonce).decrypt(ciphertext);
  } catch {
    const tried = password.from ? `the one in ${password.from} does not open it` : "neither is set, and the key's password is not empty";
    throw fail(`wrong password (set ${PASSWORD_VARIABLES.join(" or ")}); ${tried}, or the file is damaged`);
  } finally {
    key.fill(0);
  }
  try {
    return createPrivateKey({ key: Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength), format: "der", type: "pkcs8" });
  } catch {
    throw fail("it decrypts, but not to a PKCS#8 private key (cosign refuses such keys too)");
  } finally {
    plaintext.fill(0);
  }
}
