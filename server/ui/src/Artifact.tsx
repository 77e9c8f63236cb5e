// An artifact as the page shows it wherever a digest is shown: the project/version from its
// evidence (or what was recorded with it) beside a short digest, and the rollback mark.
import type { Deployment } from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import { shortDigest, versionLabel } from "./format.js";

/** `api-server v1.2.0 sha256:0123456789ab`; the full digest (and what was recorded) in its tooltip. */
export function ArtifactTag({ d }: { d: Deployment }) {
  const label = versionLabel(d);
  const recorded = d.artifactName || d.artifactVersion ? `\nrecorded as ${d.artifactName}${d.artifactVersion ? `:${d.artifactVersion}` : ""}` : "";
  return (
    <span className="artifact" data-label={label} data-digest={d.digest} title={`${d.digest}${recorded}`}>
      {label && <span className="label">{label}</span>}{label && " "}
      <code className="short-digest">{shortDigest(d.digest)}</code>
    </span>
  );
}

/** The mark of a rollback record (`rollback_of_id` set): its digest ran in the slot before. */
export function RollbackPill({ d }: { d: Deployment }) {
  if (!d.rollbackOfId) return null;
  return (
    <span className="pill rollback" title={`A rollback: this digest ran here before (record ${d.rollbackOfId})`}>
      rolled back
    </span>
  );
}
