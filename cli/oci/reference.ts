// Image and chart references, parsed per the distribution reference grammar
// (github.com/distribution/reference, the grammar Docker, containerd and Helm use):
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain "/"] remote-name            (at most 255 characters)
//   domain           := host [":" port-number]
//   host             := domain-name | "[" IPv6address "]"
//   domain-name      := domain-component ["." domain-component]*
//   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//   remote-name      := path-component ["/" path-component]*
//   path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex                   (checked by server/shared/digest.ts)
//
// Normalization is Docker's (ParseNormalizedNamed): the first component is a registry only when
// it contains "." or ":", is "localhost", or has an uppercase letter; otherwise the registry is
// Docker Hub (`docker.io`, reached at `registry-1.docker.io`; `index.docker.io` is an alias), and
// a one-component Docker Hub repository gets the `library/` prefix. A reference with neither tag
// nor digest means `:latest`. So `nginx` is `docker.io/library/nginx:latest`.
//
// Helm's form, `oci://host[:port]/repo/chart:1.2.3`, is accepted for both kinds: after `oci://`
// the first component is always the registry (there is no Docker Hub default there, as in Helm),
// and, as Helm does, a `+` in the tag (semver build metadata) is stored in the registry as `_`.
// Any other scheme (https://, docker://) is refused.
import { DigestError, parseDigest, type Digest } from "../../server/shared/digest.js";
import { OciError } from "./errors.js";

export const DOCKER_HUB = "docker.io";
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";
/** The key Docker uses for Docker Hub in config.json and when asking credential helpers. */
export const DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/";
/** Names that all mean Docker Hub, as registry hosts or credential keys. */
export const DOCKER_HUB_ALIASES = [DOCKER_HUB, "index.docker.io", DOCKER_HUB_API_HOST];

export interface OciReference {
  /** The registry as written in normalized references: `ghcr.io`, `localhost:5000`, `docker.io`. */
  registry: string;
  /** The host[:port] the registry API is reached at (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
  /** The repository path inside the registry: `my-org/api-server`, `library/nginx`. */
  repository: string;
  /** `registry/repository`. */
  name: string;
  /** The tag as given (`latest` when neither tag nor digest was given). Helm `+` kept. */
  tag?: string;
  /** The tag as stored in the registry (Helm's `+` → `_` in the oci:// form). */
  registryTag?: string;
  digest?: Digest;
  /** The reference was given in Helm's `oci://` form. */
  ociScheme: boolean;
  /** The full normalized reference: `docker.io/library/nginx:latest`, `ghcr.io/o/a:v1@sha256:…`. */
  normalized: string;
}

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;

const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
/** The whole grammar in one expression, as the last word on what is valid. */
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

const EXAMPLE = "expected [registry[:port]/]repository[:tag][@digest], e.g. ghcr.io/my-org/api-server:v1.2.0";

/**
 * Parses and normalizes an image or chart reference. Throws OciError (INVALID_REFERENCE) with a
 * message that names the reference, what is wrong with it, and the expected form.
 */
