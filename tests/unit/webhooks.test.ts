// Webhooks' pieces that need no database: where deliveries may go (private targets refused at
// subscription time and at connection time, DNS included), the sender against real local HTTP
// servers (no redirect followed, the timeout, what errors say), secrets at rest, the backoff, and
// the URL rules. The whole flow, on both backends, is tests/integration/webhooks.test.ts.
import { createHmac } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { ConfigError, loadConfig } from "../../server/config.js";
import { DomainError } from "../../server/domain/errors.js";
import { ALL_EVENTS_MASK, eventsOf, maskOf, originOf, requireWebhookUrl } from "../../server/domain/webhooks.js";
import { backoffMs, perSubscriptionLimit } from "../../server/webhooks/dispatcher.js";
import { mintWebhookSecret, SecretBox, SecretKeyMismatch } from "../../server/webhooks/secrets.js";
import { send } from "../../server/webhooks/sender.js";
import { AddressCheck, refusedRange } from "../../server/webhooks/target.js";

/** A local HTTP server that answers every request with `answer`, counting requests. */
async function serve(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    req.resume();
    req.on("end", () => answer(req, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get count() {
      return count;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("webhook targets", () => {
  it("refuses private, loopback, link-local, unique-local, CGNAT and special addresses, and allows public ones", async () => {
    const check = new AddressCheck(false);
    for (const host of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "[::1]", "[fe80::1]", "[fd00::1]", "[::ffff:127.0.0.1]", "224.0.0.1"]) {
      const refusal = await check.refusal(new URL(`http://${host}:8080/hook`));
      expect([host, refusal]).toEqual([host, expect.stringContaining("CHAINLOOP_WEBHOOK_ALLOW_PRIVATE")]);
    }
    for (const host of ["8.8.8.8", "[2001:4860:4860::8888]"]) {
      expect(await check.refusal(new URL(`https://${host}/hook`))).toBeUndefined();
    }
    // Names are resolved: localhost is loopback.
    expect(await check.refusal(new URL("http://localhost:9/hook"))).toMatch(/localhost resolves to .*loopback/);
    // A name that does not resolve is refused too (.invalid never does).
    expect(await check.refusal(new URL("http://no-such-host.invalid/hook"))).toMatch(/does not resolve/);
    // Allowed, everything passes.
    const open = new AddressCheck(true);
    expect(await open.refusal(new URL("http://127.0.0.1/"))).toBeUndefined();
    expect(await open.refusal(new URL("http://localhost/"))).toBeUndefined();
    expect(refusedRange("10.0.0.1", true)).toBeUndefined();
  });

  it("refuses private targets at connection time, literal or resolved, without connecting", async () => {
    const target = await serve((_req, res) => res.writeHead(204).end());
    try {
      for (const host of ["127.0.0.1", "localhost"]) {
        const res = await send(new URL(`http://${host}:${target.port}/hook`), {}, "{}", { timeoutMs: 2_000, allowPrivate: false });
        expect(res).toEqual({ ok: false, status: 0, error: expect.stringMatching(/^refused: .*loopback/) });
      }
      expect(target.count).toBe(0);
      const allowed = await send(new URL(`http://localhost:${target.port}/hook`), {}, "{}", { timeoutMs: 2_000, allowPrivate: true });
      expect(allowed).toEqual({ ok: true, status: 204, error: "" });
      expect(target.count).toBe(1);
    } finally {
      await target.close();
    }
  });
});

describe("webhook sender", () => {
  it("posts the body and headers, and takes any 2xx as delivered", async () => {
    let got: { method?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        got = { method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() };
        res.writeHead(202).end("x".repeat(100_000)); // a large body is read only in part
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const res = await send(new URL(`http://127.0.0.1:${port}/in?token=abc`), { "webhook-id": "w1", "content-type": "application/json" }, '{"a":"é"}', {
        timeoutMs: 2_000,
        allowPrivate: true,
      });
      expect(res).toEqual({ ok: true, status: 202, error: "" });
      expect(got.method).toBe("POST");
      expect(got.body).toBe('{"a":"é"}');
      expect(got.headers?.["webhook-id"]).toBe("w1");
      expect(got.headers?.["content-length"]).toBe(String(Buffer.byteLength('{"a":"é"}')));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("does not follow redirects, says where they pointed (scheme, host and port only), and fails other statuses", async () => {
    const elsewhere = await serve((_req, res) => res.writeHead(204).end());
    const redirecting = await serve((req, res) =>
      req.url === "/500" ? res.writeHead(500).end("secret stack trace") : res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/path?key=s3cr3t` }).end(),
    );
    try {
      const res = await send(new URL(`http://127.0.0.1:${redirecting.port}/hook`), {}, "{}", { timeoutMs: 2_000, allowPrivate: true });
      expect(res).toEqual({ ok: false, status: 302, error: `redirect (HTTP 302) to http://127.0.0.1:${elsewhere.port} not followed` });
      expect(elsewhere.count).toBe(0);
      const failed = await send(new URL(`http://127.0.0.1:${redirecting.port}/500`), {}, "{}", { timeoutMs: 2_000, allowPrivate: true });
      expect(failed).toEqual({ ok: false, status: 500, error: "the receiver answered HTTP 500" });
    } finally {
      await redirecting.close();
      await elsewhere.close();
    }
  });

  it("gives up after the timeout on a receiver that never answers, and names a refused connection", async () => {
    const hanging = await serve(() => undefined);
    try {
      const started = Date.now();
      const res = await send(new URL(`http://127.0.0.1:${hanging.port}/`), {}, "{}", { timeoutMs: 300, allowPrivate: true });
      expect(res).toEqual({ ok: false, status: 0, error: "no answer within 300 ms" });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await hanging.close();
    }
    const closed = await serve(() => undefined);
    const port = closed.port;
    await closed.close();
    const refused = await send(new URL(`http://127.0.0.1:${port}/`), {}, "{}", { timeoutMs: 2_000, allowPrivate: true });
    expect(refused).toEqual({ ok: false, status: 0, error: "connection refused (ECONNREFUSED)" });
  });

  it("stops an attempt when its signal aborts", async () => {
    const hanging = await serve(() => undefined);
    try {
      const controller = new AbortController();
      const pending = send(new URL(`http://127.0.0.1:${hanging.port}/`), {}, "{}", { timeoutMs: 10_000, allowPrivate: true, signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      expect(await pending).toEqual({ ok: false, status: 0, error: "interrupted: the server stopped during the attempt" });
    } finally {
      await hanging.close();
    }
  });
});

describe("webhook secrets", () => {
  it("mints Standard Webhooks secrets that both the library and the specification's HMAC accept", () => {
    const secret = mintWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    const at = new Date(1_700_000_000_000);
    const signature = new StandardWebhook(secret).sign("msg_1", at, '{"x":1}');
    const byHand = createHmac("sha256", Buffer.from(secret.slice(6), "base64")).update('msg_1.1700000000.{"x":1}').digest("base64");
    expect(signature).toBe(`v1,${byHand}`);
    expect(mintWebhookSecret()).not.toBe(secret);
  });

  it("encrypts secrets bound to their subscription, and says so when another key is in use", () => {
    const box = new SecretBox({ configured: "k".repeat(40) });
    const secret = mintWebhookSecret();
    const sealed = box.seal(secret, "sub-1");
    expect(sealed).not.toContain(secret.slice(6));
    expect(sealed).not.toContain("whsec_");
    expect(box.open(sealed, box.keyId(), "sub-1")).toBe(secret);
    // Another subscription's row: does not decrypt.
    expect(() => box.open(sealed, box.keyId(), "sub-2")).toThrow(/does not decrypt/);
    // Another key: named as such.
    const other = new SecretBox({ configured: "o".repeat(40) });
    expect(other.keyId()).not.toBe(box.keyId());
    expect(() => other.open(sealed, box.keyId(), "sub-1")).toThrow(SecretKeyMismatch);
    expect(() => other.open(sealed, box.keyId(), "sub-1")).toThrow(/CHAINLOOP_SECRETS_KEY is not the one the secret was stored with/);
    // Same key, another process: the same id, and it decrypts.
    expect(new SecretBox({ configured: "k".repeat(40) }).open(sealed, box.keyId(), "sub-1")).toBe(secret);
  });

  it("generates the key file once (mode 0600) and every box on that data directory uses it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-secrets-"));
    try {
      const first = new SecretBox({ dataDir: dir });
      const sealed = first.seal("whsec_abc", "sub");
      const file = path.join(dir, "secrets.key");
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, "utf8").trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const second = new SecretBox({ dataDir: dir });
      expect(second.keyId()).toBe(first.keyId());
      expect(second.open(sealed, first.keyId(), "sub")).toBe("whsec_abc");
      fs.writeFileSync(file, "short\n");
      expect(() => new SecretBox({ dataDir: dir }).keyId()).toThrow(/does not hold a key/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("webhook rules", () => {
  it("backs off exponentially from the minimum, capped, with jitter in [d/2, d]", () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1000, 5000, () => 1))).toEqual([1000, 2000, 4000, 5000]);
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1000, 5000, () => 0))).toEqual([500, 1000, 2000, 2500]);
    expect(backoffMs(500, 1000, 5000, () => 1)).toBe(5000);
  });

  it("takes http(s) URLs without credentials or fragments, and never repeats the URL's path in errors", () => {
    expect(requireWebhookUrl("https://hooks.example.com/a?b=c").href).toBe("https://hooks.example.com/a?b=c");
    const bad: Array<[string, RegExp]> = [
      ["", /url is required/],
      ["ftp://example.com/x", /http:\/\/ or https:\/\//],
      ["not a url", /spaces or control/],
      ["example.com/hook", /not a valid absolute URL/],
      ["https://user:pw@example.com/hook", /credentials/],
      ["https://@example.com/hook", /credentials/],
      ["https://example.com/hook#frag", /fragment/],
      [`https://example.com/${"a".repeat(2048)}`, /limit is 2048/],
    ];
    for (const [url, message] of bad) {
      let error: unknown;
      try {
        requireWebhookUrl(url);
      } catch (e) {
        error = e;
      }
      expect([url, error instanceof DomainError && (error as DomainError).kind]).toEqual([url, "InvalidArgument"]);
      expect([url, (error as Error).message]).toEqual([url, expect.stringMatching(message)]);
      expect((error as Error).message).not.toContain("pw@");
    }
    expect(originOf(new URL("https://example.com/secret/path?token=x"))).toBe("https://example.com:443");
  });

  it("maps event types to the mask and back (empty means all)", () => {
    expect(maskOf([])).toBe(ALL_EVENTS_MASK);
    expect(maskOf(["deployed", "stale"])).toBe(17);
    expect(eventsOf(17)).toEqual(["deployed", "stale"]);
    expect(eventsOf(ALL_EVENTS_MASK)).toEqual([]);
  });
});

describe("webhook configuration", () => {
  it("reads the CHAINLOOP_WEBHOOK_* settings and the secrets key, with their defaults", () => {
    expect(loadConfig({})).toMatchObject({
      webhooks: { allowPrivate: false, timeoutMs: 10_000, retryWindowMs: 86_400_000, backoffMinMs: 5_000, backoffMaxMs: 3_600_000, pollMs: 500, concurrency: 16, leaseMarginMs: 20_000, deliver: true },
      secretsKey: undefined,
    });
    const key = "0123456789abcdef0123456789abcdef";
    const cfg = loadConfig({
      CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: "On",
      CHAINLOOP_WEBHOOK_TIMEOUT_MS: "2000",
      CHAINLOOP_WEBHOOK_RETRY_WINDOW_MS: "60000",
      CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS: "100",
      CHAINLOOP_WEBHOOK_BACKOFF_MAX_MS: "1000",
      CHAINLOOP_WEBHOOK_POLL_MS: "50",
      CHAINLOOP_WEBHOOK_CONCURRENCY: "4",
      CHAINLOOP_WEBHOOK_LEASE_MARGIN_MS: "3000",
      CHAINLOOP_WEBHOOK_DELIVERY: "off",
      CHAINLOOP_SECRETS_KEY: key,
    });
    expect(cfg.webhooks).toEqual({ allowPrivate: true, timeoutMs: 2000, retryWindowMs: 60000, backoffMinMs: 100, backoffMaxMs: 1000, pollMs: 50, concurrency: 4, leaseMarginMs: 3000, deliver: false });
    expect(cfg.secretsKey).toBe(key);
    expect(loadConfig({ CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: "0" }).webhooks.allowPrivate).toBe(false);
  });

  it("refuses bad values with a ConfigError that names the variable and never shows the key", () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: "yes please" }, /CHAINLOOP_WEBHOOK_ALLOW_PRIVATE must be 1, true or on/],
      [{ CHAINLOOP_WEBHOOK_TIMEOUT_MS: "10s" }, /CHAINLOOP_WEBHOOK_TIMEOUT_MS must be an integer/],
      [{ CHAINLOOP_WEBHOOK_CONCURRENCY: "0" }, /CHAINLOOP_WEBHOOK_CONCURRENCY must be an integer between 2/],
      [{ CHAINLOOP_WEBHOOK_CONCURRENCY: "1" }, /CHAINLOOP_WEBHOOK_CONCURRENCY must be an integer between 2/],
      [{ CHAINLOOP_WEBHOOK_LEASE_MARGIN_MS: "999" }, /CHAINLOOP_WEBHOOK_LEASE_MARGIN_MS must be an integer between 1000/],
      [{ CHAINLOOP_WEBHOOK_DELIVERY: "maybe" }, /CHAINLOOP_WEBHOOK_DELIVERY must be 1, true or on \(or 0, false, off\)/],
      [{ CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS: "5000", CHAINLOOP_WEBHOOK_BACKOFF_MAX_MS: "1000" }, /BACKOFF_MAX_MS \(1000\) must be at least CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS \(5000\)/],
      [{ CHAINLOOP_SECRETS_KEY: "too-short-key" }, /CHAINLOOP_SECRETS_KEY must be 32/],
      [{ CHAINLOOP_SECRETS_KEY: "with spaces with spaces with spaces with spaces" }, /CHAINLOOP_SECRETS_KEY must be/],
    ];
    for (const [env, message] of bad) {
      let error: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      if (env.CHAINLOOP_SECRETS_KEY) expect((error as Error).message).not.toContain(env.CHAINLOOP_SECRETS_KEY);
    }
  });
});

describe("a subscription's share of the delivery slots", () => {
  test("at most 4, and at most half of them, so a receiver that hangs never holds every slot", () => {
    expect([2, 3, 4, 6, 8, 16, 1000].map(perSubscriptionLimit)).toEqual([1, 1, 2, 3, 4, 4, 4]);
  });
});
