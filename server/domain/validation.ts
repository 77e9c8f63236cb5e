// Input rules shared by every use case: names, descriptions, free-text queries.
import { InvalidArgument } from "./errors.js";

export const NAME_MAX = 63;
export const DESCRIPTION_MAX = 1024;
export const QUERY_MAX = 256;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Validates a DNS label (RFC 1123): lowercase letters, digits and '-', 1–63 characters. */
export function requireName(field: string, value: string): string {
  if (value === "") throw new InvalidArgument(`${field} is required`);
  if (value.length > NAME_MAX) {
    throw new InvalidArgument(`${field} is ${value.length} characters long; the limit is ${NAME_MAX}`);
  }
  if (!DNS_LABEL.test(value)) {
    throw new InvalidArgument(
      `${field} ${JSON.stringify(value)} is not a valid name: use lowercase letters, digits and '-', ` +
        `starting and ending with a letter or digit (for example "k8s-east")`,
    );
  }
  return value;
}

export function requireDescription(field: string, value: string): string {
  if (value.length > DESCRIPTION_MAX) {
    throw new InvalidArgument(`${field} is ${value.length} characters long; the limit is ${DESCRIPTION_MAX}`);
  }
  if (/[\u0000]/.test(value)) throw new InvalidArgument(`${field} must not contain NUL characters`);
  return value;
}

export function optionalQuery(field: string, value: string): string | undefined {
  const q = value.trim();
  if (q === "") return undefined;
  if (q.length > QUERY_MAX) throw new InvalidArgument(`${field} is ${q.length} characters long; the limit is ${QUERY_MAX}`);
  if (/[\u0000]/.test(q)) throw new InvalidArgument(`${field} must not contain NUL characters`);
  return q;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Validates a server-assigned id (a UUID) and returns it lowercased. */
export function requireUuid(value: string, what: string): string {
  if (!UUID.test(value)) throw new InvalidArgument(`id ${JSON.stringify(value.slice(0, 64))} is not ${what} (a UUID)`);
  return value.toLowerCase();
}
