// Hostile input: at least 10,000 generated requests (seeded: FAULT_SEED repeats a run) to every
// unary method, over Connect (JSON and binary, HTTP/1.1 and h2c), gRPC (h2c, hand-built
// envelopes) and gRPC-Web, plus bare TCP garbage: random bytes as protobuf, JSON with wrong
// types, unknown enum values, huge strings and repeated fields, invalid digests, negative page
// sizes, forged and replayed page tokens, bodies over CHAINLOOP_MAX_REQUEST_BYTES (4 MiB),
// bad and absent credentials, wrong content types and HTTP methods, truncated and malformed
// gRPC envelopes. Asserted: no Internal (and no 5xx), every error answer carries a message,
// bodies over the limit get ResourceExhausted, the process stays alive and /healthz SERVING
// throughout, RSS growth stays bounded, and nothing is written except by the calls that
// succeeded (every row count before and after reconciles with the OK mutations). On each
// database backend.
import { createHash, randomUUID } from "node:crypto";
import {
  create,
  fromBinary,
  fromJson,
  ScalarType,
  toBinary,
  toJson,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  type JsonValue,
} from "@bufbuild/protobuf";
import { ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { AttestationService } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { KeyService } from "../../gen/proto/chainloop/v1/key_pb.js";
import { Health } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { PROTECTED } from "../../server/routes.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { countBy, healthz, prng, rssKiB, seedFromEnv, type Prng } from "../helpers/faults.js";
import { envelope, H1Client, H2Client, sendH1Raw, sendTcp, type Answer, type RawRequest } from "../helpers/hostile.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";

const TOTAL = Math.max(10_000, Number(process.env.HOSTILE_REQUESTS ?? 0) || 0);
const CONCURRENCY = 16;
const MAX_REQUEST_BYTES = 4 * 1024 * 1024; // the default CHAINLOOP_MAX_REQUEST_BYTES
const CALL_TIMEOUT_MS = 20_000;
/** Resident memory may grow this much over the run (buffers for 4+ MiB bodies, JIT, caches). */
const RSS_GROWTH_LIMIT_MIB = 256;
const HEALTH_EVERY = 500;

const SERVICES: DescService[] = [...PROTECTED.map((p) => p.service), Health];
const METHODS: Array<{ service: DescService; method: DescMethod; path: string }> = SERVICES.flatMap((service) =>
  service.methods
    .filter((m) => m.methodKind === "unary")
    .map((method) => ({ service, method, path: `/${service.typeName}/${method.name}` })),
);
const isMutation = (m: DescMethod) => /^(Create|Update|Delete|Record|Push|Revoke)/.test(m.name);

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const b64url = (s: string) => Buffer.from(s, "utf8").toString("base64url");

/** Values for string fields: names valid and not, digests valid and not, injections, huge. */
function hostileString(rng: Prng, field: DescField, realPageToken: string): string {
  if (/page_token/.test(field.name) && rng.chance(0.7)) return hostilePageToken(rng, realPageToken);
  if (/digest/.test(field.name) && rng.chance(0.6)) return hostileDigest(rng);
  const pick = rng.int(22);
  switch (pick) {
    case 0: return "";
    case 1: return "fuzz-env";
    case 2: return "production";
    case 3: return "UPPER-case";
    case 4: return "-leading-dash";
    case 5: return "with space";
    case 6: return "nul\u0000byte";
    case 7: return "ünïcödé-ñame";
    case 8: return "😀".repeat(1 + rng.int(40));
    case 9: return "../../etc/passwd";
    case 10: return "'; DROP TABLE deployments; --";
    case 11: return "\r\nX-Injected: 1";
    case 12: return "\ud800lone-surrogate";
    case 13: return randomUUID();
    case 14: return "00000000-0000-0000-0000-000000000000";
    case 15: return "x".repeat(1_000 + rng.int(300_000)); // huge, under the request limit
    case 16: return "a".repeat(64) + "-" + "b".repeat(64); // over name limits
    case 17: return hostileDigest(rng);
    case 18: return hostilePageToken(rng, realPageToken);
    case 19: return String.fromCharCode(...Array.from({ length: 1 + rng.int(64) }, () => rng.int(0xd7ff)));
    case 20: return "%00%ff%2e%2e";
    default: return `fuzz-${rng.int(1000)}`;
  }
}

function hostileDigest(rng: Prng): string {
  const hex = sha256(String(rng.next()));
  return rng.pick([
    `sha256:${hex}`, // well formed, never attested
    `sha256:${hex.toUpperCase()}`,
    `sha256:${hex.slice(0, 63)}`,
    `sha256:${hex}0`,
    `sha512:${hex}`,
    `sha512:${hex}${hex}`,
    `md5:${hex.slice(0, 32)}`,
    `sha1:${hex.slice(0, 40)}`,
    hex,
    `sha256:${hex}\n`,
    `SHA256:${hex}`,
    `sha256:${"g".repeat(64)}`,
    "sha256:",
    ":",
    `sha256:${hex}@sha256:${hex}`,
  ]);
}

/** Forged, replayed, truncated and oversized page tokens. */
function hostilePageToken(rng: Prng, real: string): string {
  const decoded = (() => {
    try {
      return JSON.parse(Buffer.from(real, "base64url").toString("utf8")) as { v: number; f: string; a: unknown[] };
    } catch {
      return { v: 1, f: "x", a: ["1"] };
    }
  })();
  return rng.pick([
    real, // replayed, usually against another method or other filters
    real.slice(0, Math.max(1, real.length - 3)),
    real + "A",
    b64url(JSON.stringify({ ...decoded, a: ["99999999999999999999999"] })),
    b64url(JSON.stringify({ ...decoded, a: ["-1"] })),
    b64url(JSON.stringify({ ...decoded, a: [1e308] })),
    b64url(JSON.stringify({ ...decoded, a: [{ $gt: "" }] })),
    b64url(JSON.stringify({ ...decoded, a: ["1", "2", "3"] })),
    b64url(JSON.stringify({ ...decoded, v: 2 })),
    b64url(JSON.stringify({ ...decoded, f: "forged-fingerprint" })),
    b64url(JSON.stringify({ v: 1, f: decoded.f, a: ["1' OR '1'='1"] })),
    b64url(JSON.stringify([1, 2, 3])),
    b64url("null"),
    b64url("not json at all"),
    rng.bytes(48).toString("base64url"),
    "!!!not-base64!!!",
    "A".repeat(3000),
    b64url(JSON.stringify({ v: 1, f: decoded.f, a: ["1"], extra: "x".repeat(1500) })),
    "",
  ]);
}

const INT32 = [0, -1, -2147483648, 2147483647, 1, 50, 1000, 1001, 65536];
const INT64 = [0n, -1n, 9223372036854775807n, -9223372036854775808n, 1n];
const ENUMS = [0, 1, 2, 3, 99, -1, 2147483647, -2147483648];

function hostileBytes(rng: Prng): Uint8Array {
  const hex = sha256(String(rng.next()));
  switch (rng.int(8)) {
    case 0: return rng.bytes(rng.int(2048));
    case 1: return Buffer.from("{not json");
    case 2: // a statement whose digests are malformed
      return Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [{ name: "x", digest: { sha256: hex.slice(1) } }], predicateType: "x", predicate: {} }));
    case 3: // too many subjects
      return Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: Array.from({ length: 1500 }, (_, i) => ({ name: `s${i}`, digest: { sha256: hex } })), predicateType: "x", predicate: {} }));
    case 4: // a DSSE envelope with a forged signature
      return Buffer.from(JSON.stringify({ payloadType: "application/vnd.in-toto+json", payload: Buffer.from("{}").toString("base64"), signatures: [{ keyid: "k", sig: "AAAA" }] }));
    case 5: return Buffer.from("[".repeat(50_000) + "]".repeat(50_000)); // deep nesting
    case 6: return Buffer.alloc(1_100_000, 0x20); // over the attestation size limit
    default: return Buffer.from([0xff, 0xfe, 0x00, 0x80]);
  }
}

