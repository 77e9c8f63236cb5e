// The evidence store and traceability through real server processes, on both database
// backends: attestations in (statements and DSSE envelopes, signature policy, idempotency,
// refusals), "where did this running artifact come from?" out (DescribeArtifact,
// GetDeployment, ListDeployments by project), and the rule that a digest needs evidence
// before it can be recorded as deployed.
//
// Signatures are made here with node:crypto and a PAE written from the DSSE spec, not with
// the server's own dsse.ts, so that a shared mistake cannot make both sides agree.
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import { ArtifactService } from "../../gen/proto/chainloop/v1/artifact_pb.js";
import {
  ArtifactRole,
  AttestationFormat,
  AttestationService,
  type Attestation,
} from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { ArtifactKind, DeploymentService, DeploymentStatus, RecordOutcome } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { KeyAlgorithm, KeyService } from "../../gen/proto/chainloop/v1/key_pb.js";
import { backends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { digest, failure, listAll, pagesOf } from "../helpers/facts.js";

const hex = (s: string) => createHash("sha256").update(s).digest("hex");
const sha256Of = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));

/** An in-toto v1 statement with a SLSA provenance v1 predicate, shaped like what GitHub's builders emit. */
function slsaV1(subjects: Array<{ name: string; sha256: string }>, deps: Array<{ uri: string; digest: Record<string, string> }>) {
  return {
    _type: "https://in-toto.io/Statement/v1",
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: "https://slsa.dev/provenance/v1",
    predicate: {
      buildDefinition: {
        buildType: "https://actions.github.io/buildtypes/workflow/v1",
        externalParameters: {
          workflow: { ref: "refs/tags/v1.0.0", repository: "https://github.com/acme/api-server", path: ".github/workflows/release.yml" },
        },
        internalParameters: { github: { event_name: "push", repository_id: "123456" } },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: "https://github.com/actions/runner/github-hosted" },
        metadata: { invocationId: "https://github.com/acme/api-server/actions/runs/1/attempts/1", startedOn: "2026-11-28T10:00:00Z" },
      },
    },
  };
}

/** A minimal v1 statement over sha256 digests. */
function statement(digests: string[], predicate: Record<string, unknown> = {}) {
  return {
    _type: "https://in-toto.io/Statement/v1",
    subject: digests.map((d, i) => ({ name: `artifact-${i}`, digest: { sha256: d.replace(/^sha256:/, "") } })),
    predicateType: "https://chainloop.dev/attestation/minimal/v1",
    predicate,
  };
}

/** DSSE PAE, straight from the spec: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  pem: string;
  kind: "ec" | "ed25519";
}

function keyPair(kind: "ec" | "ed25519"): KeyPair {
  const { privateKey, publicKey } =
    kind === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  return { privateKey, publicKey, pem: publicKey.export({ type: "spki", format: "pem" }).toString(), kind };
}

/** A DSSE envelope (cosign's shape: ECDSA signatures in DER over SHA-256). */
function envelope(doc: unknown, key: KeyPair, opts: { payloadType?: string; keyid?: string; tamper?: (p: Buffer) => Buffer } = {}) {
  const payloadType = opts.payloadType ?? "application/vnd.in-toto+json";
  const payload = bytes(doc);
  const data = pae(payloadType, payload);
  const sig = key.kind === "ec" ? sign("sha256", data, key.privateKey) : sign(null, data, key.privateKey);
  const shipped = opts.tamper ? opts.tamper(payload) : payload;
  return {
    payloadType,
    payload: shipped.toString("base64"),
    signatures: [{ keyid: opts.keyid ?? "", sig: sig.toString("base64") }],
  };
}

