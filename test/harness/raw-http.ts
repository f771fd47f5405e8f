// A client that sends a whole POST before it reads a byte of the answer,
// over a raw socket: what a naive uploader does, and what a server that
// answers 413 early (then closes) must still be readable by.
import { connect } from 'node:net';

/** Sends `POST path` with `body` and `headers`, then reads the raw answer (status line, headers and body). */
export function postThenRead(port: number, path: string, body: Buffer, headers: Readonly<Record<string, string>> = {}): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('error', reject);
    socket.pause();
    const lines = Object.entries({ Host: 'x', ...headers, 'Content-Length': String(body.length), Connection: 'close' }).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`POST ${path} HTTP/1.1\r\n${lines.join('')}\r\n`);
    socket.write(body, (err) => {
      if (err) return reject(err);
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.resume();
    });
  });
}
