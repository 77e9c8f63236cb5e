// The pure parts of the evidence store: DSSE's pre-authentication encoding and signatures
// (server/shared/dsse.ts), reading in-toto documents (server/domain/intoto.ts) and public
// keys (server/domain/keys.ts).
import { generateKeyPairSync, sign } from "node:crypto";
import { pae, signEnvelope, verifyPae } from "../../server/shared/dsse.js";
import { InvalidArgument } from "../../server/domain/errors.js";
import { MAX_SIGNATURES, parseAttestation } from "../../server/domain/intoto.js";
import { parsePublicKeyPem } from "../../server/domain/keys.js";

const hex = (c: string, n = 64) => c.repeat(n);
const doc = (x: unknown) => Buffer.from(JSON.stringify(x));
const statement = (extra: Record<string, unknown> = {}) => ({
  _type: "https://in-toto.io/Statement/v1",
  subject: [{ name: "a", digest: { sha256: hex("a") } }],
  predicateType: "https://example.com/p/v1",
  ...extra,
});

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgument);
    return (e as Error).message;
  }
  throw new Error("expected InvalidArgument");
}

describe("DSSE", () => {
  it("encodes PAE as the spec's example says", () => {
    expect(pae("http://example.com/HelloWorld", Buffer.from("hello world")).toString()).toBe(
      "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
    // Lengths are in bytes, not characters.
    expect(pae("t", Buffer.from("é")).toString()).toBe("DSSEv1 1 t 2 é");
  });

  it("signs and verifies with ECDSA P-256 (DER and P1363) and Ed25519, and nothing else verifies", () => {
    const payload = Buffer.from('{"x":1}');
    for (const pair of [generateKeyPairSync("ec", { namedCurve: "P-256" }), generateKeyPairSync("ed25519")]) {
      const env = signEnvelope(pair.privateKey, pair.publicKey, payload);
      const sig = Buffer.from(env.signatures[0].sig, "base64");
      expect(Buffer.from(env.payload, "base64").equals(payload)).toBe(true);
      expect(verifyPae(pair.publicKey, env.payloadType, payload, sig)).toBe(true);
      expect(verifyPae(pair.publicKey, env.payloadType, Buffer.from('{"x":2}'), sig)).toBe(false);
      expect(verifyPae(pair.publicKey, "text/plain", payload, sig)).toBe(false);
      expect(verifyPae(pair.publicKey, env.payloadType, payload, Buffer.from("garbage"))).toBe(false);
      expect(verifyPae(generateKeyPairSync("ed25519").publicKey, env.payloadType, payload, sig)).toBe(false);
    }
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const p1363 = sign("sha256", pae("t", payload), { key: ec.privateKey, dsaEncoding: "ieee-p1363" });
    expect(p1363).toHaveLength(64);
    expect(verifyPae(ec.publicKey, "t", payload, p1363)).toBe(true);
  });
});

describe("parseAttestation", () => {
  it("indexes subjects and SLSA materials with sha256/sha512 digests only, once each", () => {
    const parsed = parseAttestation(
      doc(
        statement({
          subject: [
            { name: "a", digest: { sha256: hex("a"), sha1: hex("b", 40) } },
            { name: "a again", digest: { sha256: hex("a") } },
            { name: "b", digest: { sha512: hex("b", 128) } },
          ],
          predicateType: "https://slsa.dev/provenance/v1",
          predicate: {
            buildDefinition: {
              resolvedDependencies: [
                { uri: "git+https://x", digest: { gitCommit: hex("c", 40) } },
                { uri: "pkg:y", digest: { sha256: hex("d") } },
                { uri: "https://no-digest" },
                { name: "also a", digest: { sha256: hex("a") } },
              ],
            },
          },
        }),
      ),
    );
    expect(parsed.format).toBe("IN_TOTO_STATEMENT");
    expect(parsed.subjects).toEqual([
      { digest: `sha256:${hex("a")}`, name: "a", role: "subject", position: 0 },
      { digest: `sha512:${hex("b", 128)}`, name: "b", role: "subject", position: 1 },
    ]);
    expect(parsed.materials.map((m) => [m.digest, m.name])).toEqual([
      [`sha256:${hex("d")}`, "pkg:y"],
      [`sha256:${hex("a")}`, "also a"],
    ]);
  });

  it("reads the statement inside a DSSE envelope and keeps what verification needs", () => {
    const inner = doc(statement());
    const parsed = parseAttestation(
      doc({ payloadType: "application/vnd.in-toto+json", payload: inner.toString("base64url"), signatures: [{ sig: "AAAA" }] }),
    );
    expect(parsed.format).toBe("DSSE_ENVELOPE");
    expect(parsed.envelope?.payload.equals(inner)).toBe(true);
    expect(parsed.envelope?.signatures).toEqual([{ keyid: "", sig: Buffer.from([0, 0, 0]) }]);
  });

  it("refuses what is not an acceptable document, saying where", () => {
    const env = (x: Record<string, unknown>) => doc({ payloadType: "application/vnd.in-toto+json", payload: doc(statement()).toString("base64"), signatures: [], ...x });
    expect(refusal(() => parseAttestation(doc(statement({ subject: [{ digest: { sha256: hex("A") } }] }))))).toMatch(/subject\[0\]\.digest\.sha256: .*lowercase/);
    expect(refusal(() => parseAttestation(doc(statement({ subject: [{ digest: { md5: hex("a", 32) } }] }))))).toMatch(/no sha256 or sha512 digest \(it has md5\)/);
    expect(refusal(() => parseAttestation(doc(statement({ subject: [{ digest: { sha256: 1 } }] }))))).toMatch(/must be a string/);
    expect(refusal(() => parseAttestation(doc(statement({ predicate: [] }))))).toMatch(/predicate must be a JSON object/);
    expect(refusal(() => parseAttestation(doc(statement({ predicateType: "https://slsa.dev/provenance/v0.2", predicate: { materials: {} } }))))).toMatch(/predicate\.materials must be an array/);
    expect(refusal(() => parseAttestation(env({ payloadType: "application/json" })))).toMatch(/payloadType/);
    expect(refusal(() => parseAttestation(env({ signatures: Array(MAX_SIGNATURES + 1).fill({ sig: "AAAA" }) })))).toMatch(/limit is 8/);
    expect(refusal(() => parseAttestation(env({ signatures: [{ sig: "!!" }] })))).toMatch(/signatures\[0\]\.sig is not valid base64/);
    expect(refusal(() => parseAttestation(env({ payload: doc({ ...statement(), _type: "x" }).toString("base64") })))).toMatch(/^payload\._type/);
  });

  it("refuses a key given twice in one object, in the envelope and in its payload, escaped or not", () => {
    const a = hex("a");
    const b = hex("b");
    const subject = (digest: string) => `"subject":[{"name":"x","digest":${digest}}]`;
    const statementText = (digest: string) =>
      `{"_type":"https://in-toto.io/Statement/v1",${subject(digest)},"predicateType":"https://example.com/p/v1"}`;
    const envelopeOf = (payload: string, extra = "") =>
      Buffer.from(`{"payloadType":"application/vnd.in-toto+json","payload":"${Buffer.from(payload).toString("base64")}","signatures":[]${extra}}`);

    // Which digest is the subject? JSON.parse says the last, other parsers the first.
    expect(refusal(() => parseAttestation(Buffer.from(statementText(`{"sha256":"${a}","sha256":"${b}"}`))))).toMatch(
      /^the document has the key "sha256" twice in one object \(at character \d+\); parsers disagree/,
    );
    expect(refusal(() => parseAttestation(Buffer.from(statementText(`{"sha256":"${a}","\\u0073ha256":"${b}"}`))))).toMatch(/key "sha256" twice/);
    expect(refusal(() => parseAttestation(envelopeOf(statementText(`{"sha256":"${a}","sha256":"${b}"}`))))).toMatch(
      /^the envelope payload has the key "sha256" twice/,
    );
    expect(refusal(() => parseAttestation(envelopeOf(statementText(`{"sha256":"${a}"}`), `,"payload":"e30="`)))).toMatch(
      /^the document has the key "payload" twice/,
    );
    // The same key in different objects is fine.
    const twoSubjects = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"${a}"}},{"name":"y","digest":{"sha256":"${b}"}}],"predicateType":"https://example.com/p/v1"}`;
    expect(parseAttestation(Buffer.from(twoSubjects)).subjects.map((x) => x.digest)).toEqual([`sha256:${a}`, `sha256:${b}`]);
  });

  it("reads documents nested far deeper than the call stack goes, and still finds a duplicate key at the bottom", () => {
    // The duplicate-key check once recursed per level and overflowed on such documents (Internal).
    const depth = 100_000; // 800 kB, under the 1 MiB limit
    const nested = (inner: string) => `${'{"k":['.repeat(depth)}${inner}${"]}".repeat(depth)}`;
    const withPredicate = (predicate: string) =>
      Buffer.from(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"${hex("a")}"}}],"predicateType":"https://example.com/p/v1","predicate":${predicate}}`);
    expect(parseAttestation(withPredicate(nested("1"))).subjects).toHaveLength(1);
    expect(refusal(() => parseAttestation(withPredicate(nested('{"z":1,"y":{"z":2},"z":3}'))))).toMatch(/^the document has the key "z" twice/);
    expect(refusal(() => parseAttestation(Buffer.from("[".repeat(depth) + "]".repeat(depth))))).toMatch(/must be a JSON object/);
  });
});

describe("parsePublicKeyPem", () => {
  it("accepts P-256 and Ed25519 SPKI, normalizes it, and fingerprints the DER", () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const parsed = parsePublicKeyPem(`\n${pem.replace(/\n/g, "\r\n")}\n\n`);
    expect(parsed.algorithm).toBe("ECDSA_P256");
    expect(parsed.pem).toBe(pem);
    expect(parsed.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parsePublicKeyPem(generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString()).algorithm).toBe("ED25519");
  });

  it("never derives a public key from a private one", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    expect(refusal(() => parsePublicKeyPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString()))).toMatch(/private key/);
  });
});
