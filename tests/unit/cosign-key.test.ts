// cosign's encrypted private keys (cli/cosign-key.ts) and readPrivateKey (cli/evidence.ts):
// keys that cosign itself generated (tests/fixtures/cosign/README.md names their sources), and
// keys this test encrypts the way cosign does, for the cases no published key covers.
import { createPublicKey, generateKeyPairSync, randomBytes, scryptSync, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { decryptCosignKey, signingPassword, type Password } from "../../cli/cosign-key.js";
import { readPrivateKey } from "../../cli/evidence.js";
import { ROOT } from "../helpers/server.js";

const FIXTURES = path.join(ROOT, "tests/fixtures/cosign");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");
/** tektoncd/chains' cosign-generated pair: ENCRYPTED COSIGN PRIVATE KEY, N=32768; its password is "p". */
const COSIGN_KEY = fixture("cosign.key");
const COSIGN_PUB = fixture("cosign.pub");
const COSIGN_PASSWORD = fixture("cosign.password");
const spki = (k: KeyObject) => k.export({ type: "spki", format: "der" });
const pw = (value: string, from?: Password["from"]): Password => ({ value, from });

/** What cosign's marshalKeyPair writes: PKCS#8 DER, scrypt + nacl/secretbox, JSON, a PEM block. */
function encryptLikeCosign(
  der: Buffer,
  password: string,
  opts: { N?: number; type?: string; doc?: (d: Record<string, any>) => void } = {},
): string {
  const N = opts.N ?? 65536;
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = scryptSync(Buffer.from(password, "utf8"), salt, 32, { N, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
  const doc: Record<string, any> = {
    kdf: { name: "scrypt", params: { N, r: 8, p: 1 }, salt: salt.toString("base64") },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(xsalsa20poly1305(key, nonce).encrypt(der)).toString("base64"),
  };
  opts.doc?.(doc);
  return pemBlock(opts.type ?? "ENCRYPTED SIGSTORE PRIVATE KEY", Buffer.from(JSON.stringify(doc)));
}

function pemBlock(type: string, body: Buffer): string {
  const lines = body.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}\n-----END ${type}-----\n`;
}

/** The JSON inside a cosign key, to tamper with. */
function rewrite(pem: string, change: (d: Record<string, any>) => void): string {
  const [, type, body] = /-----BEGIN ([A-Z ]+)-----\n([\s\S]*?)-----END/.exec(pem)!;
  const doc = JSON.parse(Buffer.from(body.replace(/\s/g, ""), "base64").toString());
  change(doc);
  return pemBlock(type, Buffer.from(JSON.stringify(doc)));
}

async function refusal(p: Promise<unknown>, ...secrets: string[]): Promise<string> {
  const e = await p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (err: Error) => err,
  );
  for (const s of secrets) expect(e.message).not.toContain(s);
  return e.message;
}

describe("cosign-generated keys", () => {
  it("decrypts cosign.key with its password to the key in cosign.pub", async () => {
    const key = await decryptCosignKey("cosign.key", COSIGN_KEY, pw(COSIGN_PASSWORD, "COSIGN_PASSWORD"));
    expect(key.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" });
    expect(spki(createPublicKey(key)).equals(spki(createPublicKey(COSIGN_PUB)))).toBe(true);
    // The same through readPrivateKey, the password in cosign's own variable.
    const read = await readPrivateKey("cosign.key", Buffer.from(COSIGN_KEY), { COSIGN_PASSWORD });
    expect(spki(read.publicKey).equals(spki(createPublicKey(COSIGN_PUB)))).toBe(true);
  });

  it("reads the SIGSTORE header, with a password and with the empty one (N=65536, cosign 2's default)", async () => {
    const hello = await readPrivateKey("sigstore.key", Buffer.from(fixture("sigstore.key")), { COSIGN_PASSWORD: "hello" });
    expect(hello.privateKey.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" });
    const empty = fixture("sigstore-empty.key");
    expect(empty).toContain('eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6'); // {"kdf":…"N":65536
    // No variable set: the empty password, as cosign without a terminal and nothing on stdin.
    const none = await readPrivateKey("sigstore-empty.key", Buffer.from(empty), {});
    expect(none.privateKey.asymmetricKeyType).toBe("ec");
    // A set but empty variable is the empty password too.
    const setEmpty = await readPrivateKey("sigstore-empty.key", Buffer.from(empty), { CHAINLOOP_SIGNING_PASSWORD: "" });
    expect(spki(setEmpty.publicKey).equals(spki(none.publicKey))).toBe(true);
  });

  it("refuses a wrong password clearly, naming the variables and never the password", async () => {
    const wrong = await refusal(readPrivateKey("cosign.key", Buffer.from(COSIGN_KEY), { COSIGN_PASSWORD: "s3cret-guess" }), "s3cret-guess");
    expect(wrong).toBe(
      "cannot decrypt cosign.key: wrong password (set CHAINLOOP_SIGNING_PASSWORD or COSIGN_PASSWORD); the one in COSIGN_PASSWORD does not open it, or the file is damaged",
    );
    const unset = await refusal(readPrivateKey("cosign.key", Buffer.from(COSIGN_KEY), {}));
    expect(unset).toMatch(/^cannot decrypt cosign\.key: wrong password \(set CHAINLOOP_SIGNING_PASSWORD or COSIGN_PASSWORD\); neither is set/);
    // A key with a password, the password empty: wrong.
    await refusal(readPrivateKey("cosign.key", Buffer.from(COSIGN_KEY), { COSIGN_PASSWORD: "" }));
  });

  it("takes CHAINLOOP_SIGNING_PASSWORD over COSIGN_PASSWORD", async () => {
    expect(signingPassword({ CHAINLOOP_SIGNING_PASSWORD: "a", COSIGN_PASSWORD: "b" })).toEqual({ value: "a", from: "CHAINLOOP_SIGNING_PASSWORD" });
    expect(signingPassword({ COSIGN_PASSWORD: "b" })).toEqual({ value: "b", from: "COSIGN_PASSWORD" });
    expect(signingPassword({ CHAINLOOP_SIGNING_PASSWORD: "", COSIGN_PASSWORD: "b" })).toEqual({ value: "", from: "CHAINLOOP_SIGNING_PASSWORD" });
    expect(signingPassword({})).toEqual({ value: "" });
    const key = Buffer.from(fixture("sigstore.key"));
    await readPrivateKey("k", key, { CHAINLOOP_SIGNING_PASSWORD: "hello", COSIGN_PASSWORD: "nope" });
    expect(await refusal(readPrivateKey("k", key, { CHAINLOOP_SIGNING_PASSWORD: "nope", COSIGN_PASSWORD: "hello" }), "nope", "hello")).toContain(
      "the one in CHAINLOOP_SIGNING_PASSWORD does not open it",
    );
  });

  it("refuses a key that decrypts to something other than PKCS#8 (cosign does too)", async () => {
    const message = await refusal(decryptCosignKey("sec1.key", fixture("cosign-sec1.key"), pw("hello", "COSIGN_PASSWORD")), "hello");
    expect(message).toBe("cannot decrypt sec1.key: it decrypts, but not to a PKCS#8 private key (cosign refuses such keys too)");
  });
});

describe("damaged and unsupported cosign keys", () => {
  const decrypt = (pem: string, password = COSIGN_PASSWORD) => decryptCosignKey("cosign.key", pem, pw(password, "COSIGN_PASSWORD"));

  it("refuses altered ciphertext, nonce or salt, as it refuses a wrong password", async () => {
    const flip = (b64: string, at: number) => {
      const b = Buffer.from(b64, "base64");
      b[at] ^= 0x01;
      return b.toString("base64");
    };
    for (const change of [
      (d: Record<string, any>) => (d.ciphertext = flip(d.ciphertext, 40)), // the encrypted key
      (d: Record<string, any>) => (d.ciphertext = flip(d.ciphertext, 0)), // the Poly1305 tag
      (d: Record<string, any>) => (d.cipher.nonce = flip(d.cipher.nonce, 3)),
      (d: Record<string, any>) => (d.kdf.salt = flip(d.kdf.salt, 3)),
    ]) {
      expect(await refusal(decrypt(rewrite(COSIGN_KEY, change)))).toMatch(
        /^cannot decrypt cosign\.key: wrong password \(set CHAINLOOP_SIGNING_PASSWORD or COSIGN_PASSWORD\); .*, or the file is damaged$/,
      );
    }
  });

  it("says what is wrong with a damaged file", async () => {
    const cases: Array<[string, RegExp]> = [
      [rewrite(COSIGN_KEY, (d) => (d.ciphertext = d.ciphertext.slice(0, 20))), /the ciphertext is 15 bytes long, too short for a key; the file is damaged$/],
      [rewrite(COSIGN_KEY, (d) => (d.ciphertext = "not base64!")), /ciphertext is missing or not base64; the file is damaged$/],
      [rewrite(COSIGN_KEY, (d) => delete d.kdf.salt), /kdf\.salt is missing or not base64/],
      [rewrite(COSIGN_KEY, (d) => (d.cipher.nonce = Buffer.alloc(12).toString("base64"))), /cipher\.nonce is 12 bytes long; nacl\/secretbox takes 24$/],
      [pemBlock("ENCRYPTED SIGSTORE PRIVATE KEY", Buffer.from("{not json")), /does not hold cosign's JSON \(kdf, cipher, ciphertext\); the file is damaged$/],
      [COSIGN_KEY.replace(/\n[A-Za-z0-9+/]{10}/, "\n@@@@@@@@@@"), /the ENCRYPTED COSIGN PRIVATE KEY block is not base64$/],
      [COSIGN_KEY.replace("-----END ENCRYPTED COSIGN", "-----END ENCRYPTED SIGSTORE"), /no ENCRYPTED SIGSTORE PRIVATE KEY or ENCRYPTED COSIGN PRIVATE KEY block$/],
    ];
    for (const [pem, message] of cases) {
      const got = await refusal(decrypt(pem));
      expect(got).toMatch(/^cannot decrypt cosign\.key: /);
      expect(got).toMatch(message);
    }
  });

  it("refuses other key derivations, ciphers and scrypt parameters by name", async () => {
    expect(await refusal(decrypt(rewrite(COSIGN_KEY, (d) => (d.kdf.name = "argon2id"))))).toBe(
      'cannot decrypt cosign.key: unsupported key derivation "argon2id"; cosign keys use "scrypt"',
    );
    expect(await refusal(decrypt(rewrite(COSIGN_KEY, (d) => delete d.kdf)))).toBe(
      'cannot decrypt cosign.key: unsupported key derivation null; cosign keys use "scrypt"',
    );
    expect(await refusal(decrypt(rewrite(COSIGN_KEY, (d) => (d.cipher.name = "aes-256-gcm"))))).toBe(
      'cannot decrypt cosign.key: unsupported cipher "aes-256-gcm"; cosign keys use "nacl/secretbox"',
    );
    // Only the parameter sets cosign writes: a crafted N must not cost gigabytes of memory.
    for (const params of [{ N: 1 << 24, r: 8, p: 1 }, { N: 16384, r: 8, p: 1 }, { N: 32768, r: 16, p: 1 }, { N: "32768", r: 8, p: 1 }]) {
      expect(await refusal(decrypt(rewrite(COSIGN_KEY, (d) => (d.kdf.params = params))))).toMatch(
        /^cannot decrypt cosign\.key: unsupported scrypt parameters N=\S+ r=\d+ p=1; cosign writes N=32768, 65536 or 131072 with r=8 and p=1$/,
      );
    }
  });
});

describe("keys encrypted here the way cosign does", () => {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const der = (k: KeyObject) => k.export({ type: "pkcs8", format: "der" });

  it.each([
    ["the empty password", "", 65536, "ENCRYPTED SIGSTORE PRIVATE KEY"],
    ["a non-ASCII password (UTF-8, as Go passes the variable's bytes)", "pässwörd 🔑", 32768, "ENCRYPTED COSIGN PRIVATE KEY"],
    ["OWASP strength scrypt (N=131072)", "correct horse", 131072, "ENCRYPTED SIGSTORE PRIVATE KEY"],
  ])("round-trips with %s", async (_what, password, N, type) => {
    const pem = encryptLikeCosign(der(ec.privateKey), password, { N, type });
    const read = await readPrivateKey("k.key", Buffer.from(pem), { COSIGN_PASSWORD: password });
    expect(spki(read.publicKey).equals(spki(ec.publicKey))).toBe(true);
    if (password !== "") await refusal(readPrivateKey("k.key", Buffer.from(pem), { COSIGN_PASSWORD: `${password}x` }), password);
  });

  it("reads Ed25519 keys, and refuses RSA ones as signing keys (cosign can hold both)", async () => {
    const ed = generateKeyPairSync("ed25519");
    const edRead = await readPrivateKey("ed.key", Buffer.from(encryptLikeCosign(der(ed.privateKey), "pw")), { COSIGN_PASSWORD: "pw" });
    expect(spki(edRead.publicKey).equals(spki(ed.publicKey))).toBe(true);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(await refusal(readPrivateKey("rsa.key", Buffer.from(encryptLikeCosign(der(rsa.privateKey), "pw")), { COSIGN_PASSWORD: "pw" }))).toBe(
      "rsa.key is a rsa key; signing needs ECDSA P-256 or Ed25519",
    );
  });

  it("ignores the text around the block, as PEM readers do", async () => {
    const pem = `cosign.key for CI\n\n${encryptLikeCosign(der(ec.privateKey), "pw")}\n`;
    const read = await readPrivateKey("k.key", Buffer.from(pem.replace(/\n/g, "\r\n")), { COSIGN_PASSWORD: "pw" });
    expect(spki(read.publicKey).equals(spki(ec.publicKey))).toBe(true);
  });
});

describe("readPrivateKey with other keys", () => {
  it("reads plain PEM keys as before, whatever the password variables say", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    for (const pem of [ec.privateKey.export({ type: "pkcs8", format: "pem" }), ec.privateKey.export({ type: "sec1", format: "pem" })]) {
      const read = await readPrivateKey("ec.pem", Buffer.from(pem), { COSIGN_PASSWORD: "unused" });
      expect(spki(read.publicKey).equals(spki(ec.publicKey))).toBe(true);
    }
  });

  it("still refuses other encrypted PEM keys, and says what it takes", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = ec.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" });
    expect(await refusal(readPrivateKey("enc.pem", Buffer.from(pem), { COSIGN_PASSWORD: "pw" }))).toBe(
      "enc.pem is an encrypted private key; give an unencrypted PEM key (for example: openssl pkey -in enc.pem -out key.pem) or a cosign key (cosign.key)",
    );
  });
});
