// --oci-ref: an image or Helm chart reference → the digest to record, resolved on the client
// (credentials never leave this machine; the server only sees the digest and the name, version
// and reference it came from).
//
//  * A tag is resolved with one GET of its manifest (the kind check needs the body, so a HEAD
//    would only add a round trip). The digest is the registry's Docker-Content-Digest, checked
//    against the hash of the body; without the header, the sha256 of the body. A tag naming an
//    index (multi-platform image) resolves to the index's digest.
//  * `repo@digest` (also `repo:tag@digest`, where the digest wins and the tag is only the
//    recorded version) is fetched too: that proves the registry has it, checks the body against
//    the digest, and gives the kind check its manifest.
//  * Kind check: a manifest whose config media type (or artifactType) is Helm's
//    `application/vnd.cncf.helm.config.v1+json` is a Helm chart; anything else is not. For an
//    index, the first platform manifest (attestation manifests skipped) is fetched and looked at.
//    CONTAINER_IMAGE refuses Helm charts; HELM_CHART refuses everything else.
import { createHash } from "node:crypto";
import { DigestError, parseDigest, type Digest } from "../../server/shared/digest.js";
import type { ArtifactKind } from "../../server/shared/names.js";
import { findCredentials, type ExplicitCredentials } from "./credentials.js";
import { OciError } from "./errors.js";
import { parseOciReference, type OciReference } from "./reference.js";
import { MEDIA_TYPES, RegistryClient, type FetchedManifest } from "./registry.js";

export const HELM_CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json";

export type OciArtifactKind = ArtifactKind;

export interface ResolveOptions {
  kind: OciArtifactKind;
  /** Explicit credentials (flags / CHAINLOOP_REGISTRY_*); Docker's config is used otherwise. */
  credentials?: ExplicitCredentials;
  /** Use plain http for this registry even though it is not on loopback. */
  plainHttp?: boolean;
  /** Bound on each registry request (default 30 s). */
  timeoutMs?: number;
  /** Environment for DOCKER_CONFIG, HOME and credential helpers (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Do not read Docker's config.json. */
  ignoreDockerConfig?: boolean;
}

export interface ResolvedArtifact {
  /** `sha256:<hex>` (or sha512), what the registry stores the manifest under. */
  digest: string;
  /** `registry/repository`, e.g. `ghcr.io/my-org/api-server`. */
  artifactName: string;
  /** The tag (Helm's `+` kept), or "" for a digest-only reference. */
  artifactVersion: string;
  /** The full normalized reference; `oci://…` for Helm charts, as Helm writes them. */
  artifactReference: string;
  /** The media type of the manifest the digest names (an index for multi-platform images). */
  mediaType: string;
  /** Where the credentials came from ("anonymous" when none were used). */
  credentialsSource: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Resolves `input` to a digest (see the top of this file). Throws OciError with a one-line message. */
export async function resolveOciReference(input: string, opts: ResolveOptions): Promise<ResolvedArtifact> {
  const ref = parseOciReference(input);
  const what = ref.ociScheme ? `oci://${ref.normalized}` : ref.normalized;
  const lookup = await findCredentials(ref.registry, { explicit: opts.credentials, env: opts.env, ignoreDockerConfig: opts.ignoreDockerConfig });
  const client = new RegistryClient(ref, {
    credentials: lookup.credentials,
    explicitSkippedFor: lookup.explicitSkippedFor,
    plainHttp: opts.plainHttp,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });

  const fetched = await client.getManifest(ref.digest?.value ?? ref.registryTag!);
  const digest = verifyDigest(fetched, ref.digest, ref, what);
  const manifest = parseManifest(fetched, what);
  await checkKind(manifest, client, opts.kind, ref, what);

  return {
    digest: digest.value,
    artifactName: ref.name,
    artifactVersion: ref.tag ?? "",
    artifactReference: opts.kind === "HELM_CHART" ? `oci://${ref.normalized}` : ref.normalized,
    mediaType: manifest.mediaType,
    credentialsSource: lookup.credentials?.source ?? "anonymous",
  };
}

/** The digest the manifest is stored under, checked against the body. */
function verifyDigest(fetched: FetchedManifest, pinned: Digest | undefined, ref: OciReference, what: string): Digest {
  let header: Digest | undefined;
  if (fetched.headerDigest) {
    try {
      header = parseDigest(fetched.headerDigest);
    } catch (e) {
      if (!(e instanceof DigestError)) throw e;
      throw new OciError("BAD_RESPONSE", `registry ${ref.registry} sent an invalid Docker-Content-Digest for ${what}: ${e.message}`);
    }
  }
  const expected = pinned ?? header;
  const algorithm = expected?.algorithm ?? "sha256";
  const computed = parseDigest(`${algorithm}:${createHash(algorithm).update(fetched.body).digest("hex")}`);
  if (pinned && header && header.algorithm === pinned.algorithm && header.value !== pinned.value) {
    throw new OciError("BAD_RESPONSE", `registry ${ref.registry} answered ${what} with a manifest whose Docker-Content-Digest is ${header.value}; refusing it`);
  }
  if (expected && computed.value !== expected.value) {
    throw new OciError(
      "BAD_RESPONSE",
      `the manifest registry ${ref.registry} sent for ${what} does not match its digest (expected ${expected.value}, content hashes to ${computed.value}); refusing it`,
    );
  }
  return computed;
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  artifactType?: string;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}

interface Manifest {
  mediaType: string;
  config?: Descriptor;
  manifests?: Descriptor[];
  artifactType?: string;
}

const INDEX_TYPES: string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList];
const MANIFEST_TYPES: string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];

