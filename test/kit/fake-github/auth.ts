import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify } from 'node:crypto';

/**
 * GitHub App authentication: RS256 app JWTs signed with the app's private key, and short-lived
 * installation tokens minted by `POST /app/installations/{id}/access_tokens`.
 */

export interface IssuedToken {
  token: string;
  installationId: number;
  expiresAt: Date;
  /** Repository full names the token is limited to, when the request asked for a subset. */
  repositories?: string[];
  permissions: Record<string, string>;
  issuedAt: Date;
  revoked?: boolean;
}

export type Caller =
  | { kind: 'app' }
  | { kind: 'installation'; token: IssuedToken }
  | { kind: 'anonymous' }
  | { kind: 'invalid'; reason: string };

// Generating a 2048-bit key takes ~50-100 ms; one per process is plenty since each fake has its own app id.
let sharedKeys: { privateKeyPem: string; publicKey: KeyObject } | undefined;

export function appKeys(): { privateKeyPem: string; publicKey: KeyObject } {
  if (!sharedKeys) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    sharedKeys = { privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey };
  }
  return sharedKeys;
}

export class TokenRegistry {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly listeners = new Set<(t: IssuedToken) => void>();

  constructor(private readonly ttlMs: number) {}

  issue(installationId: number, permissions: Record<string, string>, repositories?: string[]): IssuedToken {
    // Same shape as GitHub's: `ghs_` + 36 base62-ish characters, so log scanners see realistic tokens.
    const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    const now = new Date();
    const issued: IssuedToken = {
      token,
      installationId,
      permissions,
      repositories,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.ttlMs),
    };
    this.tokens.set(token, issued);
    for (const listener of this.listeners) listener(issued);
    return issued;
  }

  onIssued(listener: (t: IssuedToken) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  all(): IssuedToken[] {
    return [...this.tokens.values()];
  }

  /** A token a git server may accept right now (known, not revoked, not expired). */
  lookup(token: string): IssuedToken | undefined {
    const t = this.tokens.get(token);
    return t && !t.revoked && t.expiresAt.getTime() > Date.now() ? t : undefined;
  }

  revoke(token: string): void {
    const t = this.tokens.get(token);
    if (t) t.revoked = true;
  }
}

/** Identify the caller from the Authorization header. */
export function identify(
  header: string | undefined,
  appId: number,
  publicKey: KeyObject,
  tokens: TokenRegistry,
): Caller {
  if (!header) return { kind: 'anonymous' };
  const m = /^(bearer|token)\s+(\S+)$/i.exec(header.trim());
  if (!m) return { kind: 'invalid', reason: `unsupported Authorization scheme: ${header.split(' ')[0]}` };
  const credential = m[2] as string;
  if (credential.split('.').length === 3) {
    if (m[1]?.toLowerCase() !== 'bearer')
      return { kind: 'invalid', reason: 'an app JWT must be sent as "Bearer <jwt>"' };
    const problem = checkJwt(credential, appId, publicKey);
    return problem ? { kind: 'invalid', reason: problem } : { kind: 'app' };
  }
  const known = tokens.all().find((t) => t.token === credential);
  if (!known) return { kind: 'invalid', reason: 'unknown token (Bad credentials)' };
  if (known.revoked) return { kind: 'invalid', reason: 'installation token was revoked' };
  if (known.expiresAt.getTime() <= Date.now())
    return { kind: 'invalid', reason: 'installation token expired' };
  return { kind: 'installation', token: known };
}

function checkJwt(jwt: string, appId: number, publicKey: KeyObject): string | undefined {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  let header: { alg?: string };
  let payload: { iss?: unknown; exp?: unknown; iat?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return 'JWT is not decodable';
  }
  if (header.alg !== 'RS256') return `JWT alg must be RS256, got ${header.alg}`;
  const ok = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'));
  if (!ok) return 'JWT signature does not verify with the app public key';
  if (String(payload.iss) !== String(appId))
    return `JWT iss ${String(payload.iss)} is not the app id ${appId}`;
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number') return 'JWT has no numeric exp';
  if (payload.exp <= now)
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  // GitHub rejects JWTs valid for more than 10 minutes; allow a little clock slack.
  if (payload.exp - now > 600 + 60) return "'Expiration time' claim ('exp') is too far in the future";
  if (typeof payload.iat !== 'number') return 'JWT has no numeric iat';
  if (payload.iat > now + 60)
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  return undefined;
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}
