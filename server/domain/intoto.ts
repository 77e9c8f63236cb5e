// Reading attestation documents: a DSSE envelope around an in-toto statement, or a bare
// in-toto statement (v1 or v0.1). Pure: no I/O, no keys. Every way a document can be wrong
// is an InvalidArgument whose message points at the offending field.
//
// Digests: a subject needs a `sha256` or `sha512` digest (lowercase hex; parsed by
// digest.ts, the one digest parser). Other algorithm names of in-toto's open DigestSet
// (`sha1`, `gitCommit`, `sha384`, …) are kept in the stored document but not indexed: they
// cannot identify a deployed artifact here. A `sha256`/`sha512` value that is malformed
// refuses the document, in subjects and materials alike.
import { createScanner, type SyntaxKind } from "jsonc-parser";
import { DigestError, isDigestAlgorithm, parseDigest } from "../shared/digest.js";
import { IN_TOTO_PAYLOAD_TYPE } from "../shared/dsse.js";
import { InvalidArgument } from "./errors.js";

export const STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";
const STATEMENT_TYPES = [STATEMENT_V1, STATEMENT_V01];

/** Largest document accepted (the server's request limit is larger, so this answers InvalidArgument). */
export const ATTESTATION_MAX_BYTES = 1024 * 1024;
/** Signatures read from one envelope: bounds the verification work per push. */
export const MAX_SIGNATURES = 8;
/** Subjects per statement. */
export const MAX_SUBJECTS = 1000;
/** Index rows (subjects + materials) per document. */
export const MAX_INDEXED = 5000;
const PREDICATE_TYPE_MAX = 1024;
/** Index names longer than this are cut (the document keeps the full one). */
const INDEX_NAME_MAX = 1024;

export type AttestationFormat = "DSSE_ENVELOPE" | "IN_TOTO_STATEMENT";
export type ArtifactRole = "subject" | "material";

export interface IndexedArtifact {
  digest: string;
  name: string;
  role: ArtifactRole;
  /** Order in the document. */
  position: number;
}

export interface EnvelopeSignature {
  keyid: string;
  sig: Buffer;
}

