// Resolving --oci-ref on the client: reference parsing, credentials, the registry API and the
// kind check. See cli/oci/README.md. Import lazily (await import()), only when --oci-ref is used.
export { OciError, type OciErrorReason } from "./errors.js";
export { parseOciReference, isLoopbackHost, normalizeRegistryHost, type OciReference } from "./reference.js";
export { findCredentials, dockerConfigPath, type ExplicitCredentials, type RegistryCredentials } from "./credentials.js";
export { parseChallenges, MANIFEST_ACCEPT, MEDIA_TYPES } from "./registry.js";
export {
  resolveOciReference,
  HELM_CONFIG_MEDIA_TYPE,
  DEFAULT_TIMEOUT_MS,
  type OciArtifactKind,
  type ResolveOptions,
  type ResolvedArtifact,
} from "./resolve.js";
