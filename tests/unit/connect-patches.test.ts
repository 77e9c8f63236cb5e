// The patches of patches/ (applied by `patch-package` on `npm ci`, package.json's postinstall)
// to @connectrpc/connect and @connectrpc/connect-node: each targets the exact version package.json
// pins and node_modules holds, and is applied in full; and what each is for holds, against
// connect-node's own adapter on a port of this test's: undecodable binary requests are
// InvalidArgument (not Internal), the request's signal aborts only when the client goes away
// (with a reason), and an HTTP/1.1 body read stopped early leaves the request its socket.
// When a dependency update makes a patch stop applying, `npm ci` fails (--error-on-fail) and
// so does this test: port the patch to the new version (npx patch-package <name>) or drop it.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, universalRequestFromNodeRequest } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { envelope } from "../helpers/hostile.js";
import { ROOT } from "../helpers/server.js";

const PATCH_DIR = path.join(ROOT, "patches");
const patches = fs
  .readdirSync(PATCH_DIR)
  .filter((f) => f.endsWith(".patch"))
  .map((file) => {
    // patch-package's naming: <name with / as +>+<version>.patch
    const m = /^(.+)\+([^+]+)\.patch$/.exec(file);
    if (!m) throw new Error(`patches/${file} is not named <package>+<version>.patch`);
    return { file, name: m[1].replace("+", "/"), version: m[2] };
  });

test("the patches are the ones this test knows", () => {
  expect(patches.map((p) => p.file).sort()).toEqual(["@connectrpc+connect+2.1.2.patch", "@connectrpc+connect-node+2.1.2.patch"]);
});

test.each(patches)("$file targets the version package.json pins and node_modules holds, and is applied in full", ({ file, name, version }) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  expect([name, pkg.dependencies[name]]).toEqual([name, version]); // exact, not a range
  const installed = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string };
  expect([name, installed.version]).toEqual([name, version]);
  // Applied in full: every hunk reverses cleanly (a hunk that is missing, or was applied to
  // other code, does not).
  let failure = "";
  try {
    execFileSync("git", ["apply", "--check", "--reverse", path.join(PATCH_DIR, file)], { cwd: ROOT, stdio: "pipe" });
  } catch (e) {
    failure = `patches/${file} is not applied to node_modules (run npx patch-package): ${String((e as { stderr?: Buffer }).stderr ?? e)}`;
  }
  expect(failure).toBe("");
});

/** connect-node's adapter serving grpc.health.v1.Health, on h2c and HTTP/1.1 ports. */
async function healthServer() {
  const routes = (router: ConnectRouter) =>
    router.service(Health, {
      check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
      async *watch() {
        yield { status: HealthCheckResponse_ServingStatus.SERVING };
      },
    });
  const handler = connectNodeAdapter({ routes });
  const h2 = http2.createServer(handler);
  const h1 = http.createServer(handler);
  await Promise.all([h2, h1].map((s) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))));
  return {
    h2Url: `http://127.0.0.1:${(h2.address() as AddressInfo).port}`,
    h1Port: (h1.address() as AddressInfo).port,
    close: () => Promise.all([h2, h1].map((s) => new Promise((resolve) => s.close(resolve)))),
  };
}

/** A gRPC call with `body` as the request stream; resolves with the grpc-status. */
function grpcStatus(url: string, body: Buffer): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers" });
    let status: string | undefined;
    req.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
    req.on("trailers", (t) => (status = t["grpc-status"] as string | undefined));
    req.on("error", reject);
    req.on("close", () => {
      session.close();
      resolve(status);
    });
    req.resume();
    req.end(body);
  });
}

/** Writes `request` (and no more) to a new HTTP/1.1 connection; resolves with what the server sent until it answered or closed. */
function rawH1(port: number, request: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (d) => {
      received += d.toString("latin1");
      const head = received.indexOf("\r\n\r\n");
      const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? NaN);
      if (head >= 0 && received.length >= head + 4 + length) socket.destroy();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(received));
    socket.write(request);
  });
}

describe("what the patches are for", () => {
  let server: Awaited<ReturnType<typeof healthServer>>;
  beforeAll(async () => {
    server = await healthServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("answers an undecodable binary request InvalidArgument, not Internal (@connectrpc/connect)", async () => {
    // A field tag with wire type 7 cannot be parsed.
    expect(await grpcStatus(server.h2Url, envelope(Buffer.from([0x0f, 0xff, 0xff])))).toBe(String(Code.InvalidArgument));
    // A compressed message without grpc-encoding.
    expect(await grpcStatus(server.h2Url, envelope(Buffer.from([0x0a, 0x00]), 1))).toBe(String(Code.InvalidArgument));
    const res = await fetch(`${server.h2Url.replace(/:\d+$/, `:${server.h1Port}`)}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: Buffer.from([0x0f, 0xff, 0xff]),
    });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([400, "invalid_argument"]);
  });

});

test("an HTTP/1.1 request body read stopped early (over readMaxBytes) keeps its socket for the answer (@connectrpc/connect-node)", async () => {
  // Node's stream destroyer detaches the socket from a request it destroys (req.socket = null):
  // server/app.ts could then not close the connection after the answer (lingering close).
  let seen: { destroyed: boolean; socket: boolean } | undefined;
  const server = http.createServer((req, res) => {
    const uReq = universalRequestFromNodeRequest(req, res, undefined, undefined);
    void (async () => {
      const it = (uReq.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      await it.next();
      await it.return?.();
      seen = { destroyed: req.destroyed, socket: req.socket !== null };
      res.writeHead(429, { connection: "close" }).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    // The first chunk now, the rest never: the body is still arriving when the reader stops.
    const answer = await rawH1(port, Buffer.from("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(seen).toEqual({ destroyed: false, socket: true });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

describe("the request signal (@connectrpc/connect-node)", () => {
  /** A server whose handler answers with `respond` and reports the request signal once the response closed. */
  async function signalAfterClose(respond: (res: http.ServerResponse) => void, client: (port: number) => Promise<unknown>) {
    let done!: (s: AbortSignal) => void;
    const signal = new Promise<AbortSignal>((resolve) => (done = resolve));
    const server = http.createServer((req, res) => {
      const uReq = universalRequestFromNodeRequest(req, res, undefined, undefined);
      res.once("close", () => setImmediate(() => done(uReq.signal)));
      respond(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await client((server.address() as AddressInfo).port).catch(() => undefined);
      return await signal;
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  it("does not abort when the response completed", async () => {
    const signal = await signalAfterClose(
      (res) => res.end("ok"),
      (port) => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()),
    );
    expect(signal.aborted).toBe(false);
  });

  it("aborts, Canceled, when the client goes away before the response is complete", async () => {
    const signal = await signalAfterClose(
      (res) => res.write("partial"),
      (port) =>
        new Promise((resolve) => {
          const socket = net.connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
          socket.once("data", () => socket.destroy());
          socket.on("close", resolve);
        }),
    );
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ConnectError);
    expect((signal.reason as ConnectError).code).toBe(Code.Canceled);
  });
});
