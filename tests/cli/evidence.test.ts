// The `chainloop` binary for evidence: attestation push (a file, and a statement built from
// flags, signed with --key), attestation list, key add/list/delete and artifact describe, as
// the real CLI process against a real server (one database backend: helpers/backends.ts clientBackends).
import { createHash, generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { clientBackends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { startRegistry } from "../helpers/registry.js";
import { serveFor } from "../helpers/served.js";
import { TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { runCli, type CliResult } from "./run-cli.js";
import { digest } from "../helpers/facts.js";
import { parseTable } from "./parse-output.js";

const ID = /^sha256:[0-9a-f]{64}$/;

/** `artifact describe`: the `Label: value` lines, then titled tables separated by blank lines. */
function parseDescribe(text: string): { fields: Record<string, string>; sections: Record<string, ReturnType<typeof parseTable>> } {
  const [head, ...blocks] = text.trimEnd().split("\n\n");
  const fields = Object.fromEntries(
    head.split("\n").map((line) => {
      const m = /^([A-Z][\w ]*):\s+(.*)$/.exec(line);
      if (!m) throw new Error(`not a field line: ${JSON.stringify(line)}`);
      return [m[1], m[2]];
    }),
  );
  const sections = Object.fromEntries(
    blocks.map((block) => {
      const [title, ...rest] = block.split("\n");
      return [title, parseTable(rest.join("\n"))];
    }),
  );
  return { fields, sections };
}

function ok(result: CliResult): string {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return result.stdout;
}

describe.each(clientBackends())("chainloop evidence commands on %s", (backend) => {
  const served = serveFor(backend);
  let dir: string;
  const chainloop = (...args: string[]) => runCli(args, { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });
  const file = (name: string, content: string | Buffer) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  const v100 = digest("api-server v1.0.0");
  const v110 = digest("api-server v1.1.0");
  const base = digest("node:20-alpine");

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-evidence-cli-"));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("pushes a provenance file as it is, idempotently", async () => {
    const provenance = JSON.stringify(
      {
        _type: "https://in-toto.io/Statement/v1",
        subject: [{ name: "ghcr.io/acme/api-server", digest: { sha256: v100.slice(7) } }],
        predicateType: "https://slsa.dev/provenance/v1",
        predicate: {
          buildDefinition: {
            buildType: "https://actions.github.io/buildtypes/workflow/v1",
            externalParameters: {},
            resolvedDependencies: [{ uri: "pkg:docker/node@20-alpine", digest: { sha256: base.slice(7) } }],
          },
          runDetails: { builder: { id: "https://github.com/actions/runner" } },
        },
      },
      null,
      2,
    );
    const p = file("provenance.json", provenance);
    const id = `sha256:${createHash("sha256").update(provenance).digest("hex")}`;
    const pushed = ok(await chainloop("attestation", "push", "--file", p, "--workflow", "release", "--project", "api-server", "--version", "v1.0.0"));
    expect(pushed).toBe(`attestation ${id} pushed: api-server v1.0.0 (workflow release), unverified; subjects: ${v100.slice(0, 19)}\n`);

    const again = JSON.parse(
      ok(await chainloop("attestation", "push", "--file", p, "--workflow", "release", "--project", "api-server", "--version", "v1.0.0", "-o", "json")),
    );
    expect(again).toMatchObject({
      id,
      workflow: "release",
      project: "api-server",
      projectVersion: "v1.0.0",
      verified: false,
      predicateType: "https://slsa.dev/provenance/v1",
      materialCount: 1,
      subjects: [{ digest: v100, name: "ghcr.io/acme/api-server", role: "ARTIFACT_ROLE_SUBJECT" }],
    });
    const stored = await chainloop("attestation", "describe", id, "--content");
    expect(stored).toEqual({ code: 0, stdout: provenance, stderr: "" });
  });

  it("builds a minimal statement from --subject, and refuses bad usage with exit code 2", async () => {
    const json = JSON.parse(
      ok(await chainloop("attestation", "push", "--subject", v110, "--subject", base, "--workflow", "release", "--project", "api-server", "--version", "v1.1.0", "-o", "json")),
    );
    expect(json).toMatchObject({
      id: expect.stringMatching(ID),
      predicateType: "https://chainloop.dev/attestation/minimal/v1",
      statementType: "https://in-toto.io/Statement/v1",
      format: "ATTESTATION_FORMAT_IN_TOTO_STATEMENT",
      projectVersion: "v1.1.0",
    });
    expect(json.subjects.map((s: { digest: string }) => s.digest)).toEqual([v110, base]);
    const doc = JSON.parse(ok(await chainloop("attestation", "describe", json.id, "--content")));
    expect(doc.predicate).toEqual({ workflow: "release", project: "api-server", version: "v1.1.0" });
    // Deterministic: the same flags make the same document.
    const again = ok(await chainloop("attestation", "push", "--subject", v110, "--subject", base, "--workflow", "release", "--project", "api-server", "--version", "v1.1.0"));
    expect(again).toContain(`attestation ${json.id} was already stored`);

    const usage: Array<[string[], RegExp]> = [
      [["--workflow", "w", "--project", "p"], /give --file, or at least one --subject/],
      [["--workflow", "w", "--project", "p", "--subject", "sha256:abc"], /--subject: digest "sha256:abc" has 3 hex digits/],
      [["--workflow", "w", "--project", "p", "--subject", v110, "--file", "x.json"], /cannot be combined/],
      [["--project", "p", "--subject", v110], /Missing required argument: workflow/],
    ];
    for (const [args, message] of usage) {
      const res = await chainloop("attestation", "push", ...args);
      expect({ args, code: res.code, stdout: res.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(res.stderr).toMatch(message);
    }
    const refused = await chainloop("attestation", "push", "--file", file("bad.json", "{not json"), "--workflow", "w", "--project", "p");
    expect(refused).toMatchObject({ code: 1, stdout: "" });
    expect(refused.stderr).toMatch(/^chainloop: invalid_argument: the document is not valid JSON/);
  });

  it("adds, lists and deletes keys, and signs with --key", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ed = generateKeyPairSync("ed25519");
    const ecPub = file("ec.pub", ec.publicKey.export({ type: "spki", format: "pem" }));
    const ecKey = file("ec.key", ec.privateKey.export({ type: "pkcs8", format: "pem" }));
    const edPub = file("ed.pub", ed.publicKey.export({ type: "spki", format: "pem" }));
    const edKey = file("ed.key", ed.privateKey.export({ type: "pkcs8", format: "pem" }));
    const fingerprint = (k: typeof ec.publicKey) => `sha256:${createHash("sha256").update(k.export({ type: "spki", format: "der" })).digest("hex")}`;

    expect(ok(await chainloop("key", "add", "--file", ecPub, "--name", "ci"))).toBe(`key "ci" added (ECDSA_P256, ${fingerprint(ec.publicKey)})\n`);
    const edJson = JSON.parse(ok(await chainloop("key", "add", "--file", edPub, "-o", "json")));
    expect(edJson).toMatchObject({ algorithm: "KEY_ALGORITHM_ED25519", fingerprint: fingerprint(ed.publicKey), name: expect.stringMatching(/^key-[0-9a-f]{12}$/) });

    const { headers, rows } = parseTable(ok(await chainloop("key", "list")));
    expect(headers).toEqual(["NAME", "ALGORITHM", "FINGERPRINT", "CREATED"]);
    expect(rows.map((r) => [r.NAME, r.ALGORITHM, r.FINGERPRINT])).toEqual(
      [
        ["ci", "ECDSA_P256", fingerprint(ec.publicKey)],
        [edJson.name, "ED25519", fingerprint(ed.publicKey)],
      ].sort((a, b) => a[0].localeCompare(b[0])),
    );
    const privateRefused = await chainloop("key", "add", "--file", ecKey, "--name", "oops");
    expect(privateRefused).toMatchObject({ code: 1, stdout: "" });
    expect(privateRefused.stderr).toMatch(/invalid_argument: .*private key/);

    // Keys exist: unsigned evidence is refused; --key signs it into a DSSE envelope that verifies.
    const d = digest("signed build");
    const unsigned = await chainloop("attestation", "push", "--subject", d, "--workflow", "release", "--project", "signed");
    expect(unsigned).toMatchObject({ code: 1, stdout: "" });
    expect(unsigned.stderr).toMatch(/^chainloop: failed_precondition: this organization requires signed evidence/);
    const signed = ok(await chainloop("attestation", "push", "--subject", d, "--workflow", "release", "--project", "signed", "--key", ecKey));
    expect(signed).toMatch(/^attestation sha256:[0-9a-f]{64} pushed: signed \(workflow release\), verified by key "ci"; subjects: /);
    const viaEd = JSON.parse(
      ok(await chainloop("attestation", "push", "--subject", digest("ed build"), "--workflow", "release", "--project", "signed", "--key", edKey, "-o", "json")),
    );
    expect(viaEd).toMatchObject({ verified: true, verifiedKeyName: edJson.name, format: "ATTESTATION_FORMAT_DSSE_ENVELOPE" });
    const envelope = JSON.parse(ok(await chainloop("attestation", "describe", viaEd.id, "--content")));
    expect(envelope).toMatchObject({ payloadType: "application/vnd.in-toto+json", signatures: [{ keyid: fingerprint(ed.publicKey) }] });

    // A statement file signed with --key.
    const statementFile = file("statement.json", JSON.stringify({
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: "file", digest: { sha256: digest("file build").slice(7) } }],
      predicateType: "https://example.com/test/v1",
    }));
    const fromFile = JSON.parse(ok(await chainloop("attestation", "push", "--file", statementFile, "--workflow", "release", "--project", "signed", "--key", edKey, "-o", "json")));
    expect(fromFile.verified).toBe(true);

    expect(ok(await chainloop("key", "delete", "ci"))).toBe('key "ci" deleted\n');
    expect(await chainloop("key", "delete", "--name", edJson.name, "-o", "json")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(JSON.parse(ok(await chainloop("key", "list", "-o", "json")))).toEqual([]);
    const gone = await chainloop("key", "delete", "ci");
    expect(gone).toMatchObject({ code: 1, stdout: "" });
    expect(gone.stderr).toMatch(/not_found: key "ci" not found/);
  });

  it("attests images and charts by reference (--subject-oci-ref), resolved on this machine", async () => {
    const reg = await startRegistry();
    try {
      const image = await reg.pushImage("acme/worker", "v2");
      const chart = await reg.pushHelmChart("acme/charts/worker", "0.2.0");
      const viaRef = JSON.parse(
        ok(await chainloop("attestation", "push", "--subject-oci-ref", `${reg.host}/acme/worker:v2`, "--workflow", "release", "--project", "worker", "--version", "v2", "-o", "json")),
      );
      expect(viaRef.subjects).toEqual([{ digest: image.digest, name: `${reg.host}/acme/worker:v2`, role: "ARTIFACT_ROLE_SUBJECT" }]);
      const helm = JSON.parse(
        ok(await chainloop("attestation", "push", "--subject-oci-ref", `oci://${reg.host}/acme/charts/worker:0.2.0`, "--kind", "HELM_CHART", "--workflow", "release", "--project", "worker", "--version", "v2", "-o", "json")),
      );
      expect(helm.subjects.map((x: { digest: string }) => x.digest)).toEqual([chart.digest]);
      // The kind check of the resolver: a chart is not a container image.
      const wrongKind = await chainloop("attestation", "push", "--subject-oci-ref", `${reg.host}/acme/charts/worker:0.2.0`, "--workflow", "release", "--project", "worker");
      expect(wrongKind).toMatchObject({ code: 1, stdout: "" });
      expect(wrongKind.stderr).toMatch(/^chainloop: .*Helm chart/);
      expect(JSON.parse(ok(await chainloop("attestation", "list", "--project", "worker", "-o", "json")))).toHaveLength(2);
    } finally {
      await reg.stop();
    }
  });

  it("lists attestations with filters", async () => {
    const all = JSON.parse(ok(await chainloop("attestation", "list", "-o", "json")));
    expect(all.length).toBeGreaterThanOrEqual(5);
    const { headers, rows } = parseTable(ok(await chainloop("attestation", "list", "--project", "api-server")));
    expect(headers).toEqual(["ID", "WORKFLOW", "PROJECT", "VERSION", "SUBJECTS", "VERIFIED", "PREDICATE", "PUSHED"]);
    expect(rows.map((r) => [r.PROJECT, r.VERSION, r.VERIFIED])).toEqual([
      ["api-server", "v1.1.0", "no"],
      ["api-server", "v1.0.0", "no"],
    ]);
    const byVersion = JSON.parse(ok(await chainloop("attestation", "list", "--project", "api-server", "--version", "v1.0.0", "-o", "json")));
    expect(byVersion.map((a: { projectVersion: string }) => a.projectVersion)).toEqual(["v1.0.0"]);
    const byDigest = JSON.parse(ok(await chainloop("attestation", "list", "--digest", base, "-o", "json")));
    expect(byDigest).toHaveLength(2); // a material of v1.0.0's provenance, a subject of the v1.1.0 statement
    const verified = JSON.parse(ok(await chainloop("attestation", "list", "--project", "signed", "-o", "json")));
    expect(verified.map((a: { verified: boolean }) => a.verified)).toEqual([true, true, true]);
    const paged = await chainloop("attestation", "list", "--limit", "1");
    expect(paged.code).toBe(0);
    expect(parseTable(paged.stdout).rows).toHaveLength(1);
    expect(paged.stderr).toMatch(/more attestations exist: add --page-token \S+/);
  });

  it("describes an artifact: where it runs, where it ran, and what produced it", async () => {
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "k8s-east" });
    const record = async (lenv: string, d: string) =>
      JSON.parse(
        ok(await chainloop("deployment", "record", "--env", "k8s-east", "--logical-env", lenv, "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE", "--digest", d, "-o", "json")),
      ).deployment as { id: string };
    const staging = { deployment: await record("staging", v100) };
    const prod = { deployment: await record("production", v100) };
    const prod2 = await record("production", v110);

    // A digest nobody attested cannot be recorded; the error says how to attest it.
    const rogue = digest("built on a laptop");
    const refused = await chainloop("deployment", "record", "--env", "k8s-east", "--logical-env", "production", "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE", "--digest", rogue);
    expect(refused).toMatchObject({ code: 1, stdout: "" });
    expect(refused.stderr).toMatch(new RegExp(`^chainloop: failed_precondition: ${rogue} has no evidence.*chainloop attestation push --subject ${rogue}`));

    const { fields, sections } = parseDescribe(ok(await chainloop("artifact", "describe", "--digest", v100)));
    expect(fields).toEqual({
      Digest: v100,
      "Running in": expect.stringMatching(/^k8s-east\/staging api-server \(since (just now|\d+s ago)\)$/),
      "Produced by": "api-server v1.0.0 (workflow release, unverified)",
      Evidence: expect.stringMatching(/^1 attestation mention, 0 verified: sha256:[0-9a-f]{12}$/),
    });
    expect(Object.keys(sections)).toEqual(["RUNNING NOW", "RAN BEFORE", "EVIDENCE"]);
    expect(sections["RUNNING NOW"].rows.map((r) => [r.ENVIRONMENT, r["LOGICAL-ENV"], r.DEPLOYMENT, r.KIND, r.RECORD])).toEqual([
      ["k8s-east", "staging", "api-server", "CONTAINER_IMAGE", staging.deployment!.id],
    ]);
    expect(sections["RAN BEFORE"].rows.map((r) => [r["LOGICAL-ENV"], r.STATUS, r.RECORD])).toEqual([
      ["production", "superseded", prod.deployment!.id],
    ]);
    expect(sections["EVIDENCE"].rows.map((r) => [r.ROLE, r.PROJECT, r.VERSION, r.WORKFLOW, r.VERIFIED])).toEqual([
      ["subject", "api-server", "v1.0.0", "release", "no"],
    ]);

    // The base image: used to build v1.0.0 (material) and attested itself in the v1.1.0 statement.
    const baseOut = parseDescribe(ok(await chainloop("artifact", "describe", base)));
    expect(baseOut.fields).toMatchObject({
      "Running in": "nowhere now",
      "Produced by": "api-server v1.1.0 (workflow release, unverified)",
      "Used to build": "api-server v1.0.0 (workflow release, unverified)",
    });

    const json = JSON.parse(ok(await chainloop("artifact", "describe", v100, "-o", "json")));
    expect(json).toMatchObject({ digest: v100, moreEvidence: false, moreDeployments: false });
    expect(json.evidence).toEqual([
      expect.objectContaining({ role: "ARTIFACT_ROLE_SUBJECT", project: "api-server", projectVersion: "v1.0.0", workflow: "release", verified: false }),
    ]);
    expect(json.deployments.map((d: { logicalEnvironment: string; status: string }) => [d.logicalEnvironment, d.status])).toEqual([
      ["production", "DEPLOYMENT_STATUS_SUPERSEDED"],
      ["staging", "DEPLOYMENT_STATUS_DEPLOYED"],
    ]);

    // deployment describe carries the same evidence, in table mode and in the JSON.
    const described = ok(await chainloop("deployment", "describe", prod2.id));
    expect(described).toMatch(/^Produced by: +api-server v1\.1\.0 \(workflow release, unverified\)$/m);
    expect(described).toMatch(/^Evidence: +1 attestation mention, 0 verified: sha256:[0-9a-f]{12}$/m);
    const describedJson = JSON.parse(ok(await chainloop("deployment", "describe", prod2.id, "-o", "json")));
    expect(describedJson.deployment).toMatchObject({ id: prod2.id, digest: v110 });
    expect(describedJson.evidence).toEqual([expect.objectContaining({ project: "api-server", projectVersion: "v1.1.0", role: "ARTIFACT_ROLE_SUBJECT", verified: false })]);

    const unknown = await chainloop("artifact", "describe", digest("never seen"));
    expect(unknown).toMatchObject({ code: 1, stdout: "" });
    expect(unknown.stderr).toMatch(/^chainloop: not_found: nothing is known about sha256:/);
    expect(unknown.stderr.split("\n")).toHaveLength(2);
  });
});