export function parseOciReference(input: string): OciReference {
  const shown = JSON.stringify(input.length > 300 ? `${input.slice(0, 300)}…` : input);
  const fail = (why: string): never => {
    throw new OciError("INVALID_REFERENCE", `invalid --oci-ref ${shown}: ${why}`);
  };
  if (input.trim() === "") fail(`the reference is empty; ${EXAMPLE}`);
  if (input !== input.trim()) fail("the reference has leading or trailing spaces");

  let rest = input;
  let ociScheme = false;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    if (scheme[1] !== "oci") {
      fail(`the scheme ${scheme[1]}:// is not part of a reference; write the reference without it (or oci://host/repository:tag, Helm's form)`);
    }
    ociScheme = true;
    rest = rest.slice("oci://".length);
  }

  // Split off @digest, then :tag (a colon after the last slash), leaving the name.
  let digestText: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digestText = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digestText === "") fail(`nothing follows "@"; a digest looks like sha256:<64 hex digits>`);
    if (digestText.includes("@")) fail(`it has more than one "@"; ${EXAMPLE}`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  // A colon in the first (only) component is a tag unless a slash follows; `host:5000/x` is a port.
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === "") fail(`nothing follows ":"; give a tag (e.g. :v1.2.0) or leave the colon out for :latest`);
  }
  let name = rest;
  if (name === "") fail(`the repository name is missing; ${EXAMPLE}`);

  // The registry (domain), normalized the way Docker does it, or always the first component after oci://.
  let domain: string;
  let remainder: string;
  const slash = name.indexOf("/");
  if (ociScheme) {
    if (slash < 0) fail("oci:// references name the registry and then the repository: oci://host[:port]/repository[:tag]");
    domain = name.slice(0, slash);
    remainder = name.slice(slash + 1);
  } else if (slash < 0 || (!/[.:]/.test(name.slice(0, slash)) && name.slice(0, slash) !== "localhost" && name.slice(0, slash) === name.slice(0, slash).toLowerCase())) {
    domain = DOCKER_HUB;
    remainder = name;
  } else {
    domain = name.slice(0, slash);
    remainder = name.slice(slash + 1);
  }
  if (!ociScheme && slash < 0 && IDENTIFIER_RE.test(name)) {
    fail("a 64-hex-digit string is an image ID, not a repository name; use repository@sha256:<digest> or --digest");
  }
  if (!DOMAIN_RE.test(domain)) {
    fail(`${JSON.stringify(domain)} is not a valid registry host[:port]`);
  }
  if (domain.toLowerCase() === "index.docker.io") domain = DOCKER_HUB;
  if (remainder === "") fail(`the repository path after the registry is missing; ${EXAMPLE}`);
  for (const component of remainder.split("/")) {
    if (component === "") fail(`the repository path ${JSON.stringify(remainder)} has an empty component (a doubled or trailing "/")`);
    if (component !== component.toLowerCase() && PATH_COMPONENT_RE.test(component.toLowerCase())) {
      fail(`the repository name must be lowercase (${JSON.stringify(component)})`);
    }
    if (!PATH_COMPONENT_RE.test(component)) {
      fail(
        `the repository path component ${JSON.stringify(component)} is invalid: use lowercase letters and digits, ` +
          `separated by ".", "_", "__" or dashes, starting and ending with a letter or digit`,
      );
    }
  }
  if (domain === DOCKER_HUB && !remainder.includes("/")) remainder = `library/${remainder}`;
  name = `${domain}/${remainder}`;
  if (name.length > NAME_MAX) fail(`the repository name is ${name.length} characters long; at most ${NAME_MAX} are allowed`);

  let registryTag = tag;
  if (tag !== undefined) {
    if (ociScheme) registryTag = tag.replaceAll("+", "_"); // Helm stores semver build metadata with "_"
    if (registryTag!.length > 128) fail(`the tag is ${registryTag!.length} characters long; at most 128 are allowed`);
    if (!TAG_RE.test(registryTag!)) {
      fail(`the tag ${JSON.stringify(tag)} is invalid: use letters, digits, "_", "." and "-", not starting with "." or "-"`);
    }
  }

  let digest: Digest | undefined;
  if (digestText !== undefined) {
    try {
      digest = parseDigest(digestText);
    } catch (e) {
      if (e instanceof DigestError) fail(e.message);
      throw e;
    }
    if (!DIGEST_RE.test(digest.value)) fail(`the digest ${JSON.stringify(digestText)} is malformed`);
  }
  if (tag === undefined && digest === undefined) tag = registryTag = "latest";

  const normalized = `${name}${tag !== undefined ? `:${registryTag}` : ""}${digest ? `@${digest.value}` : ""}`;
  // The whole grammar, as a final check that the pieces above add up to a valid reference.
  if (!REFERENCE_RE.test(normalized)) fail(EXAMPLE);

  return {
    registry: domain,
    apiHost: domain === DOCKER_HUB ? DOCKER_HUB_API_HOST : domain,
    repository: remainder,
    name,
    tag,
    registryTag,
    digest,
    ociScheme,
    normalized,
  };
}

/** Whether a registry host (with or without port) is on the loopback interface. */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostOnly(hostPort).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return v4 !== null && Number(v4[1]) === 127 && v4.slice(2).every((o) => Number(o) <= 255);
}

/** `host:port` → `host`; `[::1]:5000` → `::1`. */
export function hostOnly(hostPort: string): string {
  if (hostPort.startsWith("[")) return hostPort.slice(1, hostPort.indexOf("]"));
  if (hostPort.indexOf(":") !== hostPort.lastIndexOf(":")) return hostPort; // a bare IPv6 address
  const colon = hostPort.lastIndexOf(":");
  return colon >= 0 ? hostPort.slice(0, colon) : hostPort;
}

/**
 * A registry named in a credential setting (`--registry-server`, a config.json key): with or
 * without scheme and path, any case. Returns host[:port], lowercase, Docker Hub aliases as docker.io.
 */
export function normalizeRegistryHost(server: string): string {
  let s = server.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = s.indexOf("/");
  if (slash >= 0) s = s.slice(0, slash);
  s = s.toLowerCase();
  return DOCKER_HUB_ALIASES.includes(s) ? DOCKER_HUB : s;
}
