// Connections that never finish saying what they want are closed after
// CHAINLOOP_HEADERS_TIMEOUT_MS (here 1 s): silent ones, a half-sent HTTP/2 preface, HTTP/1.1
// headers that never end. Connections that did, and then sit idle between calls (HTTP/1.1
// keep-alive, an HTTP/2 session), are not. Real server process, raw sockets. The timeouts are
// the HTTP layer's, the same on either database, so this runs on the embedded one only.
import { spawn } from "node:child_process";
import http2 from "node:http2";
import net from "node:net";
import path from "node:path";
import { sleep } from "../helpers/faults.js";
import { serveFor } from "../helpers/served.js";
import { ROOT } from "../helpers/server.js";

const TIMEOUT_MS = 1_000;

/** Opens a raw TCP connection, writes `send`, and resolves when the server closes it. */
function untilClosed(port: number, send: string): Promise<{ ms: number; received: string; reset: boolean }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    let reset = false;
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (received += d));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET") reset = true;
      else reject(e);
    });
    socket.on("connect", () => {
      if (send) socket.write(send);
    });
    // The server closing its side is what we wait for; our side follows.
    socket.on("end", () => socket.end());
    socket.on("close", () => resolve({ ms: Date.now() - t0, received, reset }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for 15 s (sent ${JSON.stringify(send)})`));
    }, 15_000).unref();
  });
}

/** One HTTP/1.1 request on an open socket; resolves with the response head and body. */
function h1Request(socket: net.Socket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const onData = (d: Buffer) => {
      received += d.toString("latin1");
      const head = received.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(received.slice(0, head))?.[1] ?? 0);
      if (received.length >= head + 4 + length) {
        socket.off("data", onData);
        resolve(received);
      }
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`connection closed; received ${JSON.stringify(received)}`)));
    socket.write(request);
  });
}

const healthz = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";

describe("HTTP/1.0 without a Host header", () => {
  const served = serveFor("pglite");

  it("answers an RPC and a page (HTTP/1.0 allows no Host; it used to end the process) and the server stays up", async () => {
    const rpc = await untilClosed(
      served.server.port,
      "POST /chainloop.v1.ServerInfoService/GetServerInfo HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    );
    expect(rpc.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(rpc.received).toContain('"apiVersion":"chainloop.v1"');
    const page = await untilClosed(served.server.port, "GET /healthz HTTP/1.0\r\n\r\n");
    expect(page.received).toMatch(/^HTTP\/1\.1 200 /);
    const socket = net.connect(served.server.port, "127.0.0.1");
    try {
      expect(await h1Request(socket, healthz)).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
    }
  });
});

describe("connection timeouts (CHAINLOOP_HEADERS_TIMEOUT_MS)", () => {
  const served = serveFor("pglite", { CHAINLOOP_HEADERS_TIMEOUT_MS: String(TIMEOUT_MS) });

  it("closes a connection that sends nothing", async () => {
    const r = await untilClosed(served.server.port, "");
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + 4_000);
    expect(r.received).toBe("");
  });

  it("closes a connection that stops inside the HTTP/2 preface", async () => {
    const r = await untilClosed(served.server.port, "PRI * HTTP/2");
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + 4_000);
  });

  it("answers 408 and closes when HTTP/1.1 headers never end", async () => {
    const r = await untilClosed(served.server.port, "POST /chainloop.v1.EnvironmentService/ListEnvironments HTTP/1.1\r\nHost: test\r\n");
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + 4_000);
    expect(r.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("keeps an HTTP/1.1 keep-alive connection that idles between requests longer than the timeout", async () => {
    const socket = net.connect(served.server.port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    try {
      expect(await h1Request(socket, healthz)).toMatch(/^HTTP\/1\.1 200 [\s\S]*"SERVING"/);
      await sleep(TIMEOUT_MS * 2.5);
      expect(socket.destroyed).toBe(false);
      expect(await h1Request(socket, healthz)).toMatch(/^HTTP\/1\.1 200 [\s\S]*"SERVING"/);
    } finally {
      socket.destroy();
    }
  });

  it("keeps an HTTP/2 session that idles between requests longer than the timeout", async () => {
    const session = http2.connect(served.url);
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = session.request({ ":path": "/healthz" });
        req.on("response", (h) => resolve(Number(h[":status"])));
        req.on("error", reject);
        req.resume();
        req.end();
      });
    try {
      expect(await get()).toBe(200);
      await sleep(TIMEOUT_MS * 2.5);
      expect(session.closed || session.destroyed).toBe(false);
      expect(await get()).toBe(200);
    } finally {
      session.close();
    }
  });

  it("refuses an out-of-range CHAINLOOP_HEADERS_TIMEOUT_MS at start-up with exit code 2 and the reason", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist/server/main.js")], {
      env: { PATH: process.env.PATH ?? "", PORT: "0", CHAINLOOP_HEADERS_TIMEOUT_MS: "50", CHAINLOOP_DATA_DIR: path.join(served.db.env.CHAINLOOP_DATA_DIR ?? "/nonexistent", "unused") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000); // had it started, it would listen until killed
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearTimeout(killer);
    expect(code).toBe(2);
    expect(stderr).toContain("CHAINLOOP_HEADERS_TIMEOUT_MS must be an integer between 100 and 300000");
  });
});
