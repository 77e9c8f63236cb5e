// Where webhooks may be sent. A server usually sits inside a network whose private services a
// webhook URL must not reach (SSRF): targets on private, loopback, link-local, unique-local,
// carrier-grade NAT and other special-purpose addresses are refused unless the operator allows
// them (CHAINLOOP_WEBHOOK_ALLOW_PRIVATE). Only addresses ipaddr.js calls plain `unicast` pass.
// The check runs at subscription time on every address the host resolves to, and again at every
// connection, inside the sender's DNS lookup (guardedLookup), so a name that resolves elsewhere
// later (DNS rebinding) is still refused.
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";
import type { WebhookTargets } from "../domain/webhooks.js";

/** How long the subscription-time lookup may take. */
const CREATE_LOOKUP_TIMEOUT_MS = 5_000;

const ALLOW_HINT = "the server operator can allow such targets with CHAINLOOP_WEBHOOK_ALLOW_PRIVATE=1";

/** A connection refused because of where it would go. */
export class TargetRefused extends Error {
  readonly code = "ETARGETREFUSED";
}

/** The range name when `address` may not be sent to (private, loopback, …); undefined when it may. */
export function refusedRange(address: string, allowPrivate: boolean): string | undefined {
  if (allowPrivate) return undefined;
  let range: string;
  try {
    range = ipaddr.process(address).range();
  } catch {
    return "unparseable";
  }
  return range === "unicast" ? undefined : range;
}

function refusalMessage(host: string, address: string, range: string): string {
  const what = host === address ? `url's host ${address} is` : `url's host ${host} resolves to ${address},`;
  return `${what} a ${range} address; webhooks to private, loopback or link-local addresses are refused (${ALLOW_HINT})`;
}

/** The host of a URL as a lookup takes it (IPv6 literals without their brackets). */
export function hostOf(url: URL): string {
  return url.hostname.startsWith("[") && url.hostname.endsWith("]") ? url.hostname.slice(1, -1) : url.hostname;
}

/** The subscription-time check (WebhookTargets). */
export class AddressCheck implements WebhookTargets {
  constructor(private readonly allowPrivate: boolean) {}

  async refusal(url: URL): Promise<string | undefined> {
    const host = hostOf(url);
    if (net.isIP(host)) {
      const range = refusedRange(host, this.allowPrivate);
      return range ? refusalMessage(host, host, range) : undefined;
    }
    let addresses: dns.LookupAddress[];
    try {
      addresses = await withTimeout(dns.promises.lookup(host, { all: true, verbatim: true }), CREATE_LOOKUP_TIMEOUT_MS);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "timeout";
      return `url's host ${host} does not resolve (${code}); check the name`;
    }
    if (addresses.length === 0) return `url's host ${host} does not resolve to any address; check the name`;
    for (const a of addresses) {
      const range = refusedRange(a.address, this.allowPrivate);
      if (range) return refusalMessage(host, a.address, range);
    }
    return undefined;
  }
}

/**
 * The sender's `lookup` (node:net's option): resolves as dns.lookup does and fails the
 * connection with TargetRefused when any resolved address may not be sent to.
 */
export function guardedLookup(allowPrivate: boolean): net.LookupFunction {
  const lookup = (hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const range = refusedRange(a.address, allowPrivate);
        if (range) return callback(new TargetRefused(refusalMessage(hostname, a.address, range)));
      }
      if (list.length === 0) return callback(Object.assign(new Error(`${hostname} resolves to no address`), { code: "ENOTFOUND" }));
      if (options.all) return callback(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  };
  return lookup as unknown as net.LookupFunction;
}

/** Refusal of an IP literal host (node:net does not look literals up, so guardedLookup never sees them). */
export function literalRefusal(url: URL, allowPrivate: boolean): string | undefined {
  const host = hostOf(url);
  if (!net.isIP(host)) return undefined;
  const range = refusedRange(host, allowPrivate);
  return range ? refusalMessage(host, host, range) : undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error("lookup timed out"), { code: "ETIMEOUT" })), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
