// A real OAuth 2.1 / OpenID authorization server for the OAuth tests: node-oidc-provider (OpenID
// certified), pinned and installed by scripts/oidc-provider-setup.sh. It runs its own HTTPS server
// on loopback, asking for (not requiring) a client certificate, because RFC 8705 needs the
// connection's certificate: tls_client_auth, self_signed_tls_client_auth and certificate-bound
// access tokens (cnf.x5t#S256).
//
//   node oidc_provider.mjs CONFIG.json
//
// CONFIG: { "cert", "key", "ca": PEM files (a DemoPki server certificate for localhost and the
//   bundle that client certificates must chain to), "port" (0: ephemeral), "ready_file" (where the
//   issuer URL is written once it listens), "state_file" (optional: the signing keys, kept across a
//   restart so that tokens issued before stay verifiable), "scopes" (the scopes every resource
//   server offers, space-separated), "access_token_ttl" (seconds), "clients": [client metadata as
//   RFC 7591 spells it], "token_tweaks": { client_id: { "alg", "exp_offset", "nbf_offset", "iss" } }
//   (test-only changes to that client's access tokens: signing algorithm, an exp or nbf relative to
//   now, another issuer) }
//
// Every resource indicator (RFC 8707) that is an https URL is a resource server whose access tokens
// are JWTs (RFC 9068) with that URL as audience. The authorization-code flow needs no human: the
// interaction page logs in the fixed user "test-user" and grants what was asked, so a plain HTTP
// client that follows redirects and keeps cookies completes it. OpenID's rule holds: offline_access
// (a refresh token) is granted only with prompt=consent.
//
// SIGHUP rotates the signing keys (new kids, signing at once; the old keys stay in the JWKS so that
// tokens already issued still verify) and logs "rotated kids=...". SIGTERM stops it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const log = (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

function newKeys() {
  const tag = crypto.randomBytes(6).toString('hex');
  const make = (type, options, alg) => {
    const { privateKey } = crypto.generateKeyPairSync(type, options);
    return { ...privateKey.export({ format: 'jwk' }), kid: `${alg}-${tag}`, alg, use: 'sig' };
  };
  return [
    make('ec', { namedCurve: 'P-256' }, 'ES256'),
    make('rsa', { modulusLength: 2048 }, 'RS256'),
    make('ed25519', {}, 'EdDSA'),
  ];
}

// Signing keys first: node-oidc-provider signs with the first key of the algorithm.
let keys = config.state_file && fs.existsSync(config.state_file)
  ? JSON.parse(fs.readFileSync(config.state_file, 'utf8')).keys
  : newKeys();
function saveKeys() {
  if (!config.state_file) return;
  fs.writeFileSync(`${config.state_file}.tmp`, JSON.stringify({ keys }), { mode: 0o600 });
  fs.renameSync(`${config.state_file}.tmp`, config.state_file);
}
saveKeys();

const tweaks = config.token_tweaks ?? {};
const scopes = config.scopes ?? 'tools:read tools:call';
const ttl = config.access_token_ttl ?? 600;

function sanMatches(cert, prefix, expected) {
  return (cert.subjectAltName ?? '').split(', ').includes(`${prefix}:${expected}`);
}

function configuration(issuer) {
  return {
    clients: config.clients ?? [],
    jwks: { keys },
    scopes: ['openid', 'offline_access', ...scopes.split(' ')],
    claims: { openid: ['sub'] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    pkce: { required: () => true },
    ttl: { AccessToken: ttl, ClientCredentials: ttl },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'],
    // Every endpoint asks for the client certificate already; the aliases say so to clients that look.
    discovery: {
      mtls_endpoint_aliases: {
        token_endpoint: `${issuer}/token`,
        introspection_endpoint: `${issuer}/token/introspection`,
        registration_endpoint: `${issuer}/reg`,
      },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      registration: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => ctx.socket.getPeerX509Certificate?.(),
        certificateAuthorized: (ctx) => ctx.socket.authorized,
        certificateSubjectMatches(ctx, property, expected) {
          const cert = ctx.socket.getPeerX509Certificate();
          switch (property) {
            case 'tls_client_auth_subject_dn': return cert.subject.split('\n').reverse().join(',') === expected
              || cert.subject.replace(/\n/g, ',') === expected;
            case 'tls_client_auth_san_dns': return sanMatches(cert, 'DNS', expected);
            case 'tls_client_auth_san_uri': return sanMatches(cert, 'URI', expected);
            case 'tls_client_auth_san_ip': return sanMatches(cert, 'IP Address', expected);
            case 'tls_client_auth_san_email': return sanMatches(cert, 'email', expected);
            default: return false;
          }
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resource, client) {
          if (!resource.startsWith('https://')) throw new Provider.errors.InvalidTarget();
          return {
            scope: scopes,
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: tweaks[client.clientId]?.alg ?? 'ES256' } },
          };
        },
      },
    },
    formats: {
      customizers: {
        jwt(_ctx, token, jwt) {
          const tweak = tweaks[token.clientId];
          if (!tweak) return;
          const now = Math.floor(Date.now() / 1000);
          if (tweak.exp_offset !== undefined) jwt.payload.exp = now + tweak.exp_offset;
          if (tweak.nbf_offset !== undefined) jwt.payload.nbf = now + tweak.nbf_offset;
          if (tweak.iss !== undefined) jwt.payload.iss = tweak.iss;
        },
      },
    },
  };
}

// The interaction page: log in "test-user" and grant what the client asked for, then redirect on.
async function interact(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: 'test-user' } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, wanted] of Object.entries(prompt.details.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, wanted.join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

let provider;
let handler;
const server = https.createServer({
  key: fs.readFileSync(config.key),
  cert: fs.readFileSync(config.cert),
  ca: fs.readFileSync(config.ca),
  requestCert: true,
  rejectUnauthorized: false,
}, (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interact(provider, req, res).catch((error) => {
      log(`interaction failed: ${error.message}`);
      res.statusCode = 500;
      res.end(`interaction failed: ${error.message}\n`);
    });
    return;
  }
  handler(req, res);
});

function start(issuer) {
  provider = new Provider(issuer, configuration(issuer));
  provider.on('server_error', (_ctx, error) => log(`server_error: ${error.stack}`));
  provider.on('grant.error', (_ctx, error) => log(`grant.error: ${error.message} ${error.error_description ?? ''}`));
  provider.on('grant.success', (ctx) => log(`grant.success client=${ctx.oidc.client?.clientId}`));
  handler = provider.callback();
}

server.listen(config.port ?? 0, '127.0.0.1', () => {
  const issuer = `https://localhost:${server.address().port}`;
  start(issuer);
  if (config.ready_file) {
    fs.writeFileSync(`${config.ready_file}.tmp`, `${issuer}\n`);
    fs.renameSync(`${config.ready_file}.tmp`, config.ready_file);
  }
  log(`listening ${issuer} kids=${keys.map((k) => k.kid).join(',')}`);
});

// The stored clients, grants and tokens live in the memory adapter's module-level store, so the
// new Provider keeps them; only the keys change.
process.on('SIGHUP', () => {
  const fresh = newKeys();
  keys = [...fresh, ...keys];
  saveKeys();
  start(provider.issuer);
  log(`rotated kids=${fresh.map((k) => k.kid).join(',')}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
process.on('SIGINT', () => process.exit(0));
