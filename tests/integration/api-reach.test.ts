// Reaching the API without our CLI or generated code: gRPC server reflection (v1 and v1alpha,
// over gRPC and Connect, with `buf curl` as the tool and a reflection client of our own), and
// Connect GET for the side-effect-free methods (plain HTTP, and a Connect client told to use
// GET). Reflection is open; everything else keeps its scopes.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { createFileRegistry, create, fromBinary, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, MethodOptions_IdempotencyLevel, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport as createWebConnectTransport } from "@connectrpc/connect-web";
import { ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { ArtifactService } from "../../gen/proto/chainloop/v1/artifact_pb.js";
import { AttestationService } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { DeliveryMetricsService } from "../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import { DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { KeyService } from "../../gen/proto/chainloop/v1/key_pb.js";
import { PromotionPolicyService } from "../../gen/proto/chainloop/v1/policy_pb.js";
import { ServerInfoService } from "../../gen/proto/chainloop/v1/server_info_pb.js";
import { WebhookService } from "../../gen/proto/chainloop/v1/webhook_pb.js";
import { Health } from "../../gen/proto/grpc/health/v1/health_pb.js";
import * as reflectionV1 from "../../gen/proto/grpc/reflection/v1/reflection_pb.js";
import * as reflectionV1alpha from "../../gen/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { backends } from "../helpers/backends.js";
import { bearer, connectClient } from "../helpers/clients.js";
import { serveFor } from "../helpers/served.js";
import { ROOT, TEST_ADMIN_TOKEN } from "../helpers/server.js";

const run = promisify(execFile);
const BUF = path.join(ROOT, "node_modules/.bin/buf");
const CHAINLOOP_SERVICES: DescService[] = [
  EnvironmentService,
  DeploymentService,
  DeliveryMetricsService,
  ApiTokenService,
  AttestationService,
  KeyService,
  ArtifactService,
  PromotionPolicyService,
  WebhookService,
  ServerInfoService,
];
const SERVED = [...CHAINLOOP_SERVICES, Health, reflectionV1.ServerReflection, reflectionV1alpha.ServerReflection];

/** The files ordered so that each comes after the files it imports (as a FileDescriptorSet wants them); throws if one is missing. */
function importsFirst(files: FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const out: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (f: FileDescriptorProto) => {
    if (done.has(f.name)) return;
    done.add(f.name);
    for (const dep of f.dependency) {
      const d = byName.get(dep);
      if (!d) throw new Error(`${f.name} imports ${dep}, which the answer did not carry`);
      visit(d);
    }
    out.push(f);
  };
  files.forEach(visit);
  return out;
}

/** `buf curl` against the server; resolves with stdout, or with the failure's output. */
async function bufCurl(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout } = await run(BUF, ["curl", "--http2-prior-knowledge", ...args], { cwd: ROOT, timeout: 30_000 });
    return { ok: true, out: stdout };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

test("the side-effect-free methods, and only they, may be called with GET (NO_SIDE_EFFECTS)", () => {
  const reads = /^(Get|List|Describe|Diff)/;
  for (const service of CHAINLOOP_SERVICES) {
    for (const m of service.methods) {
      const noSideEffects = m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
      expect([`${service.typeName}/${m.name}`, noSideEffects]).toEqual([`${service.typeName}/${m.name}`, m.methodKind === "unary" && reads.test(m.name)]);
    }
  }
});

describe.each(backends())("reflection and GET against a server on %s", (backend) => {
  const served = serveFor(backend);

  beforeAll(async () => {
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "k8s-east", description: "US-East" });
  });

  const versions = ["grpc-v1", "grpc-v1alpha"] as const;
  const protocols = ["grpc", "connect"] as const;

  test.each(versions.flatMap((v) => protocols.map((p) => [v, p] as const)))(
    "buf curl lists services and methods through reflection (%s over %s), without a token",
    async (version, protocol) => {
      const services = await bufCurl(["--protocol", protocol, "--reflect-protocol", version, "--list-services", served.url]);
      expect(services).toEqual({ ok: true, out: SERVED.map((s) => s.typeName).sort().join("\n") + "\n" });
      const methods = await bufCurl(["--protocol", protocol, "--reflect-protocol", version, "--list-methods", served.url]);
      expect(methods.ok).toBe(true);
      const expected = SERVED.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`)).sort();
      expect(methods.out.trim().split("\n")).toEqual(expected);
    },
  );

  test.each(versions.flatMap((v) => protocols.map((p) => [v, p] as const)))(
    "buf curl calls a method with no schema but reflection (%s over %s); the method still needs its token",
    async (version, protocol) => {
      const url = `${served.url}/chainloop.v1.EnvironmentService/ListEnvironments`;
      const base = ["--protocol", protocol, "--reflect-protocol", version, "-d", '{"query":"east"}'];
      const ok = await bufCurl([...base, "-H", `Authorization: Bearer ${TEST_ADMIN_TOKEN}`, url]);
      expect(ok.ok).toBe(true);
      expect(JSON.parse(ok.out)).toMatchObject({ environments: [{ name: "k8s-east", description: "US-East" }] });
      const denied = await bufCurl([...base, url]);
      expect(denied.ok).toBe(false);
      expect(denied.out).toMatch(/unauthenticated/);
    },
  );

  test.each([
    ["v1", reflectionV1],
    ["v1alpha", reflectionV1alpha],
  ] as const)("one %s stream answers each request in order: files with their imports once, NOT_FOUND for unknown names", async (_, version) => {
    const client = createClient(version.ServerReflection, createGrpcTransport({ baseUrl: served.url }));
    const requests: Array<Parameters<typeof create<typeof version.ServerReflectionRequestSchema>>[1]> = [
      { messageRequest: { case: "fileContainingSymbol", value: "chainloop.v1.DeploymentService.RecordDeployment" } },
      { messageRequest: { case: "fileContainingSymbol", value: "chainloop.v1.Nope" } },
      { messageRequest: { case: "fileContainingSymbol", value: "chainloop.v1.Deployment.digest" } },
      { messageRequest: { case: "fileByFilename", value: "chainloop/v1/environment.proto" } },
      { messageRequest: { case: "listServices", value: "" } },
    ];
    async function* send() {
      for (const r of requests) yield create(version.ServerReflectionRequestSchema, r);
    }
    const answers: Array<reflectionV1.ServerReflectionResponse | reflectionV1alpha.ServerReflectionResponse> = [];
    for await (const res of client.serverReflectionInfo(send())) answers.push(res);
    expect(answers.map((a) => a.messageResponse.case)).toEqual([
      "fileDescriptorResponse",
      "errorResponse",
      "fileDescriptorResponse",
      "fileDescriptorResponse",
      "listServicesResponse",
    ]);
    const files = (i: number) =>
      answers[i].messageResponse.case === "fileDescriptorResponse"
        ? answers[i].messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b))
        : [];
    // The first answer carries the file and everything it imports, enough to build a registry that
    // knows the method, with its options.
    const first = files(0);
    expect(first[0].name).toBe("chainloop/v1/deployment.proto");
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: importsFirst(first) }));
    const service = registry.getService("chainloop.v1.DeploymentService");
    expect(service?.methods.map((m) => m.name)).toEqual(DeploymentService.methods.map((m) => m.name));
    expect(service?.methods.find((m) => m.name === "ListDeployments")?.idempotency).toBe(MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS);
    expect(answers[1].messageResponse.value).toMatchObject({ errorCode: 5, errorMessage: 'symbol "chainloop.v1.Nope" not found' });
    // Files already sent on this stream are not sent again: deployment.proto was, so the field's
    // file comes back empty; environment.proto comes with only the imports not sent yet, and
    // everything sent on the stream together resolves.
    expect(files(2)).toEqual([]);
    const sentFirst = new Set(first.map((f) => f.name));
    const third = files(3).map((f) => f.name);
    expect(third[0]).toBe("chainloop/v1/environment.proto");
    expect(third.filter((name) => sentFirst.has(name))).toEqual([]);
    expect(() => importsFirst([...first, ...files(3)])).not.toThrow();
    expect(answers[4].messageResponse.case === "listServicesResponse" && answers[4].messageResponse.value.service.map((s) => s.name)).toEqual(
      SERVED.map((s) => s.typeName).sort(),
    );
  });

  test("read methods answer plain HTTP GET (Connect), write methods refuse it, and both keep their token", async () => {
    const message = encodeURIComponent(JSON.stringify({ query: "east" }));
    const url = `${served.url}/chainloop.v1.EnvironmentService/ListEnvironments?connect=v1&encoding=json&message=${message}`;
    const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const ok = await fetch(url, { headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ environments: [{ name: "k8s-east" }] });

    const noToken = await fetch(url);
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ code: "unauthenticated" });

    const write = await fetch(`${served.url}/chainloop.v1.EnvironmentService/CreateEnvironment?connect=v1&encoding=json&message=${encodeURIComponent('{"name":"via-get"}')}`, { headers: auth });
    expect(write.status).toBe(405);
    expect(await write.json()).toMatchObject({ code: "unimplemented", message: expect.stringMatching(/called with POST.*also with GET/) });

    const bare = await fetch(`${served.url}/chainloop.v1.EnvironmentService/ListEnvironments`, { headers: auth });
    expect(bare.status).toBe(415);
    expect(await bare.json()).toMatchObject({ message: expect.stringMatching(/encoding=json\|proto&message=/) });
    // The refused GET wrote nothing.
    const all = await connectClient(EnvironmentService, served.url).listEnvironments({});
    expect(all.environments.map((e) => e.name)).toEqual(["k8s-east"]);
  });

  test("a Connect client told to use GET reads through it (connect-web, as in a browser)", async () => {
    const methods: string[] = [];
    const client = createClient(
      DeploymentService,
      createWebConnectTransport({
        baseUrl: served.url,
        useHttpGet: true,
        interceptors: bearer(TEST_ADMIN_TOKEN),
        fetch: (input, init) => {
          methods.push(init?.method ?? "GET");
          return fetch(input, init);
        },
      }),
    );
    const page = await client.listDeployments({ environment: "k8s-east" });
    expect(page.deployments).toEqual([]);
    await expect(client.getDeployment({ id: "7d444840-9dc0-11d1-b245-5ffdce74fad2" })).rejects.toMatchObject({ code: 5 });
    expect(methods).toEqual(["GET", "GET"]);
  });
});
