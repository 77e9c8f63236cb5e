// The names the server and the CLI share, each list in one place: artifact kinds, deployment
// statuses, what recording did, watch events, webhook events and delivery statuses, token
// scopes, metrics buckets. The domain speaks these names; the CLI's flags spell them the same
// way (kinds in upper case, the rest in lower case); the API's enum values are the same words
// in upper snake case (`rolled-back` ⇄ ROLLED_BACK), mapped in server/shared/proto.ts.
//
// No imports: the domain uses this module (it never sees generated proto types), and so does
// every CLI start (cli/command.ts loads no runtime protobuf code).

/** What a deployment record is the deployment of; `--kind` spells them as they are here. */
export const ARTIFACT_KINDS = ["CONTAINER_IMAGE", "HELM_CHART"] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** A record is `deployed` (active), `superseded` (replaced by a newer digest) or `decommissioned`. */
export const DEPLOYMENT_STATUSES = ["deployed", "superseded", "decommissioned"] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
/** The statuses a caller may record (a record is superseded only by recording a newer digest). */
export const RECORDABLE_STATUSES = ["deployed", "decommissioned"] as const satisfies readonly DeploymentStatus[];

/**
 * What recording did. "rolled-back": a new record whose digest ran in the slot before and was
 * superseded there (the record's `rollbackOfId`); it replaced the active record when there was one.
 */
export const RECORD_OUTCOMES = ["created", "heartbeat", "superseded", "rolled-back", "decommissioned", "already-decommissioned"] as const;
export type RecordOutcome = (typeof RECORD_OUTCOMES)[number];
/** What recording a digest as deployed did (the outcomes but the decommissions). */
export type DeployOutcome = Exclude<RecordOutcome, "decommissioned" | "already-decommissioned">;

/** One committed change to one record, as the change feed publishes it. */
export const CHANGE_KINDS = ["created", "heartbeat", "superseded", "decommissioned"] as const satisfies readonly RecordOutcome[];
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** What a watch stream says: the running records first (`snapshot`, then `snapshot-end`), then each change. */
export const WATCH_EVENT_TYPES = ["snapshot", "snapshot-end", ...CHANGE_KINDS, "stale", "stale-time-changed"] as const;
export type WatchEventType = (typeof WATCH_EVENT_TYPES)[number];

/** What a webhook subscription may be sent; `webhook create --events` spells them as they are here. */
export const WEBHOOK_EVENT_TYPES = ["deployed", "superseded", "decommissioned", "rolled-back", "stale", "policy-refused"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** API token scopes; each includes the ones before it. */
export const TOKEN_SCOPES = ["read", "write", "admin"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** The periods delivery metrics are counted in. */
export const METRICS_BUCKETS = ["day", "week", "month"] as const;
export type MetricsBucket = (typeof METRICS_BUCKETS)[number];
