// The two encodings of the v1 HTTP API and how a request picks them:
// Content-Type names the request's encoding, Accept the response's.
export type Encoding = 'json' | 'protobuf';

export const MEDIA_TYPE: Readonly<Record<Encoding, string>> = {
  json: 'application/json',
  protobuf: 'application/x-protobuf',
};

/** The media type of a Content-Type header, lower-cased and without parameters (charset=...); null when absent or empty. */
export function mediaTypeOf(header: string | undefined): string | null {
  const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
  return type === '' ? null : type;
}

/** The encoding a Content-Type names, or null for any other media type. */
export function encodingOf(mediaType: string): Encoding | null {
  if (mediaType === MEDIA_TYPE.json) return 'json';
  if (mediaType === MEDIA_TYPE.protobuf) return 'protobuf';
  return null;
}

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (!type || !subtype) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    ranges.push({ type, subtype, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 });
  }
  return ranges;
}

/** The weight Accept gives a media type: that of the most specific range matching it (RFC 9110 §12.5.1), 0 when none does. */
function quality(ranges: readonly MediaRange[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return q;
}

/**
 * The encoding of the response an Accept header asks for: JSON when the
 * header is missing or empty, or when both are equally welcome (Mesos prefers
 * JSON); null when it accepts neither (406).
 */
export function negotiate(accept: string | undefined): Encoding | null {
  if (accept === undefined || accept.trim() === '') return 'json';
  const ranges = parseAccept(accept);
  const json = quality(ranges, MEDIA_TYPE.json);
  const protobuf = quality(ranges, MEDIA_TYPE.protobuf);
  if (json <= 0 && protobuf <= 0) return null;
  return json >= protobuf ? 'json' : 'protobuf';
}
