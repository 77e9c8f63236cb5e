// Composition: repositories → use cases, in one place. app.ts serves them; main.ts and
// admin-cli.ts use the same ones for bootstrap and operator commands.
import type { Database } from "./data/client.js";
import { SqlDiffRepository } from "./data/diff.js";
import { SqlMetricsRepository } from "./data/delivery-metrics.js";
import { DEFAULT_RECORD_BATCHES, SqlDeploymentRepository } from "./data/deployments.js";
import type { GroupCommitOptions } from "./data/group-commit.js";
import { PrismaEnvironmentRepository } from "./data/environments.js";
import { PrismaEvidenceRepository } from "./data/evidence.js";
import { PrismaKeyRepository } from "./data/keys.js";
import { PrismaOrganizationRepository } from "./data/organizations.js";
import { PrismaPolicyRepository, SqlPolicyFacts } from "./data/policies.js";
import { PrismaTokenRepository } from "./data/tokens.js";
import { audited } from "./data/transactions.js";
import { ArtifactUseCase } from "./domain/artifacts.js";
import { DeliveryMetricsUseCase } from "./domain/delivery-metrics.js";
import { DeploymentUseCase } from "./domain/deployments.js";
import { DiffUseCase } from "./domain/diff.js";
import { EnvironmentUseCase } from "./domain/environments.js";
import { EvidenceUseCase } from "./domain/evidence.js";
import { LiveDeployments } from "./domain/live.js";
import { SnapshotUseCase } from "./domain/snapshots.js";
import { KeyUseCase } from "./domain/keys.js";
import { OrganizationUseCase } from "./domain/organizations.js";
import { PolicyUseCase } from "./domain/policies.js";
import { TokenUseCase } from "./domain/tokens.js";
import type { WebhookUseCase } from "./domain/webhooks.js";
import type { WebhookDispatcher } from "./webhooks/dispatcher.js";
import { createWebhooks, type WebhookOptions } from "./webhooks/setup.js";

export interface UseCases {
  organizations: OrganizationUseCase;
  environments: EnvironmentUseCase;
  deployments: DeploymentUseCase;
  /** ReportSnapshot: a whole environment at once (domain/snapshots.ts). */
  snapshots: SnapshotUseCase;
  /** DiffDeployments: two places compared (domain/diff.ts). */
  diff: DiffUseCase;
  /** GetDeliveryMetrics: DORA measures (domain/delivery-metrics.ts). */
  deliveryMetrics: DeliveryMetricsUseCase;
  tokens: TokenUseCase;
  keys: KeyUseCase;
  evidence: EvidenceUseCase;
  artifacts: ArtifactUseCase;
  /** PromotionPolicyService, and the promotion guard of the record path (domain/policies.ts). */
  policies: PolicyUseCase;
  /** WatchDeployments: the live view's fan-out (domain/live.ts). */
  live: LiveDeployments;
  /** WebhookService, and the record path's policy refusals (WebhookEvents; domain/webhooks.ts). */
  webhooks: WebhookUseCase;
  /** Delivers webhooks (server/webhooks/dispatcher.ts): main.ts starts it after listening and stops it on SIGTERM. */
  webhookDispatcher: WebhookDispatcher;
}

export interface UseCaseOptions {
  watchQueueLimit?: number;
  /** Group commit of records (Postgres; PGlite runs one batch at a time). */
  recordBatches?: GroupCommitOptions;
  /** Webhook delivery settings, secrets key and logger (server/webhooks/setup.ts). */
  webhooks?: WebhookOptions;
}

export function createUseCases(db: Database, opts: UseCaseOptions = {}): UseCases {
  // Each use case reads through its repository and writes through audited(): the change and
  // its audit entry in one transaction.
  const environments = new EnvironmentUseCase(
    new PrismaEnvironmentRepository(db.prisma),
    audited(db.prisma, (tx) => new PrismaEnvironmentRepository(tx)),
  );
  const keys = new KeyUseCase(new PrismaKeyRepository(db.prisma), audited(db.prisma, (tx) => new PrismaKeyRepository(tx)));
  const evidence = new EvidenceUseCase(new PrismaEvidenceRepository(db.prisma), keys);
  const policies = new PolicyUseCase(
    new PrismaPolicyRepository(db.prisma),
    audited(db.prisma, (tx) => new PrismaPolicyRepository(tx)),
    new SqlPolicyFacts(db.sql),
  );
  const batches = opts.recordBatches ?? DEFAULT_RECORD_BATCHES;
  const deploymentRepo = new SqlDeploymentRepository(db.sql, {
    // PGlite runs one statement at a time: a second batch would only wait for the first.
    recordBatches: db.kind === "pglite" ? { ...batches, maxInFlight: 1 } : batches,
    onCommitted: () => {
      db.changes.announce();
      webhooks.dispatcher.wake(); // coalesced; nothing while no one is subscribed
    },
  });
  // Webhook filters name places as every read does (DeploymentUseCase.resolvePlace); the record
  // path in turn announces policy refusals to webhooks, hence the deferred reference.
  const webhooks = createWebhooks(
    db,
    deploymentRepo,
    { resolvePlace: (orgId, environment, logicalEnvironment) => deployments.resolvePlace(orgId, environment, logicalEnvironment) },
    opts.webhooks,
  );
  // The record path's guards: promotion policies judge new records in guarded logical
  // environments; their refusals are announced to webhooks.
  const guards = { policies, events: webhooks.useCase };
  const deployments = new DeploymentUseCase(deploymentRepo, environments, evidence, guards);
  return {
    organizations: new OrganizationUseCase(new PrismaOrganizationRepository(db.prisma)),
    environments,
    deployments,
    snapshots: new SnapshotUseCase(deploymentRepo, deployments, guards),
    diff: new DiffUseCase(new SqlDiffRepository(db.sql), deployments),
    deliveryMetrics: new DeliveryMetricsUseCase(new SqlMetricsRepository(db.sql), deployments),
    tokens: new TokenUseCase(new PrismaTokenRepository(db.prisma), audited(db.prisma, (tx) => new PrismaTokenRepository(tx))),
    keys,
    evidence,
    artifacts: new ArtifactUseCase(evidence, deployments),
    policies,
    live: new LiveDeployments(db.changes, deploymentRepo, deployments, { queueLimit: opts.watchQueueLimit }),
    webhooks: webhooks.useCase,
    webhookDispatcher: webhooks.dispatcher,
  };
}
