// What a gRPC client or server presents: a credential on every call a client
// makes (an interceptor adding the `authorization` metadata of
// common/credentials.ts to each call, unary or streaming, so callers need not
// remember it), and the channel's TLS (common/tls.ts; a server's TLS is
// common/tls-listener.ts).
import * as grpc from '@grpc/grpc-js';
import { AUTHORIZATION_KEY, basicAuthorization, type Credential } from './credentials.js';
import type { Tls } from './tls.js';

export function credentialInterceptor(credential: Credential): grpc.Interceptor {
  const value = basicAuthorization(credential);
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(AUTHORIZATION_KEY, value);
        next(metadata, listener);
      },
    });
}

/** Client options that present `credential` (none: no interceptor), merged into `options`. */
export function withCredential(options: grpc.ClientOptions, credential: Credential | undefined): grpc.ClientOptions {
  return credential ? { ...options, interceptors: [...(options.interceptors ?? []), credentialInterceptor(credential)] } : options;
}

/**
 * gRPC channel credentials: TLS (presenting a client certificate when there
 * is one), or plain text. Without --ssl_verify_server_cert the channel is
 * still encrypted, but anyone may pose as the server.
 */
export function channelCredentials(tls: Tls | null): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, tls.verifyServerCert ? {} : { rejectUnauthorized: false, checkServerIdentity: () => undefined });
}