describe.each(backends())("evidence and traceability on %s", (backend) => {
  const served = serveFor(backend);
  let attestations: Client<typeof AttestationService>;
  let keys: Client<typeof KeyService>;
  let artifacts: Client<typeof ArtifactService>;
  let deployments: Client<typeof DeploymentService>;
  let environments: Client<typeof EnvironmentService>;
  const ec = keyPair("ec");
  const ed = keyPair("ed25519");
  const stranger = keyPair("ec");
  /** Pushed before any key is registered; pushed again once `ec` is (ECDSA signatures are randomized: keep the bytes). */
  let signedBeforeKeys: Buffer;

  const push = (content: Uint8Array, meta: { workflow?: string; project?: string; projectVersion?: string } = {}) =>
    attestations.pushAttestation({ content, workflow: "release", project: "api-server", ...meta });

  async function allAttestations(filters: { digest?: string; project?: string } = {}): Promise<Attestation[]> {
    return listAll(async (pageToken) => {
      const res = await attestations.listAttestations({ pageSize: 1000, ...filters, pageToken });
      return { items: res.attestations, next: res.nextPageToken };
    });
  }

  beforeAll(async () => {
    attestations = connectClient(AttestationService, served.url);
    keys = connectClient(KeyService, served.url);
    artifacts = connectClient(ArtifactService, served.url);
    deployments = connectClient(DeploymentService, served.url);
    environments = connectClient(EnvironmentService, served.url);
  });

  // ───────────── with no keys registered: accepted, unverified ─────────────

  it("stores a SLSA provenance v1 statement byte for byte and indexes its subjects and dependencies", async () => {
    const image = hex("slsa image");
    const base = hex("node:20-alpine");
    const doc = slsaV1(
      [{ name: "ghcr.io/acme/api-server", sha256: image }],
      [
        { uri: "git+https://github.com/acme/api-server@refs/tags/v1.0.0", digest: { gitCommit: "a".repeat(40) } },
        { uri: "pkg:docker/node@20-alpine", digest: { sha256: base } },
      ],
    );
    // Pretty-printed with a trailing newline: the exact bytes matter, not their JSON meaning.
    const content = Buffer.from(JSON.stringify(doc, null, 2) + "\n");
    const res = await push(content, { projectVersion: "v1.0.0" });
    expect(res.created).toBe(true);
    const a = res.attestation!;
    expect(a).toMatchObject({
      id: sha256Of(content),
      workflow: "release",
      project: "api-server",
      projectVersion: "v1.0.0",
      format: AttestationFormat.IN_TOTO_STATEMENT,
      statementType: "https://in-toto.io/Statement/v1",
      predicateType: "https://slsa.dev/provenance/v1",
      verified: false,
      verifiedKeyFingerprint: "",
      materialCount: 1,
      sizeBytes: BigInt(content.length),
    });
    expect(a.subjects.map((s) => [s.digest, s.name, s.role])).toEqual([[`sha256:${image}`, "ghcr.io/acme/api-server", ArtifactRole.SUBJECT]]);
    expect(a.pushedBy?.tokenName).toBeTruthy();

    const got = await attestations.getAttestation({ id: a.id });
    expect(Buffer.from(got.content).equals(content)).toBe(true);
    expect(got.attestation?.id).toBe(a.id);

    // Indexed as subject and as material; the gitCommit-only dependency is not an artifact here.
    expect((await allAttestations({ digest: `sha256:${image}` })).map((x) => x.id)).toEqual([a.id]);
    expect((await allAttestations({ digest: `sha256:${base}` })).map((x) => x.id)).toEqual([a.id]);
    const material = await artifacts.describeArtifact({ digest: `sha256:${base}` });
    expect(material.evidence.map((e) => [e.role, e.name, e.project, e.projectVersion])).toEqual([
      [ArtifactRole.MATERIAL, "pkg:docker/node@20-alpine", "api-server", "v1.0.0"],
    ]);
    expect(material.deployments).toEqual([]);
  });

  it("reads in-toto v0.1 statements with SLSA v0.2 materials, and sha512 digests", async () => {
    const sub = createHash("sha512").update("v0.1 subject").digest("hex");
    const mat = hex("v0.2 material");
    const doc = {
      _type: "https://in-toto.io/Statement/v0.1",
      subject: [{ name: "chart", digest: { sha512: sub, sha1: "b".repeat(40) } }],
      predicateType: "https://slsa.dev/provenance/v0.2",
      predicate: {
        builder: { id: "https://example.com/builder" },
        buildType: "https://example.com/build",
        materials: [{ uri: "git+https://example.com/repo", digest: { sha256: mat } }, { uri: "https://example.com/no-digest" }],
      },
    };
    const a = (await push(bytes(doc), { project: "charts" })).attestation!;
    expect(a.statementType).toBe("https://in-toto.io/Statement/v0.1");
    expect(a.subjects.map((s) => s.digest)).toEqual([`sha512:${sub}`]);
    expect(a.materialCount).toBe(1);
    expect((await allAttestations({ digest: `sha256:${mat}` })).map((x) => x.id)).toEqual([a.id]);
  });

  it("is idempotent: the same bytes give the same attestation and no new rows", async () => {
    const d = digest("idempotent");
    const content = bytes(statement([d, d])); // a repeated subject is indexed once
    const first = await push(content, { projectVersion: "v9" });
    const before = await allAttestations();
    const again = await push(content, { projectVersion: "v9" });
    expect(again.created).toBe(false);
    expect(again.attestation?.id).toBe(first.attestation?.id);
    expect(again.attestation?.createTime).toEqual(first.attestation?.createTime);
    expect(await allAttestations()).toHaveLength(before.length);
    expect((await artifacts.describeArtifact({ digest: d })).evidence).toHaveLength(1);
    expect(first.attestation?.subjects).toHaveLength(1);

    // Concurrent pushes of one new document: one row.
    const racy = bytes(statement([digest("racy")]));
    const results = await Promise.all(Array.from({ length: 8 }, () => push(racy)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.attestation?.id)).size).toBe(1);
    expect(await allAttestations({ digest: digest("racy") })).toHaveLength(1);

    // The same document cannot be filed under another project.
    const other = await failure(push(content, { project: "someone-else", projectVersion: "v9" }));
    expect(other.code).toBe(Code.AlreadyExists);
    expect(other.message).toContain("api-server");
  });

  it("refuses malformed documents with InvalidArgument and stores nothing", async () => {
    const before = await allAttestations();
    const ok = digest("never stored");
    const k = keyPair("ec");
    const cases: Array<[string, Uint8Array, string, Record<string, string>?]> = [
      ["invalid JSON", Buffer.from('{"_type": "https://in-toto.io/Statement/v1", '), "not valid JSON"],
      ["not UTF-8", Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), "UTF-8"],
      ["a JSON array", bytes([statement([ok])]), "JSON object"],
      ["neither envelope nor statement", bytes({ hello: "world" }), "neither a DSSE envelope"],
      ["unknown statement type", bytes({ ...statement([ok]), _type: "https://in-toto.io/Statement/v2" }), "not an in-toto statement type"],
      ["missing subjects", bytes({ ...statement([ok]), subject: undefined }), "subject must be a non-empty array"],
      ["empty subjects", bytes({ ...statement([ok]), subject: [] }), "subject must be a non-empty array"],
      ["missing predicateType", bytes({ ...statement([ok]), predicateType: "" }), "predicateType is required"],
      ["uppercase digest", bytes(statement(["sha256:" + "A".repeat(64)])), "lowercase"],
      ["short digest", bytes(statement(["sha256:abc"])), "64"],
      ["non-hex digest", bytes(statement(["sha256:" + "z".repeat(64)])), "hex"],
      ["subject without a sha256/sha512 digest", bytes({ ...statement([ok]), subject: [{ name: "x", digest: { sha1: "c".repeat(40) } }] }), "no sha256 or sha512 digest (it has sha1)"],
      ["digest not an object", bytes({ ...statement([ok]), subject: [{ name: "x", digest: "sha256:" + hex("x") }] }), "must be an object"],
      [
        "malformed material digest",
        bytes(slsaV1([{ name: "x", sha256: hex("x") }], [{ uri: "pkg:x", digest: { sha256: "nothex" } }])),
        "resolvedDependencies[0].digest.sha256",
      ],
      ["wrong payloadType", bytes(envelope(statement([ok]), k, { payloadType: "application/json" })), "payloadType"],
      ["payload not base64", bytes({ payloadType: "application/vnd.in-toto+json", payload: "%%%", signatures: [] }), "base64"],
      [
        "payload not a statement",
        bytes({ payloadType: "application/vnd.in-toto+json", payload: Buffer.from("[1]").toString("base64"), signatures: [] }),
        "in-toto statement",
      ],
      ["envelope without subjects", bytes(envelope({ ...statement([ok]), subject: [] }, k)), "payload.subject"],
      [
        "a subject digest given twice (which one counts depends on the parser)",
        Buffer.from(JSON.stringify(statement([ok])).replace(`"sha256":"${ok.slice(7)}"`, `"sha256":"${hex("other")}","sha256":"${ok.slice(7)}"`)),
        'the key "sha256" twice in one object',
      ],
      ["empty document", Buffer.alloc(0), "content is required"],
      ["oversized document (1 MiB + 1)", Buffer.alloc(1024 * 1024 + 1, 0x20), "limit is 1048576 bytes"],
      ["bad workflow name", bytes(statement([ok])), "workflow", { workflow: "Release Pipeline" }],
      ["missing project", bytes(statement([ok])), "project is required", { project: "" }],
      ["version with a space", bytes(statement([ok])), "project_version", { projectVersion: "v1 beta" }],
    ];
    for (const [what, content, text, meta] of cases) {
      const res = await failure(push(content, meta));
      expect({ what, code: res.code }).toEqual({ what, code: Code.InvalidArgument });
      expect({ what, message: res.message }).toEqual({ what, message: expect.stringContaining(text) });
    }
    // Above the server's request limit (4 MiB): refused before it is read.
    const huge = await failure(push(Buffer.alloc(5 * 1024 * 1024, 0x20)));
    expect(huge.code).toBe(Code.ResourceExhausted);

    expect(await allAttestations()).toEqual(before);
    expect(await allAttestations({ digest: ok })).toEqual([]);
  });

  it("lists with filters, newest first, a page at a time", async () => {
    const ids: string[] = [];
    for (const v of ["v1", "v2", "v3"]) {
      ids.push((await push(bytes(statement([digest(`paged ${v}`)], { v })), { project: "paged", projectVersion: v, workflow: "nightly" })).attestation!.id);
    }
    const seen: string[] = [];
    const pages = await pagesOf(async (pageToken) => {
      const res = await attestations.listAttestations({ project: "paged", pageSize: 2, pageToken });
      return { items: res.attestations.map((a) => a.id), next: res.nextPageToken };
    });
    seen.push(...pages.flat());
    expect(pages.length).toBe(2);
    expect(seen).toEqual([...ids].reverse());
    expect((await attestations.listAttestations({ project: "paged", projectVersion: "v2" })).attestations.map((a) => a.id)).toEqual([ids[1]]);
    expect((await attestations.listAttestations({ workflow: "nightly" })).attestations).toHaveLength(3);
    expect((await attestations.listAttestations({ digest: digest("paged v3") })).attestations.map((a) => a.id)).toEqual([ids[2]]);

    const first = await attestations.listAttestations({ project: "paged", pageSize: 1 });
    expect((await failure(attestations.listAttestations({ project: "other", pageToken: first.nextPageToken }))).code).toBe(Code.InvalidArgument);
    expect((await failure(attestations.listAttestations({ projectVersion: "v1" }))).message).toContain("needs project");
    expect((await failure(attestations.listAttestations({ digest: "sha256:nope" }))).code).toBe(Code.InvalidArgument);
    expect((await failure(attestations.getAttestation({ id: "nope" }))).code).toBe(Code.InvalidArgument);
    expect((await failure(attestations.getAttestation({ id: digest("no such document") }))).code).toBe(Code.NotFound);
  });

  it("accepts envelopes unverified while the organization has no keys", async () => {
    // Signed with the key registered later (see "with signing keys").
    signedBeforeKeys = bytes(envelope(statement([digest("signed before keys")]), ec));
    const a = (await push(signedBeforeKeys)).attestation!;
    expect(a).toMatchObject({ format: AttestationFormat.DSSE_ENVELOPE, verified: false, verifiedKeyFingerprint: "" });
    expect((await artifacts.describeArtifact({ digest: digest("signed before keys") })).evidence.map((e) => e.verified)).toEqual([false]);
  });

  // ───────────── the evidence rule on RecordDeployment ─────────────

  it("traces an artifact from its evidence to where it runs and ran (the seed workflow)", async () => {
    const v100 = digest("api-server v1.0.0");
    const v110 = digest("api-server v1.1.0");
    await push(bytes(slsaV1([{ name: "ghcr.io/acme/api-server", sha256: v100.slice(7) }], [])), { projectVersion: "v1.0.0" });
    await push(bytes(slsaV1([{ name: "ghcr.io/acme/api-server", sha256: v110.slice(7) }], [])), { projectVersion: "v1.1.0" });

    await environments.createEnvironment({ name: "k8s-east", description: "Kubernetes US-East" });
    const base = { environment: "k8s-east", deploymentName: "api-server", kind: ArtifactKind.CONTAINER_IMAGE };
    const staging = await deployments.recordDeployment({ ...base, logicalEnvironment: "staging", digest: v100 });
    const prod1 = await deployments.recordDeployment({ ...base, logicalEnvironment: "production", digest: v100 });
    const prod2 = await deployments.recordDeployment({ ...base, logicalEnvironment: "production", digest: v110 });
    expect([staging.outcome, prod1.outcome, prod2.outcome]).toEqual([RecordOutcome.CREATED, RecordOutcome.CREATED, RecordOutcome.SUPERSEDED]);

    const d = await artifacts.describeArtifact({ digest: v100 });
    expect(d.digest).toBe(v100);
    expect(d.evidence.map((e) => ({ role: e.role, workflow: e.workflow, project: e.project, version: e.projectVersion, verified: e.verified, name: e.name }))).toEqual([
      { role: ArtifactRole.SUBJECT, workflow: "release", project: "api-server", version: "v1.0.0", verified: false, name: "ghcr.io/acme/api-server" },
    ]);
    expect(d.evidence[0].createTime).toBeDefined();
    expect(d.evidence[0].predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(d.deployments.map((x) => [x.logicalEnvironment, x.status])).toEqual([
      ["production", DeploymentStatus.SUPERSEDED],
      ["staging", DeploymentStatus.DEPLOYED],
    ]);
    expect(d.deployments[0].supersededById).toBe(prod2.deployment?.id);
    expect(d).toMatchObject({ moreEvidence: false, moreDeployments: false });

    // GetDeployment carries the same evidence summary.
    const got = await deployments.getDeployment({ id: prod2.deployment!.id });
    expect(got.evidence.map((e) => [e.project, e.projectVersion, e.role])).toEqual([["api-server", "v1.1.0", ArtifactRole.SUBJECT]]);

    // ListDeployments by project and version (subjects of that project's attestations).
    const byProject = await deployments.listDeployments({ project: "api-server" });
    expect(byProject.deployments.map((x) => [x.logicalEnvironment, x.digest])).toEqual([
      ["production", v110],
      ["staging", v100],
    ]);
    const byVersion = await deployments.listDeployments({ project: "api-server", projectVersion: "v1.0.0", history: true });
    expect(byVersion.deployments.map((x) => [x.logicalEnvironment, x.status])).toEqual([
      ["production", DeploymentStatus.SUPERSEDED],
      ["staging", DeploymentStatus.DEPLOYED],
    ]);
    const paged = await deployments.listDeployments({ project: "api-server", history: true, pageSize: 2 });
    expect(paged.deployments).toHaveLength(2);
    const rest = await deployments.listDeployments({ project: "api-server", history: true, pageSize: 2, pageToken: paged.nextPageToken });
    expect(rest.deployments.map((x) => x.digest)).toEqual([v100]);
    expect(rest.nextPageToken).toBe("");
    expect((await deployments.listDeployments({ project: "charts" })).deployments).toEqual([]);
    expect((await failure(deployments.listDeployments({ projectVersion: "v1.0.0" }))).message).toContain("needs project");
    expect((await failure(deployments.listDeployments({ project: "api-server", pageToken: paged.nextPageToken }))).code).toBe(Code.InvalidArgument);
  });

  it("refuses to record an unattested digest as deployed; decommissioning needs no evidence", async () => {
    const unknown = digest("built on a laptop");
    const base = {
      environment: "k8s-east",
      logicalEnvironment: "production",
      deploymentName: "rogue",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: unknown,
    };
    const refused = await failure(deployments.recordDeployment(base));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.message).toContain(unknown);
    expect(refused.message).toContain("chainloop attestation push");
    expect((await deployments.listDeployments({ digest: unknown, history: true })).deployments).toEqual([]);
    expect((await failure(artifacts.describeArtifact({ digest: unknown }))).code).toBe(Code.NotFound);

    // A decommission is never asked for evidence: it reaches the slot and finds nothing to stop.
    const decommission = await failure(deployments.recordDeployment({ ...base, status: DeploymentStatus.DECOMMISSIONED }));
    expect(decommission.code).toBe(Code.NotFound);
    expect(decommission.message).toContain("never recorded");

    // Once attested (even only as a material), it can be recorded, and decommissioned.
    await push(bytes(slsaV1([{ name: "x", sha256: hex("consumer") }], [{ uri: "pkg:rogue", digest: { sha256: unknown.slice(7) } }])));
    expect((await deployments.recordDeployment(base)).outcome).toBe(RecordOutcome.CREATED);
    expect((await deployments.recordDeployment({ ...base, status: DeploymentStatus.DECOMMISSIONED })).outcome).toBe(RecordOutcome.DECOMMISSIONED);

    // A record that predates the rule (written straight into the database) can be decommissioned without evidence.
    if (backend === "postgres") {
      const legacy = digest("recorded before evidence existed");
      const sql = new pg.Client({ connectionString: served.db.databaseUrl });
      await sql.connect();
      try {
        await sql.query(
          `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest)
           SELECT gen_random_uuid(), e.organization_id, e.id, l.id, 'legacy', 'CONTAINER_IMAGE', $1
           FROM environments e JOIN logical_environments l ON l.organization_id = e.organization_id AND l.name = 'production'
           WHERE e.name = 'k8s-east'`,
          [legacy],
        );
      } finally {
        await sql.end();
      }
      const res = await deployments.recordDeployment({ ...base, deploymentName: "legacy", digest: legacy, status: DeploymentStatus.DECOMMISSIONED });
      expect(res.outcome).toBe(RecordOutcome.DECOMMISSIONED);
      expect((await failure(deployments.recordDeployment({ ...base, deploymentName: "legacy", digest: legacy }))).code).toBe(Code.FailedPrecondition);
    }
  });

  // ───────────── keys and the signature policy ─────────────

  describe("with signing keys", () => {
    it("registers ECDSA P-256 and Ed25519 public keys and refuses anything else", async () => {
      const a = (await keys.createKey({ publicKeyPem: ec.pem, name: "ci-ecdsa" })).key!;
      expect(a).toMatchObject({ name: "ci-ecdsa", algorithm: KeyAlgorithm.ECDSA_P256 });
      expect(a.fingerprint).toBe(sha256Of(ec.publicKey.export({ type: "spki", format: "der" })));
      const b = (await keys.createKey({ publicKeyPem: ed.pem })).key!;
      expect(b).toMatchObject({ algorithm: KeyAlgorithm.ED25519, name: `key-${b.fingerprint.slice(7, 19)}` });
      expect((await keys.listKeys({})).keys.map((k) => k.name).sort()).toEqual(["ci-ecdsa", b.name].sort());

      const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();
      const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ type: "spki", format: "pem" }).toString();
      const priv = ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      const refusals: Array<[string, Code, string]> = [
        [rsa, Code.InvalidArgument, "supported: ECDSA P-256 and Ed25519"],
        [p384, Code.InvalidArgument, "secp384r1"],
        [priv, Code.InvalidArgument, "private key"],
        ["not a key", Code.InvalidArgument, "PEM public key"],
        ["", Code.InvalidArgument, "required"],
        [ec.pem, Code.AlreadyExists, "ci-ecdsa"],
      ];
      for (const [pem, code, text] of refusals) {
        const res = await failure(keys.createKey({ publicKeyPem: pem, name: "refused" }));
        expect({ text, code: res.code }).toEqual({ text, code });
        expect(res.message).toContain(text);
      }
      expect((await failure(keys.createKey({ publicKeyPem: stranger.pem, name: "ci-ecdsa" }))).code).toBe(Code.AlreadyExists);
      expect((await failure(keys.deleteKey({ name: "no-such-key" }))).code).toBe(Code.NotFound);
      expect((await keys.listKeys({})).keys).toHaveLength(2);
    });

    it("accepts only envelopes signed by a registered key, and marks them verified", async () => {
      const before = await allAttestations();
      const refused: Array<[string, unknown, Code, string]> = [
        ["a bare statement", statement([digest("bare")]), Code.FailedPrecondition, "requires signed evidence"],
        ["a tampered payload", envelope(statement([digest("good")]), ec, { tamper: () => bytes(statement([digest("evil")])) }), Code.FailedPrecondition, "no signature"],
        ["an unregistered key", envelope(statement([digest("stranger")]), stranger), Code.FailedPrecondition, "no signature"],
        ["no signatures", { ...envelope(statement([digest("unsigned")]), ec), signatures: [] }, Code.FailedPrecondition, "no signatures"],
        ["a signature of another payloadType", { ...envelope(statement([digest("retyped")]), ec, { payloadType: "text/plain" }), payloadType: "application/vnd.in-toto+json" }, Code.FailedPrecondition, "no signature"],
        ["a wrong payloadType", envelope(statement([digest("retyped")]), ec, { payloadType: "application/json" }), Code.InvalidArgument, "payloadType"],
      ];
      for (const [what, doc, code, text] of refused) {
        const res = await failure(push(bytes(doc)));
        expect({ what, code: res.code }).toEqual({ what, code });
        expect({ what, message: res.message }).toEqual({ what, message: expect.stringContaining(text) });
      }
      expect(await allAttestations()).toEqual(before);
      for (const d of ["bare", "good", "evil", "stranger", "unsigned", "retyped"]) {
        expect(await allAttestations({ digest: digest(d) })).toEqual([]);
      }

      const viaEc = (await push(bytes(envelope(statement([digest("signed ecdsa")]), ec)), { projectVersion: "v2.0.0" })).attestation!;
      expect(viaEc).toMatchObject({ verified: true, verifiedKeyName: "ci-ecdsa", format: AttestationFormat.DSSE_ENVELOPE });
      expect(viaEc.verifiedKeyFingerprint).toBe(sha256Of(ec.publicKey.export({ type: "spki", format: "der" })));
      const viaEd = (await push(bytes(envelope(statement([digest("signed ed25519")]), ed, { keyid: "whatever" })))).attestation!;
      expect(viaEd.verified).toBe(true);
      expect(viaEd.verifiedKeyName).toMatch(/^key-/);
      // Several signatures: one that verifies is enough.
      const two = envelope(statement([digest("two signatures")]), ed);
      two.signatures.unshift(envelope(statement([digest("two signatures")]), stranger).signatures[0]);
      expect((await push(bytes(two))).attestation?.verified).toBe(true);

      // The envelope pushed unverified before any key existed verifies now: pushing it again marks it verified.
      const earlier = (await allAttestations({ digest: digest("signed before keys") }))[0];
      expect(earlier.verified).toBe(false);
      const repushed = await push(signedBeforeKeys);
      expect(repushed).toMatchObject({ created: false, attestation: { id: earlier.id, verified: true, verifiedKeyName: "ci-ecdsa" } });

      // An attestation stays verified after the key that verified it is deleted.
      const k = keyPair("ec");
      await keys.createKey({ publicKeyPem: k.pem, name: "late" });
      const env = envelope(statement([digest("late key")]), k);
      const first = (await push(bytes(env))).attestation!;
      expect(first.verified).toBe(true);
      await keys.deleteKey({ name: "late" });
      expect((await attestations.getAttestation({ id: first.id })).attestation).toMatchObject({ verified: true, verifiedKeyName: "late" });
    });

    it("shows the verified flag wherever evidence is shown", async () => {
      const signedDigest = digest("signed and deployed");
      await push(bytes(envelope(statement([signedDigest]), ec)), { project: "payments", projectVersion: "v3" });
      const rec = await deployments.recordDeployment({
        environment: "k8s-east",
        logicalEnvironment: "staging",
        deploymentName: "payments",
        kind: ArtifactKind.CONTAINER_IMAGE,
        digest: signedDigest,
      });
      const got = await deployments.getDeployment({ id: rec.deployment!.id });
      expect(got.evidence.map((e) => [e.project, e.verified])).toEqual([["payments", true]]);
      const described = await artifacts.describeArtifact({ digest: signedDigest });
      expect(described.evidence.map((e) => e.verified)).toEqual([true]);
      expect((await allAttestations({ digest: signedDigest })).map((a) => a.verified)).toEqual([true]);
      // Evidence pushed unverified earlier stays shown as unverified.
      expect((await artifacts.describeArtifact({ digest: digest("api-server v1.0.0") })).evidence.map((e) => e.verified)).toEqual([false]);
    });

    it("returns to accepting unverified evidence once every key is deleted", async () => {
      for (const k of (await keys.listKeys({})).keys) await keys.deleteKey({ name: k.name });
      expect((await keys.listKeys({})).keys).toEqual([]);
      const a = (await push(bytes(statement([digest("after keys")])))).attestation!;
      expect(a.verified).toBe(false);
      // What was verified stays verified.
      expect((await allAttestations({ digest: digest("signed ecdsa") }))[0]).toMatchObject({ verified: true, verifiedKeyName: "ci-ecdsa" });
    });
  });

  it("attests through the test helper, so other suites can record what they attest", async () => {
    const ds = [digest("helper 1"), digest("helper 2")];
    const a = await attest(served.url, ds, { project: "helper", version: "1" });
    expect(a.subjects.map((s) => s.digest)).toEqual(ds);
    const again = await attest(served.url, ds, { project: "helper", version: "1" });
    expect(again.id).toBe(a.id);
  });
});