function parseManifest(fetched: FetchedManifest, what: string): Manifest {
  let body: Partial<Manifest> & { schemaVersion?: number };
  try {
    body = JSON.parse(fetched.body.toString("utf8"));
  } catch {
    throw new OciError("BAD_RESPONSE", `the manifest of ${what} is not JSON; it may not be an OCI registry`);
  }
  if (typeof body !== "object" || body === null) throw new OciError("BAD_RESPONSE", `the manifest of ${what} is not a JSON object`);
  let mediaType = typeof body.mediaType === "string" && body.mediaType ? body.mediaType : fetched.contentType;
  // An OCI manifest or index may leave out mediaType; tell them apart by their fields.
  if (!INDEX_TYPES.includes(mediaType) && !MANIFEST_TYPES.includes(mediaType) && body.schemaVersion === 2) {
    if (Array.isArray(body.manifests)) mediaType = MEDIA_TYPES.ociIndex;
    else if (body.config && typeof body.config === "object") mediaType = MEDIA_TYPES.ociManifest;
  }
  if (!INDEX_TYPES.includes(mediaType) && !MANIFEST_TYPES.includes(mediaType)) {
    throw new OciError(
      "BAD_RESPONSE",
      `${what} is a manifest of type ${JSON.stringify(mediaType || "unknown")}, which cannot be recorded: only OCI and Docker v2 manifests and indexes are supported`,
    );
  }
  return { ...body, mediaType } as Manifest;
}

async function checkKind(manifest: Manifest, client: RegistryClient, kind: OciArtifactKind, ref: OciReference, what: string): Promise<void> {
  let configType: string | undefined;
  let isHelm: boolean;
  if (INDEX_TYPES.includes(manifest.mediaType)) {
    const children = (manifest.manifests ?? []).filter((d) => typeof d?.digest === "string");
    if (manifest.artifactType === HELM_CONFIG_MEDIA_TYPE || children.some((d) => d.artifactType === HELM_CONFIG_MEDIA_TYPE)) {
      isHelm = true;
      configType = HELM_CONFIG_MEDIA_TYPE;
    } else {
      const child =
        children.find((d) => d.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest" && d.platform?.os !== "unknown") ?? children[0];
      if (!child) throw new OciError("WRONG_KIND", `${what} is an empty index (no manifests in it); it cannot be recorded`);
      let childDigest: Digest;
      try {
        childDigest = parseDigest(child.digest!);
      } catch {
        throw new OciError("BAD_RESPONSE", `the index ${what} lists a manifest with an invalid digest`);
      }
      const fetched = await client.getManifest(childDigest.value);
      verifyDigest(fetched, childDigest, ref, `${what} (platform manifest ${childDigest.value})`);
      const childManifest = parseManifest(fetched, `${what} (platform manifest ${childDigest.value})`);
      configType = childManifest.config?.mediaType;
      isHelm = configType === HELM_CONFIG_MEDIA_TYPE || childManifest.artifactType === HELM_CONFIG_MEDIA_TYPE;
    }
  } else {
    configType = manifest.config?.mediaType;
    isHelm = configType === HELM_CONFIG_MEDIA_TYPE || manifest.artifactType === HELM_CONFIG_MEDIA_TYPE;
  }
  if (kind === "CONTAINER_IMAGE" && isHelm) {
    throw new OciError(
      "WRONG_KIND",
      `${what} is a Helm chart (config media type ${HELM_CONFIG_MEDIA_TYPE}), not a container image; record it with --kind HELM_CHART`,
    );
  }
  if (kind === "HELM_CHART" && !isHelm) {
    throw new OciError(
      "WRONG_KIND",
      `${what} is not a Helm chart (config media type ${configType ?? "none"}); record it with --kind CONTAINER_IMAGE, or check the reference`,
    );
  }
}
