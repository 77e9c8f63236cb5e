// EnvironmentService's refusals through the real routes and interceptors, on in-memory
// repositories (tests/helpers/handler-router.ts): bad names and descriptions, unknown update
// paths, unknown names, built-in logical environments and page-token misuse, each with its
// code, and nothing changed by a refusal. What needs a database or the wire stays in
// tests/integration/environments.test.ts.
import { Code } from "@connectrpc/connect";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { codeOf, failure } from "../helpers/facts.js";
import { handlerRouter } from "../helpers/handler-router.js";

describe("EnvironmentService (handlers, in memory)", () => {
  let router: ReturnType<typeof handlerRouter>;
  let client: ReturnType<typeof router.client<typeof EnvironmentService>>;

  beforeEach(async () => {
    router = handlerRouter();
    client = router.client(EnvironmentService, await router.mint("admin"));
  });

  it("refuses duplicates, bad names, long descriptions and unknown update paths, changing nothing", async () => {
    await client.createEnvironment({ name: "dup", description: "first" });
    await expect(client.createEnvironment({ name: "dup", description: "second" })).rejects.toMatchObject({
      code: Code.AlreadyExists,
      rawMessage: 'environment "dup" already exists',
    });
    expect((await client.getEnvironment({ name: "dup" })).environment?.description).toBe("first");

    for (const name of ["Bad Name", "", "-lead", "trail-", "UPPER", "a".repeat(64), "under_score", "dot.ted"]) {
      expect(await codeOf(client.createEnvironment({ name }))).toBe(Code.InvalidArgument);
    }
    expect(await codeOf(client.createEnvironment({ name: "long-desc", description: "x".repeat(1025) }))).toBe(Code.InvalidArgument);
    await client.createEnvironment({ name: "a".repeat(63) }); // the longest valid name
    expect(
      await codeOf(client.updateEnvironment({ environment: { name: "dup", description: "x" }, updateMask: { paths: ["name"] } })),
    ).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateEnvironment({ environment: { name: "nope", description: "x" } }))).toBe(Code.NotFound);
    expect(await codeOf(client.deleteEnvironment({ name: "nope" }))).toBe(Code.NotFound);

    const names = (await client.listEnvironments({ pageSize: 1000 })).environments.map((e) => e.name);
    expect(names).toEqual(["a".repeat(63), "dup"]);
    expect((await client.getEnvironment({ name: "dup" })).environment?.description).toBe("first");
    // Only the two creations were audited.
    expect(router.audit.entries.map((e) => `${e.action} ${e.resourceName}`)).toEqual([
      "environment.create dup",
      `environment.create ${"a".repeat(63)}`,
    ]);
  });

  it("says what to do about an unknown environment", async () => {
    expect(await failure(client.getEnvironment({ name: "missing" }))).toEqual({
      code: Code.NotFound,
      message: 'environment "missing" not found; create it with: chainloop environment create --name missing',
    });
  });

  it("rejects a page token replayed with another query, garbage tokens and a negative page size", async () => {
    for (let i = 0; i < 4; i++) await client.createEnvironment({ name: `page-${i}`, description: "cluster" });
    const first = await client.listEnvironments({ pageSize: 2, query: "cluster" });
    expect(first.nextPageToken).not.toBe("");
    await expect(client.listEnvironments({ pageSize: 2, query: "odd", pageToken: first.nextPageToken })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("different query"),
    });
    for (const pageToken of ["garbage!", "eyJ2IjoxfQ", Buffer.from('{"v":1,"f":"x","a":[1]}').toString("base64url")]) {
      expect(await codeOf(client.listEnvironments({ pageToken }))).toBe(Code.InvalidArgument);
    }
    expect(await codeOf(client.listEnvironments({ pageSize: -1 }))).toBe(Code.InvalidArgument);
    // The same token with the same query goes on.
    const second = await client.listEnvironments({ pageSize: 2, query: "cluster", pageToken: first.nextPageToken });
    expect(second.environments.map((e) => e.name)).toEqual(["page-2", "page-3"]);
  });

  it("refuses logical environments that exist, have bad names, are built in or are unknown", async () => {
    await client.createLogicalEnvironment({ name: "qa", description: "Quality assurance" });
    expect(await codeOf(client.createLogicalEnvironment({ name: "qa" }))).toBe(Code.AlreadyExists);
    expect(await codeOf(client.createLogicalEnvironment({ name: "Q A" }))).toBe(Code.InvalidArgument);
    for (const name of ["development", "staging", "production"]) {
      expect(await failure(client.deleteLogicalEnvironment({ name }))).toEqual({
        code: Code.FailedPrecondition,
        message: `logical environment "${name}" is built in and cannot be deleted`,
      });
    }
    expect(await codeOf(client.deleteLogicalEnvironment({ name: "nope" }))).toBe(Code.NotFound);
    expect((await client.listLogicalEnvironments({})).logicalEnvironments.map((l) => [l.name, l.builtIn])).toEqual([
      ["development", true],
      ["staging", true],
      ["production", true],
      ["qa", false],
    ]);
  });

  it("keeps organizations apart: another organization's environment does not exist for the caller", async () => {
    await client.createEnvironment({ name: "ours-only" });
    const theirs = router.client(EnvironmentService, await router.mint("admin", { orgId: "00000000-0000-4000-8000-000000000002" }));
    expect(await codeOf(theirs.getEnvironment({ name: "ours-only" }))).toBe(Code.NotFound);
    expect((await theirs.listEnvironments({})).environments).toEqual([]);
  });
});
