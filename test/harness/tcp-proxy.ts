// A TCP proxy on loopback that can go silent: freeze() stops forwarding in
// both directions while every socket stays open, as a SIGSTOPped peer or a
// dead network path looks from the other end (no FIN, no RST, no bytes).
// For keepalive tests with real sockets.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export class TcpProxy {
  private frozen = false;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly address: string) {}

  /** Listens on 127.0.0.1 (a free port) and forwards each connection to `target` (host:port). */
  static async start(target: string): Promise<TcpProxy> {
    const [host, port] = splitAddress(target);
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      const upstream = connect(port, host);
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      // Once frozen, a close does not pass either: a dead path carries no FIN (a ZooKeeper server closing a
      // connection that never sent its handshake would otherwise tell the client, which a partition never does).
      client.on('close', () => proxy.frozen || upstream.destroy());
      upstream.on('close', () => proxy.frozen || client.destroy());
      proxy.forward(client, upstream);
      proxy.forward(upstream, client);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
    proxy = new TcpProxy(server, `127.0.0.1:${address.port}`);
    return proxy;
  }

  /** From now on nothing passes either way, not even a close; the sockets stay open until close(). */
  freeze(): void {
    this.frozen = true;
  }

  /** Connections open through the proxy (each counted on both sides). */
  get connections(): number {
    return this.sockets.size / 2;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private forward(from: Socket, to: Socket): void {
    // Bytes that arrive while frozen are read and dropped, so nothing reaches the other side, ever.
    from.on('data', (chunk: Buffer) => {
      if (!this.frozen) to.write(chunk);
    });
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