/** A message init with hostile values in about two thirds of the fields (recursing into messages). */
function hostileInit(rng: Prng, schema: DescMessage, realPageToken: string, depth = 0): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (!rng.chance(0.7)) continue;
    const one = (): unknown => {
      switch (field.fieldKind) {
        case "scalar":
          return scalarValue(rng, field.scalar, field, realPageToken);
        case "enum":
          return rng.pick(ENUMS);
        case "message":
          return depth < 3 ? hostileInit(rng, field.message, realPageToken, depth + 1) : {};
        default:
          return undefined;
      }
    };
    if (field.fieldKind === "list") {
      const n = rng.chance(0.03) ? 10_000 : rng.int(4);
      const item = (): unknown =>
        field.listKind === "scalar"
          ? scalarValue(rng, field.scalar, field, realPageToken)
          : field.listKind === "enum"
            ? rng.pick(ENUMS)
            : depth < 2
              ? hostileInit(rng, field.message, realPageToken, depth + 1)
              : {};
      // Huge lists of huge items would pass the size limit (the oversized category's job): huge
      // lists get short items. A huge list of messages (ReportSnapshot's 10,000 entries) gets
      // empty ones: with hostile strings inside they made requests of 200 MB and more.
      const small = (): unknown => (field.listKind === "message" ? {} : field.listKind === "scalar" && field.scalar === ScalarType.STRING ? `p${rng.int(100)}` : item());
      init[field.localName] = Array.from({ length: n }, () => (n > 100 ? small() : item()));
    } else if (field.fieldKind !== "map") {
      init[field.localName] = one();
    }
  }
  return init;
}