export interface ParsedAttestation {
  format: AttestationFormat;
  statementType: string;
  predicateType: string;
  subjects: IndexedArtifact[];
  materials: IndexedArtifact[];
  /** Set for DSSE envelopes: what signature verification needs. */
  envelope?: { payloadType: string; payload: Buffer; signatures: EnvelopeSignature[] };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Parses and checks a document; throws InvalidArgument when it is not an acceptable attestation. */
export function parseAttestation(content: Uint8Array): ParsedAttestation {
  if (content.length === 0) throw new InvalidArgument("content is required: a DSSE envelope or an in-toto statement (JSON)");
  if (content.length > ATTESTATION_MAX_BYTES) {
    throw new InvalidArgument(`the document is ${content.length} bytes; the limit is ${ATTESTATION_MAX_BYTES} bytes (1 MiB)`);
  }
  const doc = parseJson(content, "the document");
  if (!isObject(doc)) throw new InvalidArgument("the document must be a JSON object (a DSSE envelope or an in-toto statement)");
  if ("payloadType" in doc || "payload" in doc || "signatures" in doc) return parseEnvelope(doc);
  if ("_type" in doc) return { format: "IN_TOTO_STATEMENT", ...parseStatement(doc, "") };
  throw new InvalidArgument(
    "the document is neither a DSSE envelope (payloadType, payload, signatures) nor an in-toto statement (_type, subject, predicateType)",
  );
}

function parseJson(bytes: Uint8Array, what: string): Json {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new InvalidArgument(`${what} is not UTF-8 text; expected JSON`);
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (e) {
    throw new InvalidArgument(`${what} is not valid JSON (${(e as Error).message.slice(0, 200)})`);
  }
  refuseDuplicateKeys(text, what);
  return value;
}

/** jsonc-parser's token kinds (a const enum, which isolatedModules cannot import; values from its main.d.ts). */
const Token = { OpenBrace: 1, CloseBrace: 2, OpenBracket: 3, CloseBracket: 4, Comma: 5, String: 10, EOF: 17 } as const satisfies Record<string, SyntaxKind>;

/**
 * An object with the same key twice is valid JSON, but parsers disagree on which value wins
 * (JSON.parse keeps the last, others the first or refuse), so a verifier and this server could
 * read different subjects or payload types from one signed document. Refused, like Go's and
 * Sigstore's strict decoders do. Keys are compared after unescaping ("a" and "\u0061" are one).
 */
function refuseDuplicateKeys(text: string, what: string): void {
  // Iterative over jsonc-parser's tokenizer (its parser and visitor recurse, and a document
  // nested a few thousand levels deep overflowed the stack). JSON.parse has already checked
  // the syntax, so a string right after "{" or "," inside an object is a key.
  const scanner = createScanner(text, true);
  const open: Array<{ keys: Set<string>; expectKey: boolean } | undefined> = []; // undefined: an array
  for (let token = scanner.scan(); token !== Token.EOF; token = scanner.scan()) {
    const top = open[open.length - 1];
    if (token === Token.OpenBrace) open.push({ keys: new Set(), expectKey: true });
    else if (token === Token.OpenBracket) open.push(undefined);
    else if (token === Token.CloseBrace || token === Token.CloseBracket) open.pop();
    else if (token === Token.Comma && top) top.expectKey = true;
    else if (token === Token.String && top?.expectKey) {
      top.expectKey = false;
      const key = scanner.getTokenValue();
      if (top.keys.has(key)) {
        throw new InvalidArgument(
          `${what} has the key ${JSON.stringify(key.slice(0, 100))} twice in one object (at character ${scanner.getTokenOffset()}); ` +
            "parsers disagree on which value counts, so duplicate keys are refused",
        );
      }
      top.keys.add(key);
    }
  }
}

function parseEnvelope(env: JsonObject): ParsedAttestation {
  const { payloadType, payload, signatures } = env;
  if (typeof payloadType !== "string") throw new InvalidArgument("envelope payloadType must be a string");
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new InvalidArgument(
      `envelope payloadType ${JSON.stringify(payloadType.slice(0, 100))} is not supported; expected ${JSON.stringify(IN_TOTO_PAYLOAD_TYPE)}`,
    );
  }
  if (typeof payload !== "string" || payload === "") throw new InvalidArgument("envelope payload must be a non-empty base64 string");
  const bytes = decodeBase64(payload, "envelope payload");
  if (!Array.isArray(signatures)) throw new InvalidArgument("envelope signatures must be an array of {keyid, sig}");
  if (signatures.length > MAX_SIGNATURES) {
    throw new InvalidArgument(`envelope has ${signatures.length} signatures; the limit is ${MAX_SIGNATURES}`);
  }
  const sigs = signatures.map((s, i): EnvelopeSignature => {
    if (!isObject(s)) throw new InvalidArgument(`envelope signatures[${i}] must be an object {keyid, sig}`);
    if (s.keyid !== undefined && typeof s.keyid !== "string") throw new InvalidArgument(`envelope signatures[${i}].keyid must be a string`);
    if (typeof s.sig !== "string" || s.sig === "") throw new InvalidArgument(`envelope signatures[${i}].sig must be a non-empty base64 string`);
    return { keyid: s.keyid ?? "", sig: decodeBase64(s.sig, `envelope signatures[${i}].sig`) };
  });
  const statement = parseJson(bytes, "the envelope payload");
  if (!isObject(statement)) throw new InvalidArgument("the envelope payload must be a JSON object (an in-toto statement)");
  return {
    format: "DSSE_ENVELOPE",
    ...parseStatement(statement, "payload."),
    envelope: { payloadType, payload: bytes, signatures: sigs },
  };
}

/** Standard or URL-safe base64 (DSSE accepts both). */
function decodeBase64(value: string, field: string): Buffer {
  if (!(BASE64.test(value) || BASE64URL.test(value)) || value.length % 4 === 1) {
    throw new InvalidArgument(`${field} is not valid base64`);
  }
  return Buffer.from(value, "base64");
}

