import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SigningCerts } from '../src/index.js';

/** What a Pub/Sub push subscription's OIDC token says, as Google signs it. */
export interface IdTokenClaims {
  iss?: string;
  aud?: string;
  email?: string;
  email_verified?: boolean;
  iat?: number;
  exp?: number;
  sub?: string;
}

/**
 * A signing key of the test's own standing in for Google's: it signs RS256 ID
 * tokens, and `certs` is what Google's certificate endpoint would serve for it.
 */
export interface TestSigner {
  kid: string;
  certs: SigningCerts;
  sign(claims: IdTokenClaims, options?: { kid?: string; key?: KeyObject }): string;
  /** Another private key (not in `certs`): a forged signature. */
  otherKey: KeyObject;
}

export const PUSH_AUDIENCE = 'https://ingest.burnback.test/pubsub/push';
export const PUSH_SERVICE_ACCOUNT = 'burnback-push@burnback-test.iam.gserviceaccount.com';

export function createTestSigner(kid = 'test-key-1'): TestSigner {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    kid,
    certs: { [kid]: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    otherKey,
    sign(claims, options = {}) {
      const signed = `${b64url({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? kid })}.${b64url(claims)}`;
      const signature = createSign('RSA-SHA256')
        .update(signed)
        .sign(options.key ?? privateKey)
        .toString('base64url');
      return `${signed}.${signature}`;
    },
  };
}

/** The claims of a good push token: Google-issued, for PUSH_AUDIENCE, of PUSH_SERVICE_ACCOUNT, verified, valid for an hour. */
export function pushClaims(overrides: IdTokenClaims = {}): IdTokenClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://accounts.google.com',
    aud: PUSH_AUDIENCE,
    email: PUSH_SERVICE_ACCOUNT,
    email_verified: true,
    sub: '112233445566778899000',
    iat: now,
    exp: now + 3600,
    ...overrides,
  };
}
