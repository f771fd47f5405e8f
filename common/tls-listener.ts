// One TCP port that speaks TLS and tells plain text apart. A connection's
// first byte says which it is: a TLS ClientHello is a handshake record (0x16);
// HTTP/1 starts with a method name, HTTP/2 (gRPC) with "PRI *". TLS goes to
// a TLS server of ours (https, or one handing gRPC the secured connections),
// which logs failed handshakes; plain text is answered once, in plain text,
// and closed, with a warning in the log — never served. Nothing downgrades.
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Tls } from './tls.js';

/** Node TLS (and https) server options: mutual TLS asks for a certificate and refuses a connection without a valid one. */
export function tlsServerOptions(tls: Tls): ServerOptions {
  return {
    cert: tls.cert!, key: tls.key!, ...(tls.ca ? { ca: tls.ca } : {}),
    requestCert: tls.requireClientCert, rejectUnauthorized: tls.requireClientCert,
  };
}

/** A TLS record carrying a handshake (ClientHello) starts with this byte. */
const TLS_HANDSHAKE = 0x16;
/** A connection that says nothing for this long, or that we refused and that does not hang up, is closed. */
const IDLE_MS = 30_000;

/** Where a refused plain-text connection or a failed handshake is told. */
export type Warn = (fields: Record<string, unknown>, message: string) => void;

export interface TlsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on ip:port; connections that open with a TLS handshake go to
 * `secure`, the others to `plain` (which answers and closes them).
 */
export async function listenSplit(ip: string, port: number, secure: (socket: Socket) => void, plain: (socket: Socket) => void): Promise<TlsListener> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const failed = () => socket.destroy();
    socket.on('error', failed);
    socket.setTimeout(IDLE_MS, failed);
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      socket.off('error', failed);
      if (first === null) return void socket.destroy(); // Closed before saying anything.
      socket.unshift(first);
      if (first[0] !== TLS_HANDSHAKE) return plain(socket);
      // From here the TLS server's own timeouts apply.
      socket.setTimeout(0);
      socket.off('timeout', failed);
      secure(socket);
    });
  });
  await listen(server, ip, port);
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Listens on ip:port; rejects with the listen error (EADDRINUSE, ...). */
function listen(server: NetServer | HttpServer, ip: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** What a plain-text HTTP client on a TLS port reads. */
export const PLAIN_HTTP_REFUSAL = 'this port speaks TLS (LIBPROCESS_SSL_ENABLED); use https\n';

/** A plain-text HTTP/1 request on a TLS port: 400 with the reason, in plain text, then closed. */
function refusePlainHttp(socket: Socket, warn: Warn, port: string): void {
  warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, `refused a plain-text connection on TLS port ${port} from ${socket.remoteAddress}:${socket.remotePort}: the client must use TLS (https)`);
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(PLAIN_HTTP_REFUSAL)}\r\nConnection: close\r\n\r\n${PLAIN_HTTP_REFUSAL}`);
}

export interface HttpListener {
  readonly server: HttpServer;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  close(): Promise<void>;
}

/**
 * An HTTP server on ip:port: https when `tls` is set (plain-text requests
 * refused, failed handshakes logged), else plain http.
 */
export async function listenHttp(
  ip: string, port: number, tls: Tls | null, handler: (req: IncomingMessage, res: ServerResponse) => void, warn: Warn,
): Promise<HttpListener> {
  if (!tls) {
    const server = createHttpServer(handler);
    await listen(server, ip, port);
    return {
      server, port: (server.address() as AddressInfo).port, scheme: 'http',
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }
  const server = createHttpsServer(tlsServerOptions(tls), handler);
  warnOfFailedHandshakes(server, warn);
  let where = `${ip}:${port}`;
  const listener = await listenSplit(ip, port, (socket) => server.emit('connection', socket), (socket) => refusePlainHttp(socket, warn, where));
  where = `${ip}:${listener.port}`;
  return {
    server, port: listener.port, scheme: 'https',
    close: async () => {
      server.closeAllConnections();
      await listener.close();
    },
  };
}

/** Logs each failed handshake (no client certificate, one from another CA, a client that gave up) as a warning. */
function warnOfFailedHandshakes(server: TlsServer, warn: Warn): void {
  server.on('tlsClientError', (err: Error & { reason?: string }, socket: TLSSocket) => {
    // A certificate the CA did not sign is found after the handshake (authorizationError) and the socket is gone, its address too.
    // OpenSSL's reason ("peer did not return a certificate") reads better than its whole error line.
    const why = socket.authorizationError ? `client certificate refused (${String(socket.authorizationError)})` : (err.reason ?? err.message.trim());
    const remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : null;
    warn(remote ? { remote } : {}, `TLS handshake${remote ? ` with ${remote}` : ''} failed: ${why}`);
  });
}

/**
 * The TLS side of a gRPC port: handshakes done here (HTTP/2 negotiated by
 * ALPN, client certificates checked under mutual TLS, failures logged), and
 * each secured connection handed to `serve`, which speaks HTTP/2 over it
 * (gRPC's connection injector). Plain text is refused with a warning.
 */
export async function listenGrpcTls(ip: string, port: number, tls: Tls, serve: (socket: TLSSocket) => void, warn: Warn): Promise<TlsListener> {
  const server = createTlsServer({ ...tlsServerOptions(tls), ALPNProtocols: ['h2'] });
  warnOfFailedHandshakes(server, warn);
  server.on('secureConnection', serve);
  let where = `${ip}:${port}`;
  const listener = await listenSplit(ip, port, (socket) => server.emit('connection', socket), (socket) => {
    warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, `refused a plain-text gRPC connection on TLS port ${where} from ${socket.remoteAddress}:${socket.remotePort}: the client must use TLS`);
    socket.destroy();
  });
  where = `${ip}:${listener.port}`;
  return listener;
}