function scalarValue(rng: Prng, scalar: ScalarType, field: DescField, realPageToken: string): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return hostileString(rng, field, realPageToken);
    case ScalarType.BYTES:
      return hostileBytes(rng);
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return rng.pick(INT64);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return rng.pick([0n, 1n, 18446744073709551615n]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rng.pick([0, 1, 4294967295]);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return rng.pick([0, -1, 1.5, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY]);
    default:
      return rng.pick(INT32);
  }
}

/** JSON with the wrong types, unknown fields and enum names, or no valid JSON at all. */
function wrongJson(rng: Prng, schema: DescMessage): Buffer {
  switch (rng.int(12)) {
    case 0: return Buffer.from("[]");
    case 1: return Buffer.from('"a string"');
    case 2: return Buffer.from("null");
    case 3: return Buffer.from("{");
    case 4: return Buffer.from('{"a":1}trailing');
    case 5: return Buffer.from("[".repeat(100_000) + "]".repeat(100_000));
    case 6: return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("{}")]); // BOM
    case 7: return Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]); // invalid UTF-8 key
    default: break;
  }
  const obj: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (!rng.chance(0.6)) continue;
    const wrong: unknown[] = [123, -1.5, true, {}, [], null, "", "x".repeat(rng.int(5000)), { nested: { deeper: [1, 2] } }];
    if (field.fieldKind === "scalar" && field.scalar !== ScalarType.STRING && field.scalar !== ScalarType.BYTES) {
      wrong.push("12", "abc", 1e20, -1e20, 1.5, "0x10", "NaN", "Infinity", "-0");
    }
    if (field.fieldKind === "enum") wrong.push(99, -1, "NOT_A_VALUE", 1.5, "ARTIFACT_KIND_CONTAINER_IMAGE ");
    if (field.fieldKind === "scalar" && field.scalar === ScalarType.BYTES) wrong.push("!!!not base64!!!", "a", "====");
    if (field.fieldKind === "list") wrong.push(Array.from({ length: rng.chance(0.1) ? 20_000 : 5 }, () => rng.pick([1, "x", {}, null])));
    if (field.fieldKind === "message") wrong.push({ seconds: "x" }, { unknownField: 1 }, "2026-13-45T99:99:99Z", "-99999999999s");
    obj[rng.chance(0.5) ? field.jsonName : field.name] = rng.pick(wrong);
  }
  if (rng.chance(0.3)) obj[`unknown_${rng.int(10)}`] = rng.int(10);
  if (rng.chance(0.05)) obj["__proto__"] = { polluted: true };
  return Buffer.from(JSON.stringify(obj));
}

/** A protobuf string field holding invalid UTF-8 (protobuf-es would never encode one). */
function invalidUtf8(rng: Prng, schema: DescMessage): Buffer {
  const strings = schema.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING && f.number < 16);
  const no = strings.length ? rng.pick(strings).number : 1;
  const bad = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe, 0xed, 0xa0, 0x80]);
  return Buffer.concat([Buffer.from([(no << 3) | 2, bad.length]), bad]);
}

type Category =
  | "connect-json-wrong-types"
  | "connect-json-hostile-values"
  | "connect-proto-hostile-values"
  | "connect-proto-random-bytes"
  | "connect-proto-invalid-utf8"
  | "grpc-hostile-values"
  | "grpc-random-bytes"
  | "grpc-bad-envelope"
  | "grpc-web-hostile-values"
  | "bad-auth"
  | "wrong-content-type-or-method"
  | "bad-timeout-headers"
  | "oversized"
  | "tcp-garbage";

