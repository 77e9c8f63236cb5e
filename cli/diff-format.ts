// `deployment diff`: what it prints in table mode — a summary line, then one row per entry
// (state, the key, each place's digest with its version). JSON mode prints the API's
// DiffDeploymentsResponse as it is (cli/output.ts).
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import { DiffState, type DiffDeploymentsResponse, type DiffEntry } from "../gen/proto/chainloop/v1/deployment_pb.js";
import { digestWithVersion, kindName } from "./deployment-format.js";
import { table, type Column } from "./output.js";

const STATE_LABEL: Record<DiffState, string> = {
  [DiffState.UNSPECIFIED]: "unknown",
  [DiffState.SAME]: "same",
  [DiffState.DIFFERENT]: "different",
  [DiffState.ONLY_IN_FROM]: "only in from",
  [DiffState.ONLY_IN_TO]: "only in to",
};

export function stateLabel(state: DiffState): string {
  return STATE_LABEL[state] ?? `unknown(${state})`;
}

/**
 * `k8s-east/staging → k8s-east/production: 1 different, 1 only in from, 0 only in to, 3 same`,
 * or `…: identical (3 same)`. `from` and `to` are the places as the CLI shows them.
 */
export function diffSummary(from: string, to: string, res: DiffDeploymentsResponse): string {
  const counts = `${res.differentCount} different, ${res.onlyInFromCount} only in from, ${res.onlyInToCount} only in to, ${res.sameCount} same`;
  const total = res.sameCount + res.differentCount + res.onlyInFromCount + res.onlyInToCount;
  if (res.identical) return `${from} → ${to}: identical (${total === 0 ? "neither place runs anything" : `${res.sameCount} same`})`;
  return `${from} → ${to}: ${counts}`;
}

/**
 * One row per entry. The ENVIRONMENT / LOGICAL ENV columns are there when the places leave that
 * part open (`/staging` vs `/production` compares every environment: ENVIRONMENT is the key).
 */
export function diffRows(res: DiffDeploymentsResponse, parts: { environment: boolean; logicalEnvironment: boolean }): string {
  if (res.entries.length === 0) return "";
  const side = (d: DiffEntry["fromDeployment"]) => (d ? digestWithVersion(d) : "-");
  const columns: Column<DiffEntry>[] = [
    { header: "STATE", value: (e) => stateLabel(e.state) },
    ...(parts.environment ? [] : [{ header: "ENVIRONMENT", value: (e: DiffEntry) => e.environment }]),
    ...(parts.logicalEnvironment ? [] : [{ header: "LOGICAL ENV", value: (e: DiffEntry) => e.logicalEnvironment }]),
    { header: "DEPLOYMENT", value: (e) => e.deploymentName },
    { header: "KIND", value: (e) => kindName(e.kind) },
    { header: "FROM", value: (e) => side(e.fromDeployment), maxWidth: 60 },
    { header: "TO", value: (e) => side(e.toDeployment), maxWidth: 60 },
  ];
  return table(columns, res.entries);
}
