// What the browser tests share: Debian's Chromium driven by playwright-core (skipped, with a
// message, only when /usr/bin/chromium is absent; CI installs it), the screenshots' folder,
// signing in, and waiting for an attribute under the page's strict CSP.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { ROOT } from "../helpers/server.js";

export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = path.join(ROOT, "tests/artifacts");
export const haveChromium = fs.existsSync(CHROMIUM);

/** `describe` when Chromium is installed, else `describe.skip` with a warning naming the file. */
export function browserSuite(file: string): jest.Describe {
  if (!haveChromium) console.warn(`${file}: SKIPPED: ${CHROMIUM} is absent (install it: apt-get install -y chromium)`);
  return haveChromium ? describe : describe.skip;
}

export const skippedNote = haveChromium ? "" : ` (skipped: ${CHROMIUM} is absent)`;

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page (a test ends expecting none). */
  pageErrors: string[];
  close(): Promise<void>;
}

/** A headless Chromium with a throwaway profile, one page, and the screenshots' folder made. */
export async function launchBrowser(opts: { timezoneId?: string } = {}): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    timezoneId: opts.timezoneId,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the page and signs in with `token`. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByRole("textbox", { name: "API token" }).fill(token);
  await page.getByRole("button", { name: "Connect with this token" }).click();
}

/** A full-page screenshot in tests/artifacts/, its path logged; checks it is not blank. */
export async function screenshot(page: Page, name: string, what: string): Promise<string> {
  const shot = path.join(ARTIFACTS, name);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot of ${what}: ${shot}`);
  if (fs.statSync(shot).size < 10_000) throw new Error(`${shot} is suspiciously small`);
  return shot;
}

/**
 * Polls an attribute through the locator (DevTools protocol calls, which the page's strict CSP
 * allows; page.waitForFunction with a string would need eval, which it forbids).
 */
export async function waitForAttribute(locator: Locator, name: string, value: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await locator.getAttribute(name, { timeout: Math.max(1, deadline - Date.now()) }).catch(() => null);
    if (last === value) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} stayed ${JSON.stringify(last)}, expected ${JSON.stringify(value)} within ${timeoutMs} ms`);
}

/** Polls `read` until it returns `expected` (deep-equal as JSON); throws with the last value. */
export async function waitForValue<T>(read: () => Promise<T>, expected: T, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read().catch(() => undefined);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`got ${JSON.stringify(last)}, expected ${JSON.stringify(expected)} within ${timeoutMs} ms`);
}
