// `chainloop metrics`: the real CLI process against a real server (one database backend:
// clientBackends) — the table (a line saying what was measured, a row per bucket and a total row)
// and -o json (the API's answer), --since as a duration ago or a time, --bucket, and the errors.
// The definitions and exact numbers on constructed histories are in
// tests/integration/delivery-metrics.test.ts.
import { clientBackends } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { expectOneErrorLine, expectUsageError, parseTable } from "./parse-output.js";
import { runCli } from "./run-cli.js";

const A = `sha256:${"a1".repeat(32)}`;
const B = `sha256:${"b2".repeat(32)}`;

interface MetricsJson {
  total: { startTime: string; endTime: string; deploymentCount: number; failedCount: number; changeFailureRate: number; rollbackCount: number; leadTimeCount: number; restoredCount: number; leadTimeMedian?: string; timeToRestoreMedian?: string };
  buckets: Array<{ startTime: string; endTime: string; deploymentCount: number }>;
  bucket: string;
  failureWindow: string;
}

describe.each(clientBackends())("chainloop metrics on %s", (backend) => {
  const served = serveFor(backend);
  const chainloop = (...args: string[]) => runCli(args, { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });

  beforeAll(async () => {
    await attest(served.url, [A, B]);
    expect((await chainloop("environment", "create", "--name", "prod-cluster")).code).toBe(0);
    const record = (...extra: string[]) =>
      chainloop("deployment", "record", "--env", "prod-cluster", "--logical-env", "production", "--deployment-name", "api", "--kind", "CONTAINER_IMAGE", ...extra);
    // A, then B, then A again (a rollback: B failed), then A decommissioned within the hour (failed too).
    for (const extra of [["--digest", A], ["--digest", B], ["--digest", A], ["--digest", A, "--status", "decommissioned"]]) {
      expect((await record(...extra)).code).toBe(0);
    }
  });

  it("prints the API's JSON with -o json", async () => {
    const res = await chainloop("metrics", "--logical-env", "production", "--since", "30d", "--bucket", "day", "-o", "json");
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout) as MetricsJson;
    expect(json.bucket).toBe("METRICS_BUCKET_DAY");
    expect(json.failureWindow).toBe("3600s");
    expect(json.total).toMatchObject({ deploymentCount: 3, failedCount: 2, rollbackCount: 1, leadTimeCount: 2, restoredCount: 1 });
    expect(json.total.changeFailureRate).toBeCloseTo(2 / 3, 12);
    expect(json.total.leadTimeMedian).toMatch(/^\d+(\.\d+)?s$/);
    // 30 days back from now, by UTC day: 30 or 31 buckets, the last (today) holding everything.
    expect([30, 31]).toContain(json.buckets.length);
    expect(json.buckets.reduce((n, b) => n + b.deploymentCount, 0)).toBe(3);
    expect(Date.parse(json.total.endTime) - Date.parse(json.total.startTime)).toBeGreaterThanOrEqual(30 * 86_400_000);
  });

  it("prints one row per bucket and a total row", async () => {
    const res = await chainloop("metrics", "--logical-env", "production", "--env", "prod-cluster", "--since", "30d", "--bucket", "day");
    expect(res.code).toBe(0);
    const [head, ...rest] = res.stdout.split("\n");
    expect(head).toMatch(/^production, environment prod-cluster: \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? to \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? \(UTC\), day buckets, failure window 1h$/);
    const { headers, rows } = parseTable(rest.join("\n"));
    expect(headers).toEqual(["PERIOD", "DEPLOYS", "PER DAY", "LEAD TIME (MEDIAN / P90)", "FAILED", "ROLLBACKS", "TIME TO RESTORE (MEDIAN / P90)"]);
    expect(rows.at(-1)).toMatchObject({ PERIOD: "total", DEPLOYS: "3", "PER DAY": "0.10", FAILED: "2 (66.7%)", ROLLBACKS: "1" });
    const span = "\\d+(ms|s|m|h|d)( \\d+(s|m|h|d))?";
    expect(rows.at(-1)!["LEAD TIME (MEDIAN / P90)"]).toMatch(new RegExp(`^${span} / ${span}$`));
    expect(rows.at(-1)!["TIME TO RESTORE (MEDIAN / P90)"]).toMatch(new RegExp(`^${span} / ${span}$`));
    // The day rows: the last one or two (just after midnight) hold the three deployments.
    expect(rows.slice(0, -1).reduce((n, r) => n + Number(r.DEPLOYS), 0)).toBe(3);
    expect(rows.slice(0, -3).every((r) => r.DEPLOYS === "0" && r["LEAD TIME (MEDIAN / P90)"] === "-" && r.FAILED === "0 (0%)")).toBe(true);
  });

  it("measures a fixed period: empty and clipped buckets", async () => {
    const res = await chainloop("metrics", "--logical-env", "production", "--since", "2026-01-05T00:00:00Z", "--until", "2026-01-19T12:00:00Z", "--failure-window", "30m");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      [
        "production, every environment: 2026-01-05 to 2026-01-19 12:00 (UTC), week buckets, failure window 30m",
        "PERIOD                           DEPLOYS   PER DAY   LEAD TIME (MEDIAN / P90)   FAILED   ROLLBACKS   TIME TO RESTORE (MEDIAN / P90)",
        "2026-01-05 to 2026-01-12         0         0.00      -                          0 (0%)   0           -",
        "2026-01-12 to 2026-01-19         0         0.00      -                          0 (0%)   0           -",
        "2026-01-19 to 2026-01-19 12:00   0         0.00      -                          0 (0%)   0           -",
        "total                            0         0.00      -                          0 (0%)   0           -",
        "",
      ].join("\n"),
    );
  });

  it("refuses bad input: usage errors before any call, the server's errors as one line", async () => {
    expectUsageError(await chainloop("metrics"), "Missing required argument: logical-env");
    expectUsageError(await chainloop("metrics", "--logical-env", "production", "--bucket", "year"), 'Argument: bucket, Given: "year", Choices: "day", "week", "month"');
    const badSince = await chainloop("metrics", "--logical-env", "production", "--since", "yesterday");
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toMatch(/--since must be an RFC 3339 time such as 2026-12-01T10:00:00Z, or a duration ago/);
    expectUsageError(await chainloop("metrics", "--logical-env", "production", "--since", "1d", "--until", "2d"), "--until must be after --since");
    expectOneErrorLine(await chainloop("metrics", "--logical-env", "production", "--env", "nowhere"), /environment "nowhere" not found/);
    expectOneErrorLine(await chainloop("metrics", "--logical-env", "prod"), /logical environment "prod" not found/);
    expectOneErrorLine(await chainloop("metrics", "--logical-env", "production", "--since", "2000-01-01T00:00:00Z", "--bucket", "day"), /the limit is 1000/);
  });
});

describe("metrics table formatting", () => {
  it("writes durations with their two largest units and instants without needless zeros", async () => {
    const { formatSpan, formatInstant } = await import("../../cli/metrics-format.js");
    const { durationFromMs } = await import("@bufbuild/protobuf/wkt");
    const { timestampFromDate } = await import("@bufbuild/protobuf/wkt");
    const span = (ms: number) => formatSpan(durationFromMs(ms));
    expect(formatSpan(undefined)).toBe("-");
    expect([0, 350, 999, 1000, 59_999, 3_240_000, 27_000_000, 446_400_000, 86_400_000, 90_061_000, 3_600_500].map(span)).toEqual([
      "0ms", "350ms", "999ms", "1s", "59s", "54m", "7h 30m", "5d 4h", "1d", "1d 1h", "1h",
    ]);
    expect(formatInstant(timestampFromDate(new Date("2026-11-04T00:00:00Z")))).toBe("2026-11-04");
    expect(formatInstant(timestampFromDate(new Date("2026-11-25T12:00:00Z")))).toBe("2026-11-25 12:00");
    expect(formatInstant(timestampFromDate(new Date("2026-11-25T12:00:07.250Z")))).toBe("2026-11-25 12:00:07");
  });
});
