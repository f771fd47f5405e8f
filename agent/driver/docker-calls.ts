// Calls to the Docker engine for DockerDriver, kept apart from its lifecycle
// logic: the wait on a container's exit (made by hand, so that an engine
// going away under it is an error rather than a wait that never ends), docker
// exec with a timeout that kills what it ran, and the engine's one-shot stats.
import { request as httpRequest } from 'node:http';
import type Docker from 'dockerode';
import type { ContainerStats, ExecCommand, ExecResult } from './driver.js';

/**
 * The engine's wait call, made by hand: dockerode's wait never settles when the engine goes
 * away under it (the connection closes with no answer and nothing rejects), which would leave a
 * task watched by nobody. Here a connection closed before the answer is an ECONNRESET.
 */
export function waitExit(socketPath: string, id: string): Promise<{ StatusCode: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method: 'POST', path: `/containers/${encodeURIComponent(id)}/wait` }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', () => {});
      res.on('close', () => {
        if (!res.complete) return reject(Object.assign(new Error('the engine closed the connection while waiting on the container'), { code: 'ECONNRESET' }));
        if (res.statusCode !== 200) return reject(Object.assign(new Error(body.trim() || `HTTP ${res.statusCode}`), { statusCode: res.statusCode, json: parseJson(body) }));
        const answer = parseJson(body) as { StatusCode?: number; Error?: { Message?: string } | null } | null;
        if (typeof answer?.StatusCode !== 'number') return reject(new Error(`unexpected answer to wait: ${body.slice(0, 200)}`));
        resolve({ StatusCode: answer.StatusCode });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** docker exec of `command` in container `id` (DockerDriver.exec). */
export async function execInContainer(docker: Docker, id: string, command: ExecCommand, timeoutSeconds: number): Promise<ExecResult> {
  const limit = 4096;
  const Cmd = command.shell ? ['/bin/sh', '-c', command.value] : [command.value, ...command.arguments.slice(1)];
  const Env = Object.entries(command.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const exec = await docker.getContainer(id).exec({ Cmd, Env, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let output = Buffer.alloc(0);
  const sink = { write: (chunk: Buffer) => ((output = Buffer.concat([output, chunk]).subarray(-limit)), true) };
  docker.modem.demuxStream(stream, sink as unknown as NodeJS.WritableStream, sink as unknown as NodeJS.WritableStream);
  const deadline = timeoutSeconds > 0 ? performance.now() + timeoutSeconds * 1000 : Infinity;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise((resolve) => ['end', 'close', 'error'].forEach((e) => stream.on(e, resolve))),
    ...(deadline < Infinity ? [new Promise((resolve) => (timer = setTimeout(resolve, deadline - performance.now())))] : []),
  ]);
  clearTimeout(timer);
  const text = () => output.toString('utf8');
  let info = await exec.inspect();
  // The stream ends when the command closes its output, usually as it exits: wait for the exit itself.
  while (info.Running && performance.now() < deadline) info = await new Promise((r) => setTimeout(r, 50)).then(() => exec.inspect());
  if (!info.Running) return { exitCode: info.ExitCode ?? -1, output: text() };
  stream.destroy();
  const fs = await import('node:fs/promises');
  const parents = new Map<number, number>();
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    const stat = /^\d+$/.test(entry) ? await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '') : '';
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const tree = [info.Pid];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  let killed = 0;
  for (const pid of tree.filter((p) => p > 0)) {
    const cgroup = await fs.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (!cgroup.includes(info.ContainerID)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // Gone already, or not ours to signal.
    }
  }
  const what = killed > 0 ? `killed ${killed} process(es)` : 'could not be killed from the agent';
  return { exitCode: -1, output: `${text()}\n[did not end within ${timeoutSeconds}s; ${what}]`.trimStart() };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The engine's one-shot stats of a container, for when its cgroup files are out of reach (DockerDriver.stats). */
export async function engineStats(docker: Docker, id: string): Promise<ContainerStats | null> {
  try {
    const s = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as EngineStats;
    if (!s.cpu_stats?.cpu_usage) return null;
    const mem = s.memory_stats ?? {};
    const usage = s.cpu_stats.cpu_usage;
    const throttling = s.cpu_stats.throttling_data;
    return {
      timestamp: Date.now() / 1000,
      ...(usage.usage_in_usermode !== undefined ? { cpus_user_time_secs: usage.usage_in_usermode / 1e9 } : {}),
      ...(usage.usage_in_kernelmode !== undefined ? { cpus_system_time_secs: usage.usage_in_kernelmode / 1e9 } : {}),
      ...(throttling ? { cpus_nr_periods: throttling.periods, cpus_nr_throttled: throttling.throttled_periods, cpus_throttled_time_secs: throttling.throttled_time / 1e9 } : {}),
      ...(mem.usage !== undefined ? { mem_total_bytes: mem.usage } : {}),
      ...(mem.limit !== undefined ? { mem_limit_bytes: mem.limit } : {}),
      ...((mem.stats?.total_rss ?? mem.stats?.anon) !== undefined ? { mem_rss_bytes: (mem.stats?.total_rss ?? mem.stats?.anon)! } : {}),
    };
  } catch (err) {
    if (hasStatus(err, 404, 409)) return null;
    throw err;
  }
}

/** The part of the engine's stats answer engineStats() reads. */
interface EngineStats {
  cpu_stats?: {
    cpu_usage?: { usage_in_usermode?: number; usage_in_kernelmode?: number };
    throttling_data?: { periods: number; throttled_periods: number; throttled_time: number };
  };
  memory_stats?: { usage?: number; limit?: number; stats?: { total_rss?: number; anon?: number } };
}

/** The engine answered with one of these HTTP statuses. */
export function hasStatus(err: unknown, ...codes: number[]): boolean {
  const code = (err as { statusCode?: number } | null)?.statusCode;
  return code !== undefined && codes.includes(code);
}

/**
 * A regular file of a created container's filesystem (its image's, before it starts), read through the
 * engine's archive call (a tar of that one file); null when there is none or it is not a regular file.
 */
export async function readContainerFile(container: Docker.Container, path: string): Promise<string | null> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await container.getArchive({ path })) as unknown as NodeJS.ReadableStream;
  } catch (err) {
    if (hasStatus(err, 404)) return null;
    throw err;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  const tar = Buffer.concat(chunks);
  // One ustar header (type at 156: '0' or NUL for a regular file, size in octal at 124), then the data.
  if (tar.length < 512 || ![0x30, 0].includes(tar[156]!)) return null;
  const size = parseInt(tar.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
  return tar.subarray(512, 512 + size).toString('utf8');
}
