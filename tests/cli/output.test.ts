// The CLI's formatting, without a process: tables, relative times and error lines.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ago, formatError, table, when } from "../../cli/output.js";

const NOW = new Date("2025-01-31T12:00:00Z");
const before = (ms: number) => timestampFromDate(new Date(NOW.getTime() - ms));

describe("ago", () => {
  it.each([
    [-5_000, "just now"],
    [0, "just now"],
    [1_000, "1s ago"],
    [59_999, "59s ago"],
    [60_000, "1m ago"],
    [3 * 60_000 + 59_000, "3m ago"],
    [3_600_000, "1h ago"],
    [23 * 3_600_000, "23h ago"],
    [86_400_000, "1d ago"],
    [364 * 86_400_000, "364d ago"],
    [2 * 365 * 86_400_000, "2y ago"],
  ])("%i ms before now is %s", (ms, expected) => {
    expect(ago(before(ms), NOW)).toBe(expected);
  });

  it("shows the absolute time with the relative one in `when`", () => {
    expect(when(before(180_000), NOW)).toBe("2025-01-31T11:57:00Z (3m ago)");
  });
});

describe("table", () => {
  const rows = [
    { name: "k8s-east", description: "Kubernetes US-East", builtIn: true, created: timestampFromDate(new Date(Date.now() - 120_000)) },
    { name: "a", description: "line\nbreak", builtIn: false, created: undefined },
  ];
  const columns = [
    { header: "NAME", value: (r: (typeof rows)[number]) => r.name },
    { header: "DESCRIPTION", value: (r: (typeof rows)[number]) => r.description, maxWidth: 10 },
    { header: "BUILT-IN", value: (r: (typeof rows)[number]) => r.builtIn },
    { header: "CREATED", value: (r: (typeof rows)[number]) => r.created },
  ];

  it("aligns columns, cuts long cells, flattens line breaks and writes no trailing spaces", () => {
    expect(table(columns, rows)).toBe(
      [
        "NAME       DESCRIPTION   BUILT-IN   CREATED",
        "k8s-east   Kubernete…    yes        2m ago",
        "a          line break    no",
        "",
      ].join("\n"),
    );
  });

  it("prints the header alone when there are no rows", () => {
    expect(table(columns, [])).toBe("NAME   DESCRIPTION   BUILT-IN   CREATED\n");
  });
});

describe("formatError", () => {
  it("shows a server error as its code and message on one line", () => {
    const e = new ConnectError('environment "k8s-east" already exists', Code.AlreadyExists);
    expect(formatError(e, "http://x")).toBe('chainloop: already_exists: environment "k8s-east" already exists');
    expect(formatError(new ConnectError("two\nlines", Code.Internal), "http://x")).toBe("chainloop: internal: two lines");
  });

  it("names the server and the flag to fix when the connection failed", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const e = new ConnectError(cause.message, Code.Unavailable, undefined, undefined, cause);
    expect(formatError(e, "http://127.0.0.1:1")).toBe(
      "chainloop: cannot reach the server at http://127.0.0.1:1 (connect ECONNREFUSED 127.0.0.1:1); " +
        "check that it is running, or point the CLI at it with --server or CHAINLOOP_SERVER",
    );
  });

  it("keeps a server's own Unavailable answer apart from a connection failure", () => {
    const e = new ConnectError("the database is unavailable; retry shortly", Code.Unavailable);
    expect(formatError(e, "http://x")).toBe("chainloop: unavailable: the database is unavailable; retry shortly");
  });
});
