// Every command of the CLI, registered as one explicit array (no directory scanning).
import { defineGroup } from "../command.js";
import { artifactDescribe } from "./artifact-describe.js";
import { attestationDescribe } from "./attestation-describe.js";
import { attestationList } from "./attestation-list.js";
import { attestationPush } from "./attestation-push.js";
import { configDeleteContext } from "./config-delete-context.js";
import { configGetContexts } from "./config-get-contexts.js";
import { configSetContext } from "./config-set-context.js";
import { configUseContext } from "./config-use-context.js";
import { deploymentCheck } from "./deployment-check.js";
import { deploymentDescribe } from "./deployment-describe.js";
import { deploymentDiff } from "./deployment-diff.js";
import { deploymentList } from "./deployment-list.js";
import { deploymentRecord } from "./deployment-record.js";
import { deploymentSnapshot } from "./deployment-snapshot.js";
import { deploymentWatch } from "./deployment-watch.js";
import { environmentCreate } from "./environment-create.js";
import { environmentDelete } from "./environment-delete.js";
import { environmentDescribe } from "./environment-describe.js";
import { environmentList } from "./environment-list.js";
import { environmentUpdate } from "./environment-update.js";
import { keyAdd } from "./key-add.js";
import { keyDelete } from "./key-delete.js";
import { keyList } from "./key-list.js";
import { logicalEnvironmentCreate } from "./logical-environment-create.js";
import { logicalEnvironmentDelete } from "./logical-environment-delete.js";
import { logicalEnvironmentList } from "./logical-environment-list.js";
import { metrics } from "./metrics.js";
import { policyClear } from "./policy-clear.js";
import { policyGet } from "./policy-get.js";
import { policyList } from "./policy-list.js";
import { policySet } from "./policy-set.js";
import { tokenCreate } from "./token-create.js";
import { tokenList } from "./token-list.js";
import { tokenRevoke } from "./token-revoke.js";
import { version } from "./version.js";
import { webhookCreate } from "./webhook-create.js";
import { webhookDeliveries } from "./webhook-deliveries.js";
import { webhookDelete } from "./webhook-delete.js";
import { webhookGet } from "./webhook-get.js";
import { webhookList } from "./webhook-list.js";
import { webhookTest } from "./webhook-test.js";

export const commands = [
  defineGroup({
    command: "environment",
    aliases: ["env"],
    describe: "Manage environments: the infrastructure targets artifacts are deployed to",
    commands: [environmentCreate, environmentList, environmentDescribe, environmentUpdate, environmentDelete],
  }),
  defineGroup({
    command: "logical-environment",
    aliases: ["logical-env"],
    describe: "Manage logical environments: lifecycle stages such as staging and production",
    commands: [logicalEnvironmentCreate, logicalEnvironmentList, logicalEnvironmentDelete],
  }),
  defineGroup({
    command: "deployment",
    describe: "Record and list deployments: which artifact runs in which environment and lifecycle stage",
    commands: [deploymentRecord, deploymentCheck, deploymentSnapshot, deploymentList, deploymentDescribe, deploymentDiff, deploymentWatch],
  }),
  defineGroup({
    command: "policy",
    describe: "Manage promotion policies: what a digest must have done, and what evidence it needs, before it may run in a logical environment",
    commands: [policySet, policyGet, policyList, policyClear],
  }),
  defineGroup({
    command: "webhook",
    describe: "Manage webhooks: deployment events POSTed to your URLs, signed as Standard Webhooks (the secret is shown once)",
    commands: [webhookCreate, webhookList, webhookGet, webhookDelete, webhookDeliveries, webhookTest],
  }),
  defineGroup({
    command: "attestation",
    describe: "Push and list evidence: in-toto attestations (optionally DSSE-signed) about artifacts",
    commands: [attestationPush, attestationList, attestationDescribe],
  }),
  defineGroup({
    command: "key",
    describe: "Manage the public keys that verify evidence signatures",
    commands: [keyAdd, keyList, keyDelete],
  }),
  defineGroup({
    command: "artifact",
    describe: "Trace an artifact: where it runs and the evidence that produced it",
    commands: [artifactDescribe],
  }),
  defineGroup({
    command: "token",
    describe: "Manage API tokens: create them (the secret is shown once), list and revoke them",
    commands: [tokenCreate, tokenList, tokenRevoke],
  }),
  defineGroup({
    command: "config",
    describe: "Manage contexts: named servers and where their API tokens come from (kubectl-style)",
    commands: [configSetContext, configUseContext, configGetContexts, configDeleteContext],
  }),
  metrics,
  version,
];
