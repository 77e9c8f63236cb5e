// The reference grammar of --oci-ref (distribution/reference), Docker Hub normalization, Helm's
// oci:// form and digests; plus the small parsers the registry client relies on.
import { OciError, isLoopbackHost, normalizeRegistryHost, parseChallenges, parseOciReference } from "../../cli/oci/index.js";

const SHA256 = `sha256:${"a".repeat(64)}`;
const SHA512 = `sha512:${"b".repeat(128)}`;

function parses(input: string) {
  const r = parseOciReference(input);
  return { registry: r.registry, apiHost: r.apiHost, repository: r.repository, tag: r.tag, digest: r.digest?.value, normalized: r.normalized };
}

function reason(input: string): string {
  try {
    parseOciReference(input);
  } catch (e) {
    expect(e).toBeInstanceOf(OciError);
    expect((e as OciError).reason).toBe("INVALID_REFERENCE");
    expect((e as OciError).message).not.toMatch(/\n/);
    return (e as OciError).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe("parseOciReference: Docker Hub normalization", () => {
  it.each([
    ["nginx", "docker.io", "library/nginx", "latest", "docker.io/library/nginx:latest"],
    ["nginx:1.27", "docker.io", "library/nginx", "1.27", "docker.io/library/nginx:1.27"],
    ["library/nginx", "docker.io", "library/nginx", "latest", "docker.io/library/nginx:latest"],
    ["bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", "docker.io/bitnami/redis:7.2"],
    ["docker.io/nginx", "docker.io", "library/nginx", "latest", "docker.io/library/nginx:latest"],
    ["index.docker.io/nginx:1", "docker.io", "library/nginx", "1", "docker.io/library/nginx:1"],
    ["index.docker.io/acme/app:v1", "docker.io", "acme/app", "v1", "docker.io/acme/app:v1"],
    ["docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", "docker.io/library/nginx:latest"],
    ["a/b/c", "docker.io", "a/b/c", "latest", "docker.io/a/b/c:latest"],
    ["my-registry/app", "docker.io", "my-registry/app", "latest", "docker.io/my-registry/app:latest"], // no "." or ":": a Docker Hub user
  ])("%s → %s/%s:%s", (input, registry, repository, tag, normalized) => {
    expect(parses(input)).toEqual({ registry, apiHost: "registry-1.docker.io", repository, tag, digest: undefined, normalized });
  });

  it("reaches Docker Hub at registry-1.docker.io but names it docker.io", () => {
    const r = parseOciReference("nginx");
    expect(r.apiHost).toBe("registry-1.docker.io");
    expect(r.name).toBe("docker.io/library/nginx");
  });
});

describe("parseOciReference: registries", () => {
  it.each([
    ["ghcr.io/my-org/api-server:v1.2.0", "ghcr.io", "my-org/api-server", "v1.2.0"],
    ["localhost/app", "localhost", "app", "latest"],
    ["localhost:5000/app:dev", "localhost:5000", "app", "dev"],
    ["127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest"],
    ["[::1]:5000/app:1", "[::1]:5000", "app", "1"],
    ["[2001:db8::1]/app", "[2001:db8::1]", "app", "latest"],
    ["registry.example.com:443/a/b/c/d:tag", "registry.example.com:443", "a/b/c/d", "tag"],
    ["Registry/app", "Registry", "app", "latest"], // an uppercase first component is a host
    ["xn--bcher-kva.example/app", "xn--bcher-kva.example", "app", "latest"],
    ["quay.io/a__b/c-d/e.f/g---h:1_0", "quay.io", "a__b/c-d/e.f/g---h", "1_0"],
  ])("%s", (input, registry, repository, tag) => {
    const r = parses(input);
    expect(r).toMatchObject({ registry, apiHost: registry, repository, tag });
    expect(r.normalized).toBe(`${registry}/${repository}:${tag}`);
  });
});

describe("parseOciReference: tags and digests", () => {
  it("keeps a digest, and adds no :latest when there is one", () => {
    expect(parses(`ghcr.io/acme/app@${SHA256}`)).toMatchObject({ tag: undefined, digest: SHA256, normalized: `ghcr.io/acme/app@${SHA256}` });
    expect(parses(`nginx@${SHA256}`)).toMatchObject({ repository: "library/nginx", tag: undefined, normalized: `docker.io/library/nginx@${SHA256}` });
  });

  it("keeps both tag and digest", () => {
    expect(parses(`ghcr.io/acme/app:v1@${SHA256}`)).toMatchObject({ tag: "v1", digest: SHA256, normalized: `ghcr.io/acme/app:v1@${SHA256}` });
    expect(parses(`localhost:5000/app:v1@${SHA512}`)).toMatchObject({ registry: "localhost:5000", tag: "v1", digest: SHA512 });
  });

  it("accepts tags of up to 128 word characters, dots and dashes", () => {
    expect(parses(`app:${"x".repeat(128)}`).tag).toHaveLength(128);
    expect(parses("app:_private").tag).toBe("_private");
    expect(parses("app:V1.2.3-RC1").tag).toBe("V1.2.3-RC1");
  });

  it("uses the digest parser of server/shared/digest.ts", () => {
    expect(reason(`app@sha256:${"A".repeat(64)}`)).toMatch(/lowercase hex/);
    expect(reason(`app@sha256:${"a".repeat(63)}`)).toMatch(/63 hex digits; sha256 needs 64/);
    expect(reason(`app@md5:${"a".repeat(32)}`)).toMatch(/unsupported algorithm "md5"/);
    expect(reason("app@sha256:xyz")).toMatch(/not hex digits/);
    expect(reason("app@abc")).toMatch(/no algorithm prefix/);
  });
});

describe("parseOciReference: Helm's oci:// form", () => {
  it("always takes the first component as the registry", () => {
    const r = parseOciReference("oci://ghcr.io/acme/charts/api:1.2.3");
    expect(r).toMatchObject({ registry: "ghcr.io", repository: "acme/charts/api", tag: "1.2.3", ociScheme: true, normalized: "ghcr.io/acme/charts/api:1.2.3" });
    expect(parseOciReference("oci://myregistry/chart").registry).toBe("myregistry"); // no Docker Hub default after oci://
    expect(parseOciReference("oci://localhost:5000/chart:0.1.0")).toMatchObject({ registry: "localhost:5000", repository: "chart" });
  });

  it("stores semver build metadata with _ as Helm does, and keeps + in the version", () => {
    const r = parseOciReference("oci://ghcr.io/acme/chart:1.2.3+build.7");
    expect(r.tag).toBe("1.2.3+build.7");
    expect(r.registryTag).toBe("1.2.3_build.7");
    expect(r.normalized).toBe("ghcr.io/acme/chart:1.2.3_build.7");
    expect(reason("ghcr.io/acme/chart:1.2.3+build")).toMatch(/tag "1.2.3\+build" is invalid/); // only in the oci:// form
  });

  it("normalizes Docker Hub in the oci:// form too", () => {
    expect(parseOciReference("oci://index.docker.io/bitnamicharts/redis:18.0.0")).toMatchObject({
      registry: "docker.io",
      apiHost: "registry-1.docker.io",
      repository: "bitnamicharts/redis",
    });
  });

  it("refuses oci:// without a repository, and other schemes", () => {
    expect(reason("oci://ghcr.io")).toMatch(/oci:\/\/host\[:port\]\/repository/);
    expect(reason("oci://ghcr.io/")).toMatch(/repository path after the registry is missing/);
    expect(reason("https://ghcr.io/acme/app:v1")).toMatch(/scheme https:\/\/ is not part of a reference/);
    expect(reason("docker://nginx")).toMatch(/scheme docker:\/\//);
  });
});

describe("parseOciReference: malformed references", () => {
  it.each([
    ["", /empty/],
    ["   ", /empty/],
    [" nginx", /leading or trailing spaces/],
    ["nginx ", /leading or trailing spaces/],
    ["Nginx", /must be lowercase/],
    ["ghcr.io/Acme/app", /must be lowercase \("Acme"\)/],
    ["ghcr.io/acme//app", /empty component/],
    ["ghcr.io/acme/app/", /empty component/],
    ["/app", /empty component/],
    ["app:", /nothing follows ":"/],
    ["app@", /nothing follows "@"/],
    ["app:v1:v2", /tag "v1:v2" is invalid/],
    ["app:.v1", /tag ".v1" is invalid/],
    ["app:-v1", /tag "-v1" is invalid/],
    [`app:${"x".repeat(129)}`, /at most 128/],
    ["ghcr.io/-app", /path component "-app" is invalid/],
    ["ghcr.io/app-", /path component "app-" is invalid/],
    ["ghcr.io/a..b", /path component "a..b" is invalid/],
    ["ghcr.io/a___b", /path component "a___b" is invalid/],
    ["ghcr.io/a_-b", /path component "a_-b" is invalid/],
    ["ghcr.io/a b", /path component "a b" is invalid/],
    ["ghcr.io/acme/app@sha256:abc@sha256:def", /more than one "@"/],
    ["-registry.io/app", /not a valid registry/],
    ["registry-.io/app", /not a valid registry/],
    ["registry.io:port/app", /not a valid registry/],
    ["[zz::1]/app", /not a valid registry/],
    [":tag", /repository name is missing/],
    [`${"a".repeat(64)}`, /image ID/],
    [`ghcr.io/${"a/".repeat(130)}b`, /at most 255/],
  ])("%j", (input, message) => {
    expect(reason(input)).toMatch(message);
  });

  it("names the reference and the expected form", () => {
    expect(reason("ghcr.io//x")).toContain('invalid --oci-ref "ghcr.io//x"');
    expect(reason("")).toContain("[registry[:port]/]repository[:tag][@digest]");
  });
});

describe("registry host helpers", () => {
  it("knows loopback hosts", () => {
    for (const h of ["127.0.0.1:5000", "127.1.2.3", "localhost", "localhost:5000", "LOCALHOST:1", "[::1]:5000", "::1", "registry.localhost:5000"]) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ["ghcr.io", "10.0.0.1:5000", "128.0.0.1", "127.0.0.256", "localhost.example.com", "[2001:db8::1]:5000", "docker.io"]) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  it("normalizes the registry named in credentials", () => {
    expect(normalizeRegistryHost("https://index.docker.io/v1/")).toBe("docker.io");
    expect(normalizeRegistryHost("registry-1.docker.io")).toBe("docker.io");
    expect(normalizeRegistryHost("https://GHCR.io/v2/")).toBe("ghcr.io");
    expect(normalizeRegistryHost("localhost:5000")).toBe("localhost:5000");
  });
});

describe("parseChallenges", () => {
  it("reads Bearer and Basic challenges", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" } },
    ]);
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: "basic", params: { realm: "Registry Realm" } }]);
  });

  it("reads several challenges, unquoted values, escapes and spaces", () => {
    expect(parseChallenges('Basic realm="a, b", Bearer realm=https://x/token , service = "s\\"q"')).toEqual([
      { scheme: "basic", params: { realm: "a, b" } },
      { scheme: "bearer", params: { realm: "https://x/token", service: 's"q' } },
    ]);
    expect(parseChallenges("Negotiate abc==, Basic realm=x")).toEqual([
      { scheme: "negotiate", params: {} },
      { scheme: "basic", params: { realm: "x" } },
    ]);
    expect(parseChallenges("")).toEqual([]);
  });
});
