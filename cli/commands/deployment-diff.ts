// `chainloop deployment diff`: two places compared slot by slot (DiffDeployments) — which
// deployments run the same digest in both, different digests, or run in one place only.
//
// A place is `ENV/LENV` (an environment's lifecycle stage), `ENV` (every stage of an
// environment) or `/LENV` (a stage in every environment); both places name the same parts.
// `@TIME` after a place, or --at for both, compares what ran then: an RFC 3339 time or a
// duration ago (`@3h`).
//
// Exit codes: 0 when the places are identical; 3 when they differ; 1 and 2 as everywhere.
import { defineCommand } from "../command.js";
import { parseInstant } from "../../server/shared/durations.js";
import { atOption } from "./deployment-filters.js";

const EXIT_DIFFERENT = 3;

/** A place as given on the command line: names (empty: every one) and the optional `@TIME`, unparsed. */
export interface PlaceArg {
  environment: string;
  logicalEnvironment: string;
  at: string | undefined;
}

const PLACE_FORMS = "ENV/LENV, ENV or /LENV, optionally followed by @TIME (an RFC 3339 time or a duration ago such as @3h)";

/** `k8s-east/staging@3h` → its parts; throws an Error naming `flag` when it is not a place. */
export function parsePlace(value: string, flag: string): PlaceArg {
  const at = value.indexOf("@");
  const where = at >= 0 ? value.slice(0, at) : value;
  const time = at >= 0 ? value.slice(at + 1) : undefined;
  const slash = where.indexOf("/");
  const environment = slash >= 0 ? where.slice(0, slash) : where;
  const logicalEnvironment = slash >= 0 ? where.slice(slash + 1) : "";
  if ((environment === "" && logicalEnvironment === "") || logicalEnvironment.includes("/")) {
    throw new Error(`${flag} must be ${PLACE_FORMS}, got ${JSON.stringify(value.slice(0, 80))}`);
  }
  if (time !== undefined) parseInstant(time, `${flag}'s @TIME`);
  return { environment, logicalEnvironment, at: time };
}

/** How a place reads in the summary line: `k8s-east/staging`, `k8s-east`, `/staging`, with `@<time>`. */
export function placeLabel(p: PlaceArg, at: Date | undefined): string {
  const where = p.logicalEnvironment === "" ? p.environment : `${p.environment}/${p.logicalEnvironment}`;
  return at ? `${where}@${at.toISOString().replace(/\.000Z$/, "Z")}` : where;
}

export const deploymentDiff = defineCommand({
  command: "diff",
  describe: "Compare what runs in two places (environments and/or lifecycle stages, now or at a past time), deployment by deployment",
  builder: (y) =>
    y
      .options({
        from: {
          type: "string",
          demandOption: true,
          requiresArg: true,
          coerce: (v: string) => parsePlace(v, "--from"),
          describe: `The first place: ${PLACE_FORMS}`,
        },
        to: {
          type: "string",
          demandOption: true,
          requiresArg: true,
          coerce: (v: string) => parsePlace(v, "--to"),
          describe: "The second place, naming the same parts as --from",
        },
        at: atOption("Compare what ran at this time, in each place without its own @TIME: an RFC 3339 time or a duration ago (3h, 2d)"),
        "differences-only": { type: "boolean", default: false, describe: "Show only what differs (the summary counts everything)" },
      })
      .check((args) => {
        const from = args.from;
        const to = args.to;
        const parts = (p: PlaceArg) => `${p.environment !== "" ? "ENV" : ""}/${p.logicalEnvironment !== "" ? "LENV" : ""}`;
        if (parts(from) !== parts(to)) {
          return `--from and --to must name the same parts (ENV/LENV with ENV/LENV, ENV with ENV, or /LENV with /LENV)`;
        }
        return true;
      }),
  examples: [
    ["What differs between staging and production in one cluster", "chainloop deployment diff --from k8s-east/staging --to k8s-east/production"],
    ["Two clusters, every lifecycle stage, differences only", "chainloop deployment diff --from k8s-east --to k8s-west --differences-only"],
    ["Production in every environment: now against three hours ago", "chainloop deployment diff --from /production@3h --to /production"],
    ["Both places as they were at a time, as JSON", "chainloop deployment diff --from k8s-east/staging --to k8s-east/production --at 2026-12-01T10:00:00Z -o json"],
    [
      "In a script: 0 identical, 3 different, anything else an error",
      "chainloop deployment diff --from k8s-east/staging --to k8s-east/production -o json > diff.json; case $? in 0) echo same;; 3) echo differ;; *) exit 1;; esac",
    ],
  ],
  exitCodes: [`  ${EXIT_DIFFERENT}  the places differ: a deployment runs different digests, or in one place only (0: they are identical)`],
  async action(args, { client, out }) {
    const [{ DeploymentService, DiffDeploymentsResponseSchema }, { timestampFromDate }, { diffSummary, diffRows }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("@bufbuild/protobuf/wkt"),
      import("../diff-format.js"),
    ]);
    const from = args.from;
    const to = args.to;
    // One `now` for both places, so `@3h` on both sides means the same instant.
    const now = new Date();
    const instant = (p: PlaceArg, flag: string) => {
      const at = p.at ?? args.at;
      return at === undefined ? undefined : parseInstant(at, p.at !== undefined ? `${flag}'s @TIME` : "--at", now);
    };
    const fromAt = instant(from, "--from");
    const toAt = instant(to, "--to");
    const place = (p: PlaceArg, at: Date | undefined) => ({
      environment: p.environment,
      logicalEnvironment: p.logicalEnvironment,
      asOf: at ? timestampFromDate(at) : undefined,
    });
    const res = await client(DeploymentService).diffDeployments({
      fromPlace: place(from, fromAt),
      toPlace: place(to, toAt),
      differencesOnly: args.differencesOnly,
    });
    const parts = { environment: from.environment !== "", logicalEnvironment: from.logicalEnvironment !== "" };
    const text = `${diffSummary(placeLabel(from, fromAt), placeLabel(to, toAt), res)}\n${diffRows(res, parts)}`.trimEnd();
    // Not a change, but the same two forms: the response as JSON, or the text.
    out.changed(DiffDeploymentsResponseSchema, res, text);
    if (!res.identical) process.exitCode = EXIT_DIFFERENT;
  },
});
