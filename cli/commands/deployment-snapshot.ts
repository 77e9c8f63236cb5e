// `chainloop deployment snapshot`: everything that runs in one environment and logical
// environment, reported at once (ReportSnapshot). New entries are recorded, unchanged ones
// heartbeat, and what the snapshot no longer names is decommissioned — unless an entry was
// refused, in which case nothing is decommissioned (a partial report never empties an
// environment). The entries come from a JSON file (--file) or from `kubectl get pods -A -o json`
// (--from-kubernetes, read by cli/kubernetes.ts).
//
// Exit codes: 0 when every entry was recorded (or, with --dry-run, would be); 3 when an entry
// was refused (the others were recorded unless --all-or-nothing); 1 and 2 as everywhere.
import { defineCommand } from "../command.js";

const EXIT_REFUSED = 3;
const SOURCE_GROUP = "Entries (one of --file or --from-kubernetes):";

export const deploymentSnapshot = defineCommand({
  command: "snapshot",
  describe: "Report everything that runs in an environment and lifecycle stage at once: record what is new, decommission what is gone",
  builder: (y) =>
    y
      .options({
        env: { type: "string", demandOption: true, requiresArg: true, describe: "Environment (infrastructure target), e.g. prod-cluster" },
        "logical-env": { type: "string", demandOption: true, requiresArg: true, describe: "Logical environment (lifecycle stage), e.g. production" },
        file: {
          type: "string",
          requiresArg: true,
          group: SOURCE_GROUP,
          describe:
            'A JSON array of entries, - for standard input: [{"deploymentName": "api-server", "kind": "CONTAINER_IMAGE", ' +
            '"digest": "sha256:…", "artifactName": "…", "artifactVersion": "…", "artifactReference": "…"}] (artifact* optional)',
        },
        "from-kubernetes": {
          type: "string",
          requiresArg: true,
          group: SOURCE_GROUP,
          describe: "The output of `kubectl get pods -A -o json` (a file, or - for standard input): one entry per running container's workload",
        },
        "name-template": {
          type: "string",
          requiresArg: true,
          group: SOURCE_GROUP,
          defaultDescription: "{workload}",
          describe:
            "With --from-kubernetes: the deployment name of a container, from {namespace}, {workload} (Deployment, StatefulSet, " +
            "DaemonSet, CronJob, Job, or the bare pod), {container} and {pod}; e.g. '{namespace}/{workload}/{container}'",
        },
        "decommission-missing": {
          type: "boolean",
          default: true,
          describe: "Decommission what runs there now but the snapshot does not name (--no-decommission-missing: only record)",
        },
        "all-or-nothing": {
          type: "boolean",
          default: false,
          describe: "When an entry is refused, write nothing (default: record the valid entries, decommission nothing)",
        },
        "dry-run": { type: "boolean", default: false, describe: "Show what the snapshot would change, and change nothing" },
      })
      .check((args) => {
        if (args.file !== undefined && args.fromKubernetes !== undefined) return "--file and --from-kubernetes are mutually exclusive: give the entries one way";
        if (args.file === undefined && args.fromKubernetes === undefined) return "Missing the entries: give --file <entries.json> or --from-kubernetes <pods.json> (- reads standard input)";
        if (args.nameTemplate !== undefined && args.fromKubernetes === undefined) return "--name-template goes with --from-kubernetes";
        return true;
      }),
  examples: [
    [
      "Report what a cluster runs (a CronJob with `list pods` permission; README: Snapshots from Kubernetes)",
      "kubectl get pods -A -o json | chainloop deployment snapshot --env prod-cluster --logical-env production --from-kubernetes -",
    ],
    [
      "See first what it would change",
      "kubectl get pods -n payments -o json | chainloop deployment snapshot --env prod-cluster --logical-env production --from-kubernetes - --name-template '{namespace}/{workload}' --dry-run",
    ],
    ["Report from a file of entries", "chainloop deployment snapshot --env k8s-east --logical-env staging --file running.json"],
  ],
  exitCodes: [`  ${EXIT_REFUSED}  an entry was refused (the others were recorded unless --all-or-nothing; nothing was decommissioned)`],
  async action(args, { client, out }) {
    const [{ DeploymentService, ReportSnapshotResponseSchema }, { readInput }, { snapshotSummary, snapshotRows }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("../evidence.js"),
      import("../snapshot-format.js"),
    ]);
    const source = (args.fromKubernetes ?? args.file)!;
    const text = (await readInput(source)).toString("utf8");
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (e) {
      throw new Error(`${source === "-" ? "standard input" : source} is not JSON: ${(e as Error).message}`);
    }

    let entries;
    const why = new Map<number, string>(); // entry index → why it has no digest (Kubernetes)
    if (args.fromKubernetes !== undefined) {
      const { snapshotFromPods } = await import("../kubernetes.js");
      const pods = snapshotFromPods(input, { nameTemplate: args.nameTemplate });
      for (const note of pods.notes) out.note(`chainloop: note: ${note}`);
      if (pods.podsNotRunning > 0) out.note(`chainloop: note: ${pods.podsNotRunning} pod(s) not Running were skipped`);
      entries = pods.entries.map((e) => ({ ...e, kind: "CONTAINER_IMAGE" as const }));
      for (const c of pods.withoutDigest) {
        out.note(`chainloop: note: ${c.namespace}/${c.pod} container ${c.container} has no digest yet: ${c.reason}`);
      }
      entries.forEach((e, i) => {
        if (e.digest === "") why.set(i, "the container has no image digest yet (see the notes above)");
      });
    } else {
      const { entriesFromJson } = await import("../snapshot-format.js");
      entries = entriesFromJson(input, args.file === "-" ? "standard input" : args.file!);
    }

    const { KIND_TO_PB } = await import("../deployment-format.js");
    const res = await client(DeploymentService).reportSnapshot({
      environment: args.env,
      logicalEnvironment: args.logicalEnv,
      entries: entries.map((e) => ({
        deploymentName: e.deploymentName,
        kind: KIND_TO_PB[e.kind],
        digest: e.digest,
        artifactName: e.artifactName,
        artifactVersion: e.artifactVersion,
        artifactReference: e.artifactReference,
      })),
      decommissionMissing: args.decommissionMissing,
      allOrNothing: args.allOrNothing,
      validateOnly: args.dryRun,
    });
    for (const r of res.results) {
      const reason = why.get(r.index);
      if (reason && r.message) r.message = `${reason} (${r.message})`;
    }
    const scope = `${args.env}/${args.logicalEnv}`;
    out.changed(ReportSnapshotResponseSchema, res, `${snapshotSummary(scope, res, args.dryRun)}\n${snapshotRows(res)}`.trimEnd());
    if (res.decommissionSkippedReason) out.note(`chainloop: ${res.decommissionSkippedReason}`);
    if (res.results.some((r) => r.refusal)) process.exitCode = EXIT_REFUSED;
  },
});
