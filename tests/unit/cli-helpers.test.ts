// The CLI's small pieces, without a process: durations (--timeout, --expires-in), the error
// lines for a timeout and a missing token, future relative times, and the two stand-ins the
// CLI bundle uses instead of string-width and undici's Headers (cli/bundle/).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import realStringWidth from "string-width";
// @ts-expect-error: plain JavaScript, only for the bundle (cli/bundle/build.mjs)
import { Headers as BundleHeaders } from "../../cli/bundle/headers.mjs";
// @ts-expect-error: plain JavaScript, only for the bundle (cli/bundle/build.mjs)
import bundleStringWidth from "../../cli/bundle/string-width.mjs";
import { formatDuration, parseDuration } from "../../server/shared/durations.js";
import { formatError, relative } from "../../cli/output.js";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["90m", 5_400_000],
    ["12h", 43_200_000],
    ["30d", 2_592_000_000],
    ["2w", 1_209_600_000],
    ["1h30m", 5_400_000],
    ["1500ms", 1_500],
    ["0s", 0],
  ])("%s is %i ms", (text, ms) => {
    expect(parseDuration(text, "--x")).toBe(ms);
  });

  it("takes a bare number in the bare unit only", () => {
    expect(parseDuration("10", "--timeout", "s")).toBe(10_000);
    expect(() => parseDuration("10", "--expires-in")).toThrow('--expires-in must be a duration such as 30s, 90m, 12h, 30d, 2w or 1h30m, got "10"');
  });

  it.each(["", "soon", "1.5h", "-1s", "1y", "h", "1h 30m"])("refuses %j", (text) => {
    expect(() => parseDuration(text, "--x")).toThrow(/^--x must be a duration/);
  });

  it("formats durations shortly", () => {
    expect([0, 1_000, 1_500, 90_000, 86_400_000 + 3_600_000].map(formatDuration)).toEqual(["0s", "1s", "1s500ms", "1m30s", "1d1h"]);
  });
});

describe("formatError with what the command knew", () => {
  it("names the server and --timeout when the deadline passed", () => {
    const e = new ConnectError("the operation timed out", Code.DeadlineExceeded);
    expect(formatError(e, "http://ci:8080", { timeoutMs: 30_000 })).toBe(
      "chainloop: the server at http://ci:8080 did not answer within 30s (--timeout); check that it is healthy, or allow more time with --timeout or CHAINLOOP_TIMEOUT",
    );
    // Without a client timeout it is the server's own answer.
    expect(formatError(e, "http://ci:8080")).toBe("chainloop: deadline_exceeded: the operation timed out");
  });

  it("says how to give a token only when none was given", () => {
    const e = new ConnectError("missing API token", Code.Unauthenticated);
    expect(formatError(e, "http://x", { tokenGiven: false })).toBe(
      "chainloop: unauthenticated: no API token was given; pass --token <token> or set CHAINLOOP_TOKEN",
    );
    expect(formatError(new ConnectError('API token "ci" (1) has been revoked', Code.Unauthenticated), "http://x", { tokenGiven: true })).toBe(
      'chainloop: unauthenticated: API token "ci" (1) has been revoked',
    );
    expect(formatError(new ConnectError("no", Code.PermissionDenied), "http://x", { tokenGiven: false })).toBe("chainloop: permission_denied: no");
  });
});

describe("relative", () => {
  const NOW = new Date("2025-01-31T12:00:00Z");
  const at = (ms: number) => timestampFromDate(new Date(NOW.getTime() + ms));
  it.each([
    [30 * 86_400_000, "in 30d"],
    [3 * 3_600_000 + 5, "in 3h"],
    [90_000, "in 1m"],
    [5_000, "in 5s"],
    [0, "just now"],
    [-120_000, "2m ago"],
  ])("%i ms from now is %s", (ms, expected) => {
    expect(relative(at(ms), NOW)).toBe(expected);
  });
});

describe("the bundle's string-width", () => {
  it.each(["", "abc", "  --digest  The artifact's digest", "a…b", "—", "日本語", "ｈｉ", "👍", "👨‍👩‍👧", "é", "e\u0301", "\u001b[31mred\u001b[0m", "✓ done", "©", "⚡", "\u200b", "tab\there"])(
    "measures %j as string-width does",
    (text) => {
      expect(bundleStringWidth(text)).toBe(realStringWidth(text));
    },
  );
});

type HeadersInit = ConstructorParameters<typeof Headers>[0];

describe("the bundle's Headers", () => {
  /** What a Headers shows: its entries in iteration order, and some lookups. */
  function view(h: Headers): unknown {
    return { entries: [...h.entries()], forEach: collect(h), get: [h.get("content-type"), h.get("X-Multi"), h.get("missing")], has: [h.has("X-MULTI"), h.has("nope")] };
  }
  function collect(h: Headers): [string, string][] {
    const out: [string, string][] = [];
    h.forEach((value, name) => out.push([name, value]));
    return out;
  }

  it.each<[string, HeadersInit | undefined]>([
    ["nothing", undefined],
    ["a record", { "Content-Type": " application/proto ", "x-multi": "a" }],
    ["pairs", [["X-Multi", "a"], ["x-multi", "b"], ["Content-Type", "application/json"]]],
  ])("behaves like undici's Headers, built from %s", (_, init) => {
    const mine = new BundleHeaders(init) as Headers;
    const theirs = new Headers(init);
    for (const h of [mine, theirs]) {
      h.append("Z-Last", "1");
      h.append("x-multi", "c");
      h.set("Authorization", "Bearer x");
      h.delete("authorization");
      h.set("Connect-Timeout-Ms", "30000");
    }
    expect(view(mine)).toEqual(view(theirs));
    // Copies in both directions keep everything.
    expect(view(new BundleHeaders(theirs) as Headers)).toEqual(view(theirs));
    expect(view(new Headers(mine as unknown as HeadersInit))).toEqual(view(theirs));
  });

  it("refuses what undici refuses", () => {
    expect(() => new BundleHeaders({ "bad name": "x" })).toThrow(TypeError);
    expect(() => new BundleHeaders().set("x", "a\nb")).toThrow(TypeError);
    expect(() => new BundleHeaders([["only-a-name"]])).toThrow(TypeError);
  });
});
