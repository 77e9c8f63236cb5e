// Webhook signing secrets: minted (`whsec_` + base64 of 32 random bytes, the Standard Webhooks
// form), shown once, and kept only encrypted (AES-256-GCM, bound to their subscription's id so a
// ciphertext copied onto another row does not decrypt).
//
// The key: CHAINLOOP_SECRETS_KEY (32+ printable characters; the AES key is derived from it with
// HKDF-SHA256), or, unset, a random one generated once into <CHAINLOOP_DATA_DIR>/secrets.key
// (mode 0600) and used by every process that shares the data directory. Each subscription row
// stores the id of the key its secret was encrypted with (a short hash of the derived key), so a
// process with another key says exactly that instead of failing to decrypt obscurely. The key is
// read at first need, so a server that never uses webhooks never touches the file.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { secretsKeyUnavailable, type WebhookSecrets } from "../domain/webhooks.js";
import type { Logger } from "../log.js";

export const SECRET_PREFIX = "whsec_";
export const SECRETS_KEY_FILE = "secrets.key";
/** The shortest CHAINLOOP_SECRETS_KEY accepted (server/config.ts checks the same). */
export const SECRETS_KEY_MIN = 32;
const CIPHERTEXT_VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function mintWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/** The stored secret was encrypted with another key than this process's. */
export class SecretKeyMismatch extends Error {
  constructor(storedKeyId: string, ownKeyId: string) {
    super(
      `this server's CHAINLOOP_SECRETS_KEY is not the one the secret was stored with (key id ${storedKeyId}; this server's is ${ownKeyId}); ` +
        `give every server process the same key`,
    );
  }
}

export interface SecretsKeySource {
  /** CHAINLOOP_SECRETS_KEY. A secret: never logged. */
  configured?: string;
  /** Where secrets.key is read or generated when no key is configured; without it, a random key of this process's own (tests). */
  dataDir?: string;
  logger?: Logger;
}

interface Key {
  key: Buffer;
  id: string;
}

export class SecretBox implements WebhookSecrets {
  private resolved: Key | undefined;

  constructor(private readonly source: SecretsKeySource) {}

  keyId(): string {
    return this.key().id;
  }

  seal(secret: string, subscriptionId: string): string {
    const { key } = this.key();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(subscriptionId, "utf8"));
    const ct = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return `${CIPHERTEXT_VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64")}`;
  }

  /** The secret of subscription `subscriptionId`; throws SecretKeyMismatch, or an Error when the ciphertext does not decrypt. */
  open(ciphertext: string, keyId: string, subscriptionId: string): string {
    const own = this.key();
    if (keyId !== own.id) throw new SecretKeyMismatch(keyId, own.id);
    const [version, body] = ciphertext.split(".", 2);
    const raw = Buffer.from(body ?? "", "base64");
    if (version !== CIPHERTEXT_VERSION || raw.length <= IV_BYTES + TAG_BYTES) throw new Error("the stored signing secret is malformed");
    const decipher = createDecipheriv("aes-256-gcm", own.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(subscriptionId, "utf8"));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new Error("the stored signing secret does not decrypt with this server's key (altered, or not this subscription's)");
    }
  }

  private key(): Key {
    this.resolved ??= deriveKey(this.keyMaterial());
    return this.resolved;
  }

  private keyMaterial(): string {
    if (this.source.configured !== undefined) return this.source.configured;
    if (this.source.dataDir === undefined) return randomBytes(32).toString("base64url");
    return readOrGenerateKeyFile(this.source.dataDir, this.source.logger);
  }
}

function deriveKey(material: string): Key {
  const key = Buffer.from(hkdfSync("sha256", Buffer.from(material, "utf8"), "chainloop", "chainloop webhook secrets v1", 32));
  const id = createHash("sha256").update("chainloop webhook secrets key id\u0000").update(key).digest("hex").slice(0, 16);
  return { key, id };
}

/**
 * <dataDir>/secrets.key: read, or generated (43 base64url characters, mode 0600). Generation
 * writes a temporary file and links it into place, which fails when another process got there
 * first: then its key is the one read, so processes starting together agree.
 */
function readOrGenerateKeyFile(dataDir: string, logger: Logger | undefined): string {
  const file = path.join(dataDir, SECRETS_KEY_FILE);
  const read = (): string | undefined => {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8").trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw secretsKeyUnavailable(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (text.length < SECRETS_KEY_MIN || !/^[\x21-\x7e]+$/.test(text)) {
      throw secretsKeyUnavailable(`${file} does not hold a key (${SECRETS_KEY_MIN}+ printable characters); remove it to have one generated`);
    }
    return text;
  };
  const existing = read();
  if (existing !== undefined) return existing;
  const generated = randomBytes(32).toString("base64url");
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, `${generated}\n`, { mode: 0o600, flag: "wx" });
    fs.chmodSync(tmp, 0o600);
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      throw secretsKeyUnavailable(`no key could be written to ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    const theirs = read();
    if (theirs === undefined) throw secretsKeyUnavailable(`${file} vanished while it was being created`);
    return theirs;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  logger?.warn(
    { file },
    "generated the key that encrypts webhook secrets (CHAINLOOP_SECRETS_KEY was not set); every server process sharing this database needs the same key: share the data directory or set CHAINLOOP_SECRETS_KEY",
  );
  return generated;
}
