// Authentication and scopes of every protected method, through the real routes, scope tables
// and auth interceptor (server/routes.ts, server/interceptors/caller.ts) on in-memory tokens:
// missing, unknown, revoked, expired and malformed credentials are UNAUTHENTICATED; too small a
// scope is PERMISSION_DENIED, naming the scope needed. Over the wire (Connect and gRPC) the same
// codes are checked in tests/integration/auth.test.ts.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { PROTECTED } from "../../server/routes.js";
import { outcome } from "../helpers/facts.js";
import { handlerRouter, type Credential } from "../helpers/handler-router.js";

const methods = PROTECTED.flatMap(({ service, scopes }) =>
  service.methods.map((m) => ({ service, method: m, scope: scopes[m.localName], label: `${service.name}/${m.name}` })),
);

describe("authorization (handlers, in memory)", () => {
  const router = handlerRouter();
  const tokens: Record<"read" | "write" | "revoked" | "expired", string> = { read: "", write: "", revoked: "", expired: "" };

  /** Calls `method` with an empty request, whatever its kind, and reports the outcome. */
  function callAny(service: DescService, method: DescMethod, credential: Credential) {
    const client = router.client(service, credential) as unknown as Record<string, (req: object) => Promise<unknown> | AsyncIterable<unknown>>;
    const res = client[method.localName]({});
    if (method.methodKind === "unary") return outcome(res as Promise<unknown>);
    return outcome(
      (async () => {
        for await (const _ of res as AsyncIterable<unknown>) break;
      })(),
    );
  }

  beforeAll(async () => {
    tokens.read = await router.mint("read");
    tokens.write = await router.mint("write");
    tokens.revoked = await router.mint("admin", { revoked: true });
    tokens.expired = await router.mint("admin", { expiresAt: new Date(Date.now() - 1000) });
  });

  it.each(methods)("$label refuses bad tokens and too small a scope", async ({ service, method, scope }) => {
    const cases: Array<[string | null, Code]> = [
      [null, Code.Unauthenticated],
      ["clp_not-a-real-token-at-all-000000000000", Code.Unauthenticated],
      [tokens.revoked, Code.Unauthenticated],
      [tokens.expired, Code.Unauthenticated],
    ];
    for (const [token, code] of cases) {
      const res = await callAny(service, method, token);
      expect({ token: token?.slice(0, 8) ?? null, res }).toMatchObject({ res: { code } });
    }
    // A malformed header, not a bearer token at all.
    const basic = await callAny(service, method, { header: "Basic dXNlcjpwYXNz" });
    expect(basic).toMatchObject({ code: Code.Unauthenticated, message: expect.stringContaining("Bearer") });

    const read = await callAny(service, method, tokens.read);
    const write = await callAny(service, method, tokens.write);
    if (scope === "read") {
      expect(read === "ok" || ![Code.Unauthenticated, Code.PermissionDenied].includes(read.code)).toBe(true);
    } else {
      expect(read).toMatchObject({ code: Code.PermissionDenied, message: expect.stringContaining(`${scope} scope`) });
    }
    if (scope === "admin") expect(write).toMatchObject({ code: Code.PermissionDenied });
    else expect(write === "ok" || ![Code.Unauthenticated, Code.PermissionDenied].includes(write.code)).toBe(true);
  });

  it("declares the intended scope for the key methods", () => {
    const scopeOf = (label: string) => methods.find((m) => m.label === label)?.scope;
    expect(scopeOf("DeploymentService/RecordDeployment")).toBe("write");
    expect(scopeOf("DeploymentService/ListDeployments")).toBe("read");
    expect(scopeOf("EnvironmentService/CreateEnvironment")).toBe("admin");
    expect(scopeOf("ApiTokenService/CreateApiToken")).toBe("admin");
    expect(methods.every((m) => ["read", "write", "admin"].includes(m.scope))).toBe(true);
  });
});