function parseStatement(s: JsonObject, prefix: string) {
  const type = s._type;
  if (typeof type !== "string" || !STATEMENT_TYPES.includes(type)) {
    throw new InvalidArgument(
      `${prefix}_type ${JSON.stringify(typeof type === "string" ? type.slice(0, 100) : type ?? null)} is not an in-toto statement type; ` +
        `expected ${STATEMENT_V1} or ${STATEMENT_V01}`,
    );
  }
  const predicateType = s.predicateType;
  if (typeof predicateType !== "string" || predicateType === "") {
    throw new InvalidArgument(`${prefix}predicateType is required (for example https://slsa.dev/provenance/v1)`);
  }
  if (predicateType.length > PREDICATE_TYPE_MAX || /[\u0000-\u001f\u007f]/.test(predicateType)) {
    throw new InvalidArgument(`${prefix}predicateType must be at most ${PREDICATE_TYPE_MAX} characters without control characters`);
  }
  if (s.predicate !== undefined && !isObject(s.predicate)) throw new InvalidArgument(`${prefix}predicate must be a JSON object`);

  const subject = s.subject;
  if (!Array.isArray(subject) || subject.length === 0) {
    throw new InvalidArgument(`${prefix}subject must be a non-empty array: an attestation is about at least one artifact`);
  }
  if (subject.length > MAX_SUBJECTS) {
    throw new InvalidArgument(`${prefix}subject has ${subject.length} entries; the limit is ${MAX_SUBJECTS}`);
  }
  const index = new Index();
  subject.forEach((entry, i) => {
    const field = `${prefix}subject[${i}]`;
    if (!isObject(entry)) throw new InvalidArgument(`${field} must be an object {name, digest}`);
    const name = optionalString(entry.name, `${field}.name`);
    const digests = digestSet(entry.digest, `${field}.digest`);
    if (digests.indexed.length === 0) {
      const found = digests.other.length > 0 ? ` (it has ${digests.other.slice(0, 5).join(", ")})` : "";
      throw new InvalidArgument(
        `${field} has no sha256 or sha512 digest${found}; a subject must carry one, as lowercase hex, to identify an artifact`,
      );
    }
    for (const d of digests.indexed) index.add({ digest: d, name, role: "subject" });
  });

  for (const [entry, field] of materialsOf(s.predicate, predicateType, prefix)) {
    if (!isObject(entry)) throw new InvalidArgument(`${field} must be an object`);
    if (entry.digest === undefined) continue; // a URI-only dependency names no artifact
    const digests = digestSet(entry.digest, `${field}.digest`);
    const name = optionalString(entry.name, `${field}.name`) || optionalString(entry.uri, `${field}.uri`);
    for (const d of digests.indexed) index.add({ digest: d, name, role: "material" });
  }
  return {
    statementType: type,
    predicateType,
    subjects: index.rows.filter((r) => r.role === "subject"),
    materials: index.rows.filter((r) => r.role === "material"),
  };
}

/** SLSA provenance inputs: v1 `buildDefinition.resolvedDependencies`, v0.2 (and v0.1) `materials`. */
function materialsOf(predicate: Json | undefined, predicateType: string, prefix: string): Array<[Json, string]> {
  if (!isObject(predicate)) return [];
  let list: Json | undefined;
  let field: string;
  if (predicateType === "https://slsa.dev/provenance/v1") {
    const bd = predicate.buildDefinition;
    if (bd !== undefined && !isObject(bd)) throw new InvalidArgument(`${prefix}predicate.buildDefinition must be an object`);
    list = bd?.resolvedDependencies;
    field = `${prefix}predicate.buildDefinition.resolvedDependencies`;
  } else if (predicateType === "https://slsa.dev/provenance/v0.2" || predicateType === "https://slsa.dev/provenance/v0.1") {
    list = predicate.materials;
    field = `${prefix}predicate.materials`;
  } else {
    return [];
  }
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new InvalidArgument(`${field} must be an array`);
  return list.map((entry, i) => [entry, `${field}[${i}]`]);
}

function digestSet(value: Json | undefined, field: string): { indexed: string[]; other: string[] } {
  if (!isObject(value)) throw new InvalidArgument(`${field} must be an object mapping algorithm to hex digest, e.g. {"sha256": "…"}`);
  const indexed: string[] = [];
  const other: string[] = [];
  for (const [algorithm, hex] of Object.entries(value)) {
    if (typeof hex !== "string") throw new InvalidArgument(`${field}.${algorithm.slice(0, 40)} must be a string`);
    if (!isDigestAlgorithm(algorithm)) {
      other.push(algorithm.slice(0, 40));
      continue;
    }
    try {
      indexed.push(parseDigest(`${algorithm}:${hex}`).value);
    } catch (e) {
      if (e instanceof DigestError) throw new InvalidArgument(`${field}.${algorithm}: ${e.message}`);
      throw e;
    }
  }
  return { indexed, other };
}

function optionalString(value: Json | undefined, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new InvalidArgument(`${field} must be a string`);
  return value;
}

/** Index rows, one per (digest, role), in document order; the first name wins. */
class Index {
  readonly rows: IndexedArtifact[] = [];
  private readonly seen = new Set<string>();

  add(row: Omit<IndexedArtifact, "position">): void {
    const key = `${row.role} ${row.digest}`;
    if (this.seen.has(key)) return;
    if (this.rows.length >= MAX_INDEXED) {
      throw new InvalidArgument(`the document names more than ${MAX_INDEXED} artifacts (subjects and materials); split it`);
    }
    this.seen.add(key);
    this.rows.push({ ...row, name: indexName(row.name), position: this.rows.length });
  }
}

function indexName(name: string): string {
  const clean = name.replace(/\u0000/g, ""); // Postgres text cannot hold NUL
  return clean.length > INDEX_NAME_MAX ? `${clean.slice(0, INDEX_NAME_MAX - 1)}…` : clean;
}
