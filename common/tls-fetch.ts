// HTTP clients under TLS (the CLI, the master's web UI proxy to agents): a
// fetch whose connections trust LIBPROCESS_SSL_CA_FILE and present the
// client certificate. Node's global fetch is undici, but takes no TLS
// options; undici's own fetch takes them through a dispatcher.
import { InvalidArgument } from './errors.js';
import { errorChain, tlsHint, type Tls } from './tls.js';

/** The global fetch's shape. */
export type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A fetch for `tls`: the global one without TLS, else one that only reaches
 * https URLs (an http URL is refused, never sent in clear), verifying the
 * server's certificate unless --ssl_verify_server_cert=false.
 */
export function tlsFetch(tls: Tls | null): Fetch {
  if (!tls) return fetch;
  let made = fetches.get(tls);
  if (!made) fetches.set(tls, (made = makeFetch(tls)));
  return made;
}

/** One connection pool per configuration. */
const fetches = new WeakMap<Tls, Fetch>();

function makeFetch(tls: Tls): Fetch {
  // undici is loaded on the first request under TLS, not with the module: it is about 70 ms of a process's start.
  let client: Promise<{ fetch: typeof import('undici').fetch; dispatcher: import('undici').Agent }> | null = null;
  const connect = {
    ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    rejectUnauthorized: tls.verifyServerCert,
  };
  return async (input, init) => {
    const url = new URL(String(input));
    if (url.protocol !== 'https:') throw new InvalidArgument(`TLS is enabled: refusing to send a request to ${url.origin} in plain text`);
    client ??= import('undici').then(({ Agent, fetch }) => ({ fetch, dispatcher: new Agent({ connect }) }));
    const { fetch: undiciFetch, dispatcher } = await client;
    // Node's Response is undici's; only the declared types differ.
    return (await undiciFetch(url, { ...(init as object), dispatcher })) as unknown as Response;
  };
}

/** Why a request to `url` failed, for a message: the socket's reason (fetch keeps it in `cause`) and a TLS hint when one fits. */
export function fetchFailure(url: string, err: unknown, tls: Tls | null): string {
  const hint = tlsHint(err, tls);
  return `cannot reach ${url}: ${errorChain(err)}${hint ? ` (${hint})` : ''}`;
}
