// One upstream's answer to a mirrored request, as the comparator keeps it.
import { createHash } from 'node:crypto';

/** A body over --max-body-bytes: only its length and hash are kept. */
export interface OversizedBody {
  length: number;
  sha256: string;
}

export interface Answer {
  status: number;
  /** Lower-case names, as node and undici give them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer | OversizedBody;
}

export function isOversized(body: Buffer | OversizedBody): body is OversizedBody {
  return !Buffer.isBuffer(body);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
