import { OAuth2Client } from 'google-auth-library';

/** The issuers of Google-signed ID tokens (what Pub/Sub push sends). */
export const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];

/** Public keys by key id (`kid`), PEM: what Google's federated sign-on endpoint serves. */
export type SigningCerts = Record<string, string>;

/** Why a push was refused. Fixed texts: a token, or a library message that quotes one, never reaches a reply or a log line. */
export const PushTokenProblems = {
  missing: 'missing token: Pub/Sub push sends an OIDC token as Authorization: Bearer',
  malformed: 'invalid token: not a signed JWT',
  signature: 'invalid token: bad signature or unknown signing key',
  expired: 'invalid token: expired',
  notYetValid: 'invalid token: not yet valid',
  lifetime: 'invalid token: lifetime too long',
  issuer: 'invalid token: not issued by Google',
  audience: 'invalid token: wrong audience',
  identity: 'token of another identity: not the push subscription service account',
  unverified: 'token of an unverified email',
  certs: "cannot fetch Google's signing certificates; Pub/Sub will redeliver",
} as const;
export type PushTokenProblem = keyof typeof PushTokenProblems;

export type PushTokenVerdict =
  { ok: true; email: string } | { ok: false; status: 401 | 403 | 503; problem: PushTokenProblem; message: string };

export interface PushTokenVerifier {
  /** Verifies the request's Authorization header: Google's signature, issuer, expiry, audience, then the identity. */
  verify(authorization: string | undefined): Promise<PushTokenVerdict>;
}

/** google-auth-library's error messages (which quote the token) mapped to a fixed problem, by their fixed prefixes. */
const LIBRARY_ERRORS: Array<[string, PushTokenProblem]> = [
  ['Wrong number of segments', 'malformed'],
  ["Can't parse token", 'malformed'],
  ['No issue time', 'malformed'],
  ['No expiration time', 'malformed'],
  ['iat field', 'malformed'],
  ['exp field', 'malformed'],
  ['No pem found', 'signature'],
  ['Invalid token signature', 'signature'],
  ['Token used too late', 'expired'],
  ['Token used too early', 'notYetValid'],
  ['Expiration time too far in future', 'lifetime'],
  ['Invalid issuer', 'issuer'],
  ['Wrong recipient', 'audience'],
];

const refused = (status: 401 | 403 | 503, problem: PushTokenProblem): PushTokenVerdict => ({
  ok: false,
  status,
  problem,
  message: PushTokenProblems[problem],
});

/**
 * Verifies Pub/Sub push's OIDC token as OAuth2Client.verifyIdToken does
 * (Google's certificates, issuer accounts.google.com, expiry, audience), then
 * that the token is the push subscription's service account's, with a verified
 * email. `certs` replaces Google's certificate endpoint (tests; no network).
 */
export function createPushTokenVerifier(options: {
  audience: string;
  serviceAccount: string;
  certs?: () => Promise<SigningCerts>;
  client?: OAuth2Client;
}): PushTokenVerifier {
  const client = options.client ?? new OAuth2Client();
  // getFederatedSignonCertsAsync caches the certificates for as long as Google's Cache-Control says.
  const certs = options.certs ?? (async () => (await client.getFederatedSignonCertsAsync()).certs as SigningCerts);
  return {
    async verify(authorization) {
      const [scheme, token, ...rest] = (authorization ?? '').trim().split(/\s+/);
      if (!authorization || scheme?.toLowerCase() !== 'bearer' || !token || rest.length > 0) return refused(401, 'missing');
      let signing: SigningCerts;
      try {
        signing = await certs();
      } catch {
        return refused(503, 'certs');
      }
      let payload;
      try {
        const ticket = await client.verifySignedJwtWithCertsAsync(token, signing, options.audience, GOOGLE_ISSUERS);
        payload = ticket.getPayload();
      } catch (err) {
        const message = err instanceof Error ? err.message : '';
        const known = LIBRARY_ERRORS.find(([prefix]) => message.startsWith(prefix));
        return refused(401, known ? known[1] : 'malformed');
      }
      if (!payload || payload.email !== options.serviceAccount) return refused(403, 'identity');
      if (payload.email_verified !== true) return refused(403, 'unverified');
      return { ok: true, email: payload.email };
    },
  };
}
