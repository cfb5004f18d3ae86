import { createPushTokenVerifier, PushTokenProblems, type PushTokenVerdict } from '../src/index.js';
import { createTestSigner, PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT, pushClaims } from './oidc.js';

const signer = createTestSigner();
const verifier = createPushTokenVerifier({
  audience: PUSH_AUDIENCE,
  serviceAccount: PUSH_SERVICE_ACCOUNT,
  certs: async () => signer.certs,
});
const hour = 3600;
const now = () => Math.floor(Date.now() / 1000);
const refused = (status: number, problem: keyof typeof PushTokenProblems): PushTokenVerdict =>
  ({ ok: false, status, problem, message: PushTokenProblems[problem] }) as PushTokenVerdict;

describe("Pub/Sub push's OIDC token, verified with google-auth-library against the signer's certificates", () => {
  it('takes a token Google signed for this audience, of the push service account, with a verified email', async () => {
    expect(await verifier.verify(`Bearer ${signer.sign(pushClaims())}`)).toEqual({ ok: true, email: PUSH_SERVICE_ACCOUNT });
    // Either issuer spelling Google uses, and the scheme in any case.
    expect(await verifier.verify(`bearer ${signer.sign(pushClaims({ iss: 'accounts.google.com' }))}`)).toEqual({
      ok: true,
      email: PUSH_SERVICE_ACCOUNT,
    });
  });

  it.each([
    ['no header', undefined, refused(401, 'missing')],
    ['an empty header', '', refused(401, 'missing')],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`, refused(401, 'missing')],
    ['a bare scheme', 'Bearer', refused(401, 'missing')],
    ['two tokens', `Bearer ${signer.sign(pushClaims())} extra`, refused(401, 'missing')],
    ['a token that is not a JWT', 'Bearer not-a-jwt', refused(401, 'malformed')],
    ['a JWT of garbage', 'Bearer a.b.c', refused(401, 'malformed')],
    ['another audience', `Bearer ${signer.sign(pushClaims({ aud: 'https://elsewhere.example/push' }))}`, refused(401, 'audience')],
    ['another issuer', `Bearer ${signer.sign(pushClaims({ iss: 'https://evil.example' }))}`, refused(401, 'issuer')],
    ['an expired token', `Bearer ${signer.sign(pushClaims({ iat: now() - 3 * hour, exp: now() - 2 * hour }))}`, refused(401, 'expired')],
    [
      'a token from the future',
      `Bearer ${signer.sign(pushClaims({ iat: now() + hour, exp: now() + 2 * hour }))}`,
      refused(401, 'notYetValid'),
    ],
    ['a token living too long', `Bearer ${signer.sign(pushClaims({ exp: now() + 30 * 24 * hour }))}`, refused(401, 'lifetime')],
    ['a token without expiry', `Bearer ${signer.sign(pushClaims({ exp: undefined }))}`, refused(401, 'malformed')],
    ['a forged signature', `Bearer ${signer.sign(pushClaims(), { key: signer.otherKey })}`, refused(401, 'signature')],
    ['an unknown signing key', `Bearer ${signer.sign(pushClaims(), { kid: 'not-a-google-key' })}`, refused(401, 'signature')],
    ['another service account', `Bearer ${signer.sign(pushClaims({ email: 'someone@evil.example' }))}`, refused(403, 'identity')],
    ['no email', `Bearer ${signer.sign(pushClaims({ email: undefined }))}`, refused(403, 'identity')],
    ['an unverified email', `Bearer ${signer.sign(pushClaims({ email_verified: false }))}`, refused(403, 'unverified')],
    ['no email_verified claim', `Bearer ${signer.sign(pushClaims({ email_verified: undefined }))}`, refused(403, 'unverified')],
  ])('refuses %s, with a fixed reason', async (_name, header, expected) => {
    expect(await verifier.verify(header)).toEqual(expected);
  });

  it('never quotes the token in its answer (google-auth-library quotes it in its errors)', async () => {
    const token = signer.sign(pushClaims(), { key: signer.otherKey });
    const verdict = await verifier.verify(`Bearer ${token}`);
    expect(verdict.ok).toBe(false);
    expect(JSON.stringify(verdict)).not.toContain(token.split('.')[1]);
  });

  it("answers 503 when Google's certificates cannot be fetched (Pub/Sub redelivers)", async () => {
    const offline = createPushTokenVerifier({
      audience: PUSH_AUDIENCE,
      serviceAccount: PUSH_SERVICE_ACCOUNT,
      certs: () => Promise.reject(new Error('getaddrinfo ENOTFOUND www.googleapis.com')),
    });
    expect(await offline.verify(`Bearer ${signer.sign(pushClaims())}`)).toEqual(refused(503, 'certs'));
    // No fetch at all for a request without a token.
    expect(await offline.verify(undefined)).toEqual(refused(401, 'missing'));
  });
});