const WEIGHTS: Array<[Category, number]> = [
  ["connect-json-wrong-types", 16],
  ["connect-json-hostile-values", 14],
  ["connect-proto-hostile-values", 14],
  ["connect-proto-random-bytes", 8],
  ["connect-proto-invalid-utf8", 3],
  ["grpc-hostile-values", 10],
  ["grpc-random-bytes", 6],
  ["grpc-bad-envelope", 8],
  ["grpc-web-hostile-values", 3],
  ["bad-auth", 7],
  ["wrong-content-type-or-method", 6],
  ["bad-timeout-headers", 3],
  ["oversized", 0.4],
  ["tcp-garbage", 1.6],
];

function pickCategory(rng: Prng): Category {
  const total = WEIGHTS.reduce((a, [, w]) => a + w, 0);
  let x = rng.next() * total;
  for (const [c, w] of WEIGHTS) if ((x -= w) < 0) return c;
  return WEIGHTS[0][0];
}

interface Generated {
  category: Category;
  target: (typeof METHODS)[number];
  request?: RawRequest;
  tcp?: Buffer;
}

const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

function hostileMessage(rng: Prng, schema: DescMessage, realPageToken: string) {
  for (let i = 0; i < 5; i++) {
    try {
      return create(schema, hostileInit(rng, schema, realPageToken) as never);
    } catch {
      /* an init create() refuses: draw again */
    }
  }
  return create(schema);
}

