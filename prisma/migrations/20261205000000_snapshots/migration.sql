-- Environment snapshots (ReportSnapshot): a record that a snapshot did not name is decommissioned
-- by the snapshot, and says so. A constant default: Postgres adds the column without rewriting
-- the table.
ALTER TABLE "deployments" ADD COLUMN "decommissioned_by_snapshot" BOOLEAN NOT NULL DEFAULT false;
