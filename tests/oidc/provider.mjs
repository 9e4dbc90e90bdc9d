// A real OpenID provider on loopback for the portal's SSO tests and `make run-sso`:
// panva's oidc-provider (OpenID Certified), with its own login page (devInteractions: any
// password is accepted, the login name picks the person), one client for the portal, and
// people whose groups the tests can change between two sign-ins.
//
// Environment:
//   OIDC_PORT                      port on 127.0.0.1 (the issuer is http://127.0.0.1:PORT)
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   the portal's client
//   OIDC_REDIRECT_URIS             comma-separated, e.g. http://127.0.0.1:8000/sign-in/sso/callback/
//   OIDC_POST_LOGOUT_REDIRECT_URIS comma-separated, where sign-out may return to
//   OIDC_USERS                     JSON {login: {name, given_name, family_name, email, groups}};
//                                  default: people.json beside this script (the demo people)
//   OIDC_CONTROL_TOKEN             turns on /__test__/ (Bearer token): change a person, or make
//                                  the token endpoint hand out altered ID tokens
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const list = (value) => value.split(',').map((v) => v.trim()).filter(Boolean);

const port = Number(env('OIDC_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const clientId = env('OIDC_CLIENT_ID', 'handoff');
const controlToken = env('OIDC_CONTROL_TOKEN', '');
const people = process.env.OIDC_USERS
  || readFileSync(new URL('./people.json', import.meta.url), 'utf8');
const accounts = new Map(Object.entries(JSON.parse(people)));

// Our own signing key, so the test mode below can sign a token the way the provider does.
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'handoff-local', alg: 'RS256', use: 'sig' };
// Test mode: the token endpoint's ID token with some claims replaced (idTokenClaims), and/or
// signed by a key the provider does not publish (idTokenForeignKey), under the same kid.
const mode = { idTokenClaims: null, idTokenForeignKey: false };
const { privateKey: foreignKey } = await generateKeyPair('RS256');

const SCOPES = 'openid email profile groups';

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: env('OIDC_CLIENT_SECRET'),
    client_name: 'Handoff',
    redirect_uris: list(env('OIDC_REDIRECT_URIS')),
    post_logout_redirect_uris: list(env('OIDC_POST_LOGOUT_REDIRECT_URIS', '')),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: SCOPES.split(' '),
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const person = accounts.get(id);
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, preferred_username: id, ...accounts.get(id) };
      },
    };
  },
  // The portal is a first-party client: no consent screen (oidc-provider's documented recipe).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(SCOPES);
    await grant.save();
    return grant;
  },
});

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/__test__/')) {
    if (!controlToken || ctx.get('authorization') !== `Bearer ${controlToken}`) {
      ctx.status = 404;
      return;
    }
    const person = ctx.path.match(/^\/__test__\/accounts\/([^/]+)$/);
    if (ctx.method === 'PUT' && person) {
      accounts.set(decodeURIComponent(person[1]), await readJson(ctx));
      ctx.status = 204;
    } else if (ctx.method === 'PUT' && ctx.path === '/__test__/mode') {
      Object.assign(mode, await readJson(ctx));
      ctx.status = 204;
    } else {
      ctx.status = 404;
    }
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.body?.id_token && (mode.idTokenClaims || mode.idTokenForeignKey)) {
    const claims = { ...decodeJwt(ctx.body.id_token), ...mode.idTokenClaims };
    const header = decodeProtectedHeader(ctx.body.id_token);
    ctx.body = {
      ...ctx.body,
      id_token: await new SignJWT(claims)
        .setProtectedHeader(header)
        .sign(mode.idTokenForeignKey ? foreignKey : privateKey),
    };
  }
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