function generate(rng: Prng, realPageToken: string, oversized: Buffer): Generated {
  const category = pickCategory(rng);
  const target = rng.pick(METHODS);
  const { method, path } = target;
  const h1or2 = (): "h1" | "h2" => (rng.chance(0.5) ? "h1" : "h2");
  const connect = (contentType: string, body: Buffer, headers: Record<string, string | string[]> = AUTH): RawRequest => ({
    transport: h1or2(),
    protocol: "connect",
    path,
    headers: { "content-type": contentType, "connect-protocol-version": "1", ...headers },
    body,
  });
  const grpc = (body: Buffer, headers: Record<string, string> = AUTH): RawRequest => ({
    transport: "h2",
    protocol: "grpc",
    path,
    headers: { "content-type": "application/grpc", te: "trailers", ...headers },
    body,
  });
  const binary = () => Buffer.from(toBinary(method.input, hostileMessage(rng, method.input, realPageToken)));
  const json = () => {
    const msg = hostileMessage(rng, method.input, realPageToken);
    try {
      return Buffer.from(JSON.stringify(toJson(method.input, msg, { alwaysEmitImplicit: rng.chance(0.2) })));
    } catch {
      return Buffer.from(JSON.stringify({}));
    }
  };
  switch (category) {
    case "connect-json-wrong-types":
      return { category, target, request: connect("application/json", wrongJson(rng, method.input)) };
    case "connect-json-hostile-values":
      return { category, target, request: connect("application/json", json()) };
    case "connect-proto-hostile-values":
      return { category, target, request: connect("application/proto", binary()) };
    case "connect-proto-random-bytes":
      return { category, target, request: connect("application/proto", rng.bytes(rng.int(512))) };
    case "connect-proto-invalid-utf8":
      return { category, target, request: connect("application/proto", invalidUtf8(rng, method.input)) };
    case "grpc-hostile-values":
      return { category, target, request: grpc(envelope(binary())) };
    case "grpc-random-bytes":
      return { category, target, request: grpc(envelope(rng.bytes(rng.int(512)))) };
    case "grpc-bad-envelope": {
      const payload = binary();
      const variants: Buffer[] = [
        envelope(payload, 0, payload.length + 10).subarray(0, 5 + payload.length), // declares more than it sends
        envelope(payload).subarray(0, 1 + rng.int(4)), // a partial prefix
        Buffer.alloc(0), // no message at all
        envelope(payload, 1), // compressed flag, no grpc-encoding
        Buffer.concat([envelope(payload), envelope(payload)]), // two messages for a unary call
        envelope(Buffer.alloc(0), 0, 0x7fffffff), // declares 2 GiB
        envelope(payload, 0x80), // a trailer frame from a client
        envelope(payload, 0x02), // unknown flag bits
        Buffer.concat([envelope(payload), Buffer.from([0])]), // trailing garbage
      ];
      const i = rng.int(variants.length + 1);
      if (i === variants.length) {
        // gzip declared, garbage sent
        return { category, target, request: grpc(envelope(rng.bytes(64), 1), { ...AUTH, "grpc-encoding": "gzip" }) };
      }
      return { category, target, request: grpc(variants[i]) };
    }
    case "grpc-web-hostile-values":
      return {
        category,
        target,
        request: { transport: h1or2(), protocol: "grpc-web", path, headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...AUTH }, body: envelope(binary()) },
      };
    case "bad-auth": {
      const auth = rng.pick<Record<string, string | string[]>>([
        {},
        { authorization: "" },
        { authorization: "Bearer" },
        { authorization: "Bearer " },
        { authorization: `Bearer clp_${sha256(String(rng.next())).slice(0, 40)}` },
        { authorization: "Basic dXNlcjpwYXNzd29yZA==" },
        { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` },
        { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}` },
        { authorization: `Token ${TEST_ADMIN_TOKEN}` },
        { authorization: `Bearer ${"x".repeat(8_000)}` },
        { authorization: `Bearer ${TEST_ADMIN_TOKEN} ${TEST_ADMIN_TOKEN}` },
        { authorization: "Bearer ' OR 1=1 --" },
        { authorization: `Bearer ${"é".repeat(20)}` },
      ]);
      switch (rng.int(4)) {
        case 0: return { category, target, request: connect("application/json", json(), auth) };
        case 1: // two Authorization headers (HTTP/1.1 only: HTTP/2 clients refuse to send them)
          return { category, target, request: { ...connect("application/json", json(), { authorization: [`Bearer ${TEST_ADMIN_TOKEN}`, "Bearer other"] }), transport: "h1" } };
        case 2: return { category, target, request: { ...connect("application/proto", binary(), auth), transport: "h2" } };
        default: return { category, target, request: grpc(envelope(binary()), auth as Record<string, string>) };
      }
    }
    case "wrong-content-type-or-method": {
      const body = json();
      switch (rng.int(4)) {
        case 0: {
          const ct = rng.pick(["text/plain", "application/xml", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/connect+json", "APPLICATION/JSON", "application/grpc+xml", "application/octet-stream", "image/png", "*/*"]);
          return { category, target, request: connect(ct, body) };
        }
        case 1: {
          const req = connect("application/json", body);
          delete (req.headers as Record<string, unknown>)["content-type"];
          return { category, target, request: req };
        }
        case 2:
          return { category, target, request: { ...connect("application/json", rng.chance(0.5) ? Buffer.alloc(0) : body), method: rng.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) } };
        default: {
          const p = rng.pick([
            "/chainloop.v1.Nope/Nope",
            `/${target.service.typeName}/NoSuchMethod`,
            `${path}/extra`,
            `${path}?x=${"y".repeat(2000)}`,
            "/",
            "//",
            "/%2e%2e/%2e%2e/etc/passwd",
            `/${"a".repeat(6000)}`,
            path.toLowerCase(),
          ]);
          return { category, target, request: { ...connect("application/json", body), path: p } };
        }
      }
    }
    case "bad-timeout-headers": {
      if (rng.chance(0.5)) {
        return { category, target, request: grpc(envelope(binary()), { ...AUTH, "grpc-timeout": rng.pick(["abc", "-1S", "99999999999H", "1x", "", "0n", "1"]) }) };
      }
      return {
        category,
        target,
        request: connect("application/json", json(), { ...AUTH, "connect-timeout-ms": rng.pick(["abc", "-5", "1e9", "99999999999999", "0", ""]), "connect-protocol-version": rng.pick(["1", "2", "0", "x"]) }),
      };
    }
    case "oversized": {
      switch (rng.int(5)) {
        case 0: return { category, target, request: { ...connect("application/json", oversized), transport: "h1" } };
        case 1: return { category, target, request: { ...connect("application/proto", oversized), transport: "h2" } };
        case 2: return { category, target, request: { ...connect("application/json", oversized), transport: "h1", chunked: true } };
        case 3: return { category, target, request: grpc(envelope(oversized)) };
        default: return { category, target, request: grpc(envelope(Buffer.alloc(16), 0, MAX_REQUEST_BYTES + 1)) };
      }
    }
    case "tcp-garbage": {
      const variants: Buffer[] = [
        rng.bytes(1 + rng.int(4096)),
        Buffer.from("XXX\r\n\r\n"),
        Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`),
        Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`),
        Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n`),
        Buffer.from(`GET / HTTP/1.1\r\n${"X-Long: " + "a".repeat(100_000)}\r\n\r\n`),
        Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}`), // body shorter than declared
        Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), rng.bytes(1 + rng.int(512))]),
        Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 3, 4, 0, 0, 0, 0, 0, 1, 2, 3])]), // SETTINGS with a bad length
        Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0])]), // WINDOW_UPDATE of 0
        Buffer.from("PRI * HTTP/2.0\r\n"), // a preface cut short
        Buffer.from("P"),
      ];
      return { category, target, tcp: rng.pick(variants) };
    }
  }
}

interface Outcome {
  category: Category;
  method: string;
  transport: string;
  /** HTTP method, path and content type sent (for reports). */
  sent?: string;
  answer?: Answer;
  tcp?: { received: number; error?: string; statusLine?: string };
}

async function countRows(url: string) {
  const envs = connectClient(EnvironmentService, url);
  const deps = connectClient(DeploymentService, url);
  const atts = connectClient(AttestationService, url);
  const toks = connectClient(ApiTokenService, url);
  const keys = connectClient(KeyService, url);
  const pages = async (fetch: (token: string) => Promise<{ n: number; next: string }>) => {
    let n = 0;
    let token = "";
    do {
      const page = await fetch(token);
      n += page.n;
      token = page.next;
    } while (token !== "");
    return n;
  };
  return {
    environments: await pages(async (t) => {
      const r = await envs.listEnvironments({ pageSize: 1000, pageToken: t });
      return { n: r.environments.length, next: r.nextPageToken };
    }),
    logicalEnvironments: (await envs.listLogicalEnvironments({})).logicalEnvironments.length,
    deployments: await pages(async (t) => {
      const r = await deps.listDeployments({ pageSize: 1000, pageToken: t, history: true });
      return { n: r.deployments.length, next: r.nextPageToken };
    }),
    attestations: await pages(async (t) => {
      const r = await atts.listAttestations({ pageSize: 1000, pageToken: t });
      return { n: r.attestations.length, next: r.nextPageToken };
    }),
    apiTokens: await pages(async (t) => {
      const r = await toks.listApiTokens({ pageSize: 1000, pageToken: t, showRevoked: true });
      return { n: r.tokens.length, next: r.nextPageToken };
    }),
    keys: (await keys.listKeys({})).keys.length,
  };
}
type Counts = Awaited<ReturnType<typeof countRows>>;

/** What an OK mutation changed, read from its response. */
function expectedDelta(method: DescMethod, answer: Answer): Partial<Counts> {
  let res: Record<string, unknown> = {};
  try {
    if (answer.payload && answer.payload.length) {
      res = (answer.contentType?.includes("json")
        ? fromJson(method.output, JSON.parse(answer.payload.toString("utf8")) as JsonValue)
        : fromBinary(method.output, answer.payload)) as unknown as Record<string, unknown>;
    }
  } catch {
    /* an empty or undecodable answer: the name decides */
  }
  switch (method.name) {
    case "CreateEnvironment": return { environments: 1 };
    case "DeleteEnvironment": return { environments: -1 };
    case "CreateLogicalEnvironment": return { logicalEnvironments: 1 };
    case "DeleteLogicalEnvironment": return { logicalEnvironments: -1 };
    case "RecordDeployment": return { deployments: res.outcome === 1 || res.outcome === 3 ? 1 : 0 };
    case "PushAttestation": return { attestations: res.created ? 1 : 0 };
    case "CreateApiToken": return { apiTokens: 1 };
    case "CreateKey": return { keys: 1 };
    case "DeleteKey": return { keys: -1 };
    default: return {};
  }
}

// On both backends: the database's own refusals (encodings, ranges, constraints) differ, and
// each must still come out as the caller's error, never Internal.
describe.each(backends())("hostile input (%s)", (backend) => {
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let h1: H1Client | undefined;
  let h2: H2Client | undefined;

  afterAll(async () => {
    h1?.close();
    h2?.close();
    await server?.stop("SIGKILL");
    await db?.drop();
  });

  it(`answers ${TOTAL} generated hostile requests without Internal, crash, leak or stray write`, async () => {
    const seed = seedFromEnv();
    console.log(`[hostile/${backend}] seed=${seed} (FAULT_SEED=${seed} repeats this run) requests=${TOTAL}`);
    const rng = prng(seed);
    db = await createTestDatabase(backend);
    server = await startServer(db.env);
    const srv = server;
    const pid = srv.child.pid!;
    h1 = new H1Client(srv.port);
    h2 = new H2Client(srv.url);

    // Some data, so that lists page and tokens exist to replay.
    await connectClient(EnvironmentService, srv.url).createEnvironment({ name: "fuzz-env" });
    const digests = ["a", "b", "c"].map((s) => `sha256:${sha256(`hostile ${s}`)}`);
    await attest(srv.url, digests);
    const deployments = connectClient(DeploymentService, srv.url);
    for (const [i, d] of digests.entries()) {
      await deployments.recordDeployment({ environment: "fuzz-env", logicalEnvironment: "production", deploymentName: `svc-${i}`, kind: ArtifactKind.CONTAINER_IMAGE, digest: d });
    }
    const realPageToken = (await deployments.listDeployments({ pageSize: 1, history: true })).nextPageToken;
    expect(realPageToken).not.toBe("");
    const oversized = Buffer.alloc(MAX_REQUEST_BYTES + 1 + rng.int(1024 * 1024), 0x61);

    const outcomes: Outcome[] = [];
    const healthFailures: string[] = [];
    const send = async (g: Generated): Promise<Outcome> => {
      const base = { category: g.category, method: g.target.method.name };
      if (g.tcp) {
        const r = await sendTcp(srv.port, g.tcp, 3_000);
        const statusLine = r.received.toString("latin1").split("\r\n")[0];
        return { ...base, transport: "tcp", tcp: { received: r.received.length, error: r.error, statusLine: /^HTTP\//.test(statusLine) ? statusLine : undefined } };
      }
      const req = g.request!;
      // Bodies over the limit go over HTTP/1.1 through a client that reads the early answer
      // while still writing (Node's client reports its EPIPE instead).
      const answer =
        req.transport === "h2"
          ? await h2!.send(req, CALL_TIMEOUT_MS)
          : g.category === "oversized"
            ? await sendH1Raw(srv.port, req, CALL_TIMEOUT_MS)
            : await h1!.send(req, CALL_TIMEOUT_MS);
      const sent = `${req.method ?? "POST"} ${req.path.slice(0, 80)} ${String(req.headers["content-type"] ?? "-")} ${req.body.length}B`;
      return { ...base, transport: `${req.transport}/${req.protocol}`, sent, answer };
    };

    // Raw TCP garbage waits up to 3 s for an answer the server often never sends (it waits for
    // the rest of a request), so it is sent beside the CONCURRENCY slots of the calls, not in
    // them: in them, ~200 such sends held slots idle for most of the run.
    const runBatch = async (n: number) => {
      const generated = Array.from({ length: n }, () => generate(rng, realPageToken, oversized));
      const calls = generated.filter((g) => !g.tcp);
      let next = 0;
      await Promise.all([
        ...generated.filter((g) => g.tcp).map(async (g) => outcomes.push(await send(g))),
        ...Array.from({ length: CONCURRENCY }, async () => {
          while (next < calls.length) {
            const g = calls[next++];
            outcomes.push(await send(g));
          }
        }),
      ]);
    };
    const checkHealth = async (when: string) => {
      if (srv.child.exitCode !== null || srv.child.signalCode !== null) {
        healthFailures.push(`${when}: process exited (${srv.child.exitCode ?? srv.child.signalCode})`);
        return;
      }
      try {
        const h = await healthz(srv.url, 5_000);
        if (h.code !== 200 || h.status !== "SERVING") healthFailures.push(`${when}: /healthz ${h.code} ${h.status}`);
      } catch (e) {
        healthFailures.push(`${when}: /healthz ${(e as Error).message}`);
      }
    };

    // Warm up (JIT, pools, caches), then measure memory and the row counts.
    await runBatch(300);
    const warmup = outcomes.length;
    const before = await countRows(srv.url);
    const rssBefore = rssKiB(pid);
    let rssPeak = rssBefore;
    const started = Date.now();
    for (let done = 0; done < TOTAL; done += HEALTH_EVERY) {
      await runBatch(Math.min(HEALTH_EVERY, TOTAL - done));
      await checkHealth(`after ${done + HEALTH_EVERY} requests`);
      if (healthFailures.length) break;
      rssPeak = Math.max(rssPeak, rssKiB(pid));
    }
    const elapsed = Date.now() - started;
    await checkHealth("at the end");
    const rssAfter = rssKiB(pid);
    const after = await countRows(srv.url);

    const measured = outcomes.slice(warmup);
    const all = outcomes;
    const internal = all.filter((o) => o.answer && ((o.answer.kind === "rpc-error" && o.answer.code === "internal") || o.answer.status >= 500));
    const noMessage = all.filter((o) => o.answer && (o.answer.kind === "rpc-error" || o.answer.kind === "http-error") && !o.answer.message?.trim());
    const transportFailures = all.filter((o) => o.answer?.kind === "transport");
    const hung = all.filter((o) => o.answer?.transportError?.startsWith("timeout"));
    const oversizedOutcomes = all.filter((o) => o.category === "oversized");
    const longest = all.reduce((a, o) => Math.max(a, o.answer?.message?.length ?? 0), 0);
    const oversizedWrong = oversizedOutcomes.filter((o) => !(o.answer?.kind === "rpc-error" && o.answer.code === "resource_exhausted"));
    const okMutations = all.filter((o) => o.answer?.kind === "ok" && isMutation(METHODS.find((m) => m.method.name === o.method)!.method));
    // Expected row changes: the OK mutations (warm-up ones included, they ran before `before`).
    const expected: Counts = { environments: 0, logicalEnvironments: 0, deployments: 0, attestations: 0, apiTokens: 0, keys: 0 };
    for (const o of measured) {
      if (o.answer?.kind !== "ok") continue;
      const m = METHODS.find((x) => x.method.name === o.method)!.method;
      for (const [k, v] of Object.entries(expectedDelta(m, o.answer))) expected[k as keyof Counts] += v ?? 0;
    }
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof Counts]])) as Counts;

    const label = (o: Outcome) =>
      o.answer
        ? o.answer.kind === "rpc-error"
          ? `${o.answer.code}`
          : o.answer.kind === "http-error"
            ? `http ${o.answer.status}`
            : o.answer.kind === "transport"
              ? `transport ${o.answer.transportError}`
              : "ok"
        : `tcp ${o.tcp?.statusLine ?? (o.tcp?.received ? `${o.tcp.received} bytes` : "no answer")}${o.tcp?.error ? ` (${o.tcp.error})` : ""}`;
    /** Up to 8 distinct failures (by category, transport and answer). */
    const sample = (xs: Outcome[]) => [
      ...new Set(xs.map((o) => `${o.category} ${o.transport} [${o.sent ?? ""}]: ${label(o)} ${JSON.stringify((o.answer?.message ?? "").replace(/\d+/g, "N")).slice(0, 160)}`)),
    ].slice(0, 8);
    console.log(
      `[hostile/${backend}] ${all.length} requests (${warmup} warm-up) in ${elapsed} ms, ${CONCURRENCY} at a time; by category ${JSON.stringify(countBy(all, (o) => o.category))}\n` +
        `[hostile/${backend}] by transport ${JSON.stringify(countBy(all, (o) => o.transport))}\n` +
        `[hostile/${backend}] answers ${JSON.stringify(countBy(all, label))}\n` +
        `[hostile/${backend}] Internal/5xx=${internal.length} error answers without a message=${noMessage.length} transport failures=${transportFailures.length} ` +
        `hung=${hung.length} oversized=${oversizedOutcomes.length} (not ResourceExhausted: ${oversizedWrong.length}) health failures=${healthFailures.length} ` +
        `h2 sessions opened=${h2.sessionsOpened} longest error message=${longest}\n` +
        `[hostile/${backend}] RSS before=${Math.round(rssBefore / 1024)} MiB peak=${Math.round(rssPeak / 1024)} MiB after=${Math.round(rssAfter / 1024)} MiB ` +
        `growth=${Math.round((rssAfter - rssBefore) / 1024)} MiB (limit ${RSS_GROWTH_LIMIT_MIB} MiB)\n` +
        `[hostile/${backend}] rows before=${JSON.stringify(before)} after=${JSON.stringify(after)} OK mutations=${okMutations.length} ` +
        `${JSON.stringify(countBy(okMutations, (o) => o.method))} expected change=${JSON.stringify(expected)}` +
        (internal.length ? `\n[hostile/${backend}] Internal: ${sample(internal).join("\n  ")}` : "") +
        (noMessage.length ? `\n[hostile/${backend}] no message: ${sample(noMessage).join("\n  ")}` : "") +
        (transportFailures.length ? `\n[hostile/${backend}] transport: ${sample(transportFailures).join("\n  ")}` : "") +
        (oversizedWrong.length ? `\n[hostile/${backend}] oversized: ${sample(oversizedWrong).join("\n  ")}` : ""),
    );
    const unexpected = [...new Set(srv.logs.filter((l) => l.includes('"unexpected error"')).map((l) => l.slice(0, 600)))];
    if (unexpected.length) console.log(`[hostile/${backend}] server logged unexpected errors:\n${unexpected.slice(0, 5).join("\n")}`);

    expect(all.length).toBeGreaterThanOrEqual(TOTAL);
    expect(healthFailures).toEqual([]);
    expect(srv.child.exitCode).toBeNull();
    expect(sample(internal)).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(sample(noMessage)).toEqual([]);
    expect(sample(hung)).toEqual([]);
    expect(sample(transportFailures)).toEqual([]);
    expect(oversizedOutcomes.length).toBeGreaterThan(0);
    expect(sample(oversizedWrong)).toEqual([]);
    expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MIB * 1024);
    expect(delta).toEqual(expected);
  }, 600_000);
});
