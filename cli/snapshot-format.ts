// `deployment snapshot`: the entries file it reads (--file) and what it prints.
//
// The file is a JSON array of entries in the API's JSON form (SnapshotEntry): camelCase or
// snake_case field names; `kind` as the CLI spells it (CONTAINER_IMAGE, HELM_CHART) or as the
// API does (ARTIFACT_KIND_CONTAINER_IMAGE). Unknown fields are refused, so a typo cannot
// silently drop a value.
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  RecordOutcome,
  SnapshotEntrySchema,
  SnapshotRefusal,
  type ReportSnapshotResponse,
} from "../gen/proto/chainloop/v1/deployment_pb.js";
import { shortDigest } from "../server/shared/digest.js";
import { ARTIFACT_KINDS } from "../server/shared/names.js";
import { ARTIFACT_KIND_PB, RECORD_OUTCOME_PB } from "../server/shared/proto.js";
import { kindName, statusName, type KindName } from "./deployment-format.js";
import { table } from "./output.js";

export interface FileEntry {
  deploymentName: string;
  kind: KindName;
  digest: string;
  artifactName: string;
  artifactVersion: string;
  artifactReference: string;
}

/** The entries of a --file, or an Error naming the first bad entry and what is wrong with it. */
export function entriesFromJson(input: unknown, source: string): FileEntry[] {
  if (!Array.isArray(input)) {
    throw new Error(`${source}: expected a JSON array of entries ([{"deploymentName": …, "kind": …, "digest": …}, …])`);
  }
  return input.map((raw: unknown, i) => {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${source}: entry ${i} is not an object`);
    const obj = { ...(raw as Record<string, JsonValue>) };
    if (typeof obj.kind === "string" && !obj.kind.startsWith("ARTIFACT_KIND_")) {
      obj.kind = `ARTIFACT_KIND_${obj.kind.toUpperCase().replace(/-/g, "_")}`;
    }
    let entry;
    try {
      entry = fromJson(SnapshotEntrySchema, obj as JsonValue);
    } catch (e) {
      throw new Error(`${source}: entry ${i}: ${(e as Error).message}`);
    }
    const kind = ARTIFACT_KIND_PB.nameOf(entry.kind);
    if (kind === undefined) throw new Error(`${source}: entry ${i}: kind is required: ${ARTIFACT_KINDS.join(" or ")}`);
    return { ...entry, kind };
  });
}

/** `snapshot of k8s-east/production: 2 created, 10 heartbeats, …` — the first line in table mode. */
export function snapshotSummary(scope: string, res: ReportSnapshotResponse, dryRun: boolean): string {
  const count = (o: RecordOutcome) => res.results.filter((r) => r.outcome === o).length;
  const refused = res.results.filter((r) => r.refusal !== SnapshotRefusal.UNSPECIFIED).length;
  const parts = [
    `${count(RecordOutcome.CREATED)} created`,
    `${count(RecordOutcome.SUPERSEDED)} superseded`,
    `${count(RecordOutcome.HEARTBEAT)} unchanged (heartbeat)`,
    `${res.decommissioned.length} decommissioned`,
    `${refused} refused`,
  ];
  const state = dryRun ? " — dry run: nothing was changed" : res.applied ? "" : " — nothing was written (--all-or-nothing)";
  return `snapshot of ${scope}${dryRun ? " (would be)" : ""}: ${parts.join(", ")}${state}`;
}

/** Every change and refusal, one row each (heartbeats are only counted). */
export function snapshotRows(res: ReportSnapshotResponse): string {
  type Row = { deployment: string; kind: string; digest: string; change: string; detail: string };
  const rows: Row[] = [];
  for (const r of res.results) {
    if (r.refusal !== SnapshotRefusal.UNSPECIFIED) {
      const detail =
        r.refusal === SnapshotRefusal.NO_EVIDENCE
          ? "no evidence: no attestation of this organization mentions the digest (push one: chainloop attestation push)"
          : r.message;
      rows.push({ deployment: r.deploymentName, kind: kindName(r.kind), digest: r.digest ? shortDigest(r.digest) : "-", change: "refused", detail });
    } else if (r.outcome === RecordOutcome.CREATED || r.outcome === RecordOutcome.SUPERSEDED) {
      const detail = r.outcome === RecordOutcome.SUPERSEDED ? `replaces record ${r.supersededDeploymentId}` : "";
      rows.push({ deployment: r.deploymentName, kind: kindName(r.kind), digest: shortDigest(r.digest), change: RECORD_OUTCOME_PB.nameOf(r.outcome)!, detail });
    }
  }
  for (const d of res.decommissioned) {
    rows.push({
      deployment: d.deploymentName,
      kind: kindName(d.kind),
      digest: shortDigest(d.digest),
      change: statusName(d.status),
      detail: `record ${d.id}`,
    });
  }
  if (rows.length === 0) return "";
  return table(
    [
      { header: "DEPLOYMENT", value: (r: Row) => r.deployment },
      { header: "KIND", value: (r: Row) => r.kind },
      { header: "DIGEST", value: (r: Row) => r.digest },
      { header: "CHANGE", value: (r: Row) => r.change },
      { header: "DETAIL", value: (r: Row) => r.detail },
    ],
    rows,
  );
}
