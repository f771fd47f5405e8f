// A credential on every gRPC call a client makes: an interceptor that adds
// the `authorization` metadata (common/credentials.ts) to each call, unary
// or streaming, so callers need not remember it.
import * as grpc from '@grpc/grpc-js';
import { AUTHORIZATION_KEY, basicAuthorization, type Credential } from './credentials.js';

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
