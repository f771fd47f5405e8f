// Writes a plain object (as @grpc/proto-loader reads a message, or as
// protobufjs's fromObject accepts one) straight to a protobufjs Writer, with
// the bytes `type.encode(type.fromObject(object))` gives. fromObject first
// copies every message into a protobufjs instance: in a master under
// bench:scale that copy cost more CPU than the encoding itself, and made
// garbage for every offer and update sent.
//
// One function per message type, generated from the reflection at its first
// use (like protobufjs's own encoders), doing for each field, in field-number
// order, what fromObject's conversion and then encode do with it: the same
// Writer calls with the same values. What this does not mirror (a required
// or group field, a wrapped well-known type, an enum whose default is none of
// its values) is left to fromObject + encode for that message. Bad input
// throws; the caller then runs fromObject + encode, which throws its own error
// (or, were this ever wrong, writes its own bytes).
import type { Enum, Field, Type, Writer } from 'protobufjs';

/** The parts of a protobufjs module (the version the type was loaded with) that the encoders use. */
export interface ProtobufRuntime {
  Writer: { create(): Writer };
  Enum: abstract new (...args: never[]) => Enum;
  wrappers: Record<string, unknown>;
  types: { basic: Record<string, number | undefined>; packed: Record<string, number | undefined>; mapKey: Record<string, number | undefined> };
  util: {
    Long?: { fromValue(value: unknown, unsigned?: boolean): unknown };
    base64: { length(s: string): number; decode(s: string, buffer: Uint8Array, offset: number): number };
    newBuffer(size: number): Uint8Array;
    recursionLimit: number;
  };
}

/** Writes `object` (a message of the type at nesting depth `depth`) to `writer`; throws on what fromObject or encode would refuse. */
type EncodeInto = (object: unknown, writer: Writer, depth: number) => void;

/** A message type's encoder, compiled on its first call. */
interface Encoder { encode: EncodeInto }

/** Every type's encoder (a type belongs to one root, so to one protobufjs runtime). */
const encoders = new WeakMap<Type, Encoder>();

/** The function serializing a plain object of `type` as fromObject + encode would, or throwing where they might. */
export function plainEncoder(runtime: ProtobufRuntime, type: Type): (object: unknown) => Uint8Array {
  const encoder = encoderOf(runtime, type);
  return (object) => {
    const writer = runtime.Writer.create();
    encoder.encode(object, writer, 0);
    return writer.finish();
  };
}

function encoderOf(runtime: ProtobufRuntime, type: Type): Encoder {
  let encoder = encoders.get(type);
  if (!encoder) {
    const lazy: Encoder = {
      encode(object, writer, depth) {
        lazy.encode = compile(runtime, type);
        lazy.encode(object, writer, depth);
      },
    };
    encoder = lazy;
    encoders.set(type, encoder);
  }
  return encoder;
}

/** protobufjs's own generated encode/fromObject (setup() makes them on first use; they take the nesting depth). */
interface SetUpType {
  encode(message: unknown, writer: Writer, depth: number): Writer;
  fromObject(object: unknown, depth: number): unknown;
}

function setUp(type: Type): SetUpType {
  if (!Object.prototype.hasOwnProperty.call(type, 'encode')) type.setup();
  return type as unknown as SetUpType;
}

/** Why fromObject + encode must handle messages of `type` themselves, or null when the generated encoder mirrors them. */
export function unsupported(runtime: ProtobufRuntime, type: Type): string | null {
  if (runtime.wrappers[type.fullName] !== undefined) return 'a wrapped well-known type';
  if (!runtime.util.Long) return 'no Long implementation';
  for (const field of type.fieldsArray) {
    field.resolve();
    if (!field.optional && !field.repeated && !field.map) return `required field ${field.name}`;
    if (field.delimited) return `group field ${field.name}`;
    if (field.resolvedType instanceof runtime.Enum && !Object.values(field.resolvedType.values).includes(field.typeDefault as number)) {
      return `enum field ${field.name} whose default is none of its values`;
    }
  }
  return null;
}

function compile(runtime: ProtobufRuntime, type: Type): EncodeInto {
  const own = setUp(type);
  // fromObject's depth is the nesting depth; encode's too (see the generated code's q).
  const viaFromObject: EncodeInto = (object, writer, depth) => {
    own.encode(own.fromObject(object, depth), writer, depth);
  };
  if (unsupported(runtime, type) !== null) return viaFromObject;
  try {
    return generate(runtime, type);
  } catch {
    return viaFromObject;
  }
}

function generate(runtime: ProtobufRuntime, type: Type): EncodeInto {
  const scope = new Scope(runtime, type);
  const fields = type.fieldsArray.slice().sort((a, b) => a.id - b.id);
  const body = fields.length === 0 ? '' : [
    // fromObject: an instance is taken as it is, anything else must be an object (a type without fields takes anything).
    'if(d instanceof C){T.encode(d,w,q);return}',
    `if(!(d&&typeof d==="object"))throw TypeError(${JSON.stringify(`${type.fullName}: object expected`)})`,
    'if(q>LIMIT)throw Error("maximum nesting depth exceeded")',
    'var a,i,k,x',
    ...fields.map((f) => fieldCode(scope, f)),
  ].join('\n');
  const name = type.name.replace(/\W/g, '_');
  const factory = new Function('S', `var C=S.C,T=S.T,LIMIT=S.LIMIT,E=S.E,M=S.M,L=S.L,B=S.B\nreturn function ${name}$encodePlain(d,w,q){\n${body}\n}`);
  return factory(scope) as EncodeInto;
}

/** What generated code refers to: nested encoders (E), enum tables (M) and the conversions fromObject makes. */
class Scope {
  readonly C: unknown;
  readonly T: SetUpType;
  readonly LIMIT: number;
  readonly E: Encoder[] = [];
  readonly M: ((value: unknown) => number | undefined)[] = [];
  readonly L: (value: unknown, unsigned: boolean) => unknown;
  readonly B: (value: unknown) => unknown;

  constructor(readonly runtime: ProtobufRuntime, type: Type) {
    this.C = type.ctor;
    this.T = setUp(type);
    this.LIMIT = runtime.util.recursionLimit;
    const { util } = runtime;
    const Long = util.Long!;
    // fromObject makes a Long of every 64-bit value; a safe integer (not negative, if unsigned) gives the Writer the same bits as a number.
    this.L = (value, unsigned) => (typeof value === 'number' && Number.isSafeInteger(value) && (!unsigned || value >= 0) ? value : Long.fromValue(value, unsigned));
    // fromObject decodes a string as base64 and keeps anything with a length; it leaves the field unset otherwise.
    this.B = (value) => {
      if (typeof value === 'string') {
        const buffer = util.newBuffer(util.base64.length(value));
        util.base64.decode(value, buffer, 0);
        return buffer;
      }
      return (value as { length?: number }).length! >= 0 ? value : undefined;
    };
  }

  encoder(field: Field): number {
    this.E.push(encoderOf(this.runtime, field.resolvedType as Type));
    return this.E.length - 1;
  }

  /** fromObject's enum switch: a name or number of a value gives that value, another number itself, anything else the default (repeated) or nothing. */
  enumTable(field: Field, repeated: boolean): number {
    const values = (field.resolvedType as Enum).values;
    const table = new Map<unknown, number>();
    for (const [name, n] of Object.entries(values)) {
      if (!table.has(name)) table.set(name, n);
      if (!table.has(n)) table.set(n, n);
    }
    const fallback = repeated ? (field.typeDefault as number) : undefined;
    this.M.push((value) => table.get(value) ?? (typeof value === 'number' ? value : fallback));
    return this.M.length - 1;
  }
}

/** The generated code for one field, reading d[name] into the Writer w. */
function fieldCode(scope: Scope, field: Field): string {
  const prop = `d[${JSON.stringify(field.name)}]`;
  const isEnum = field.resolvedType instanceof scope.runtime.Enum;
  const kind = isEnum ? 'int32' : field.type;
  const wire = scope.runtime.types.basic[kind];
  const tag = (id: number, wireType: number) => ((id << 3) | wireType) >>> 0;
  const typeError = (what: string) => `throw TypeError(${JSON.stringify(`${field.fullName}: ${what} expected`)})`;

  if (field.map) {
    const keyType = (field as Field & { keyType: string }).keyType;
    const entry = `w.uint32(${tag(field.id, 2)}).fork().uint32(${8 | scope.runtime.types.mapKey[keyType]!}).${keyType}(k)`;
    const write = wire === undefined
      ? `${entry};w.uint32(18).fork();E[${scope.encoder(field)}].encode(x,w,q+1);w.ldelim().ldelim()`
      : `${entry}.uint32(${16 | wire}).${kind}(x).ldelim()`;
    return [
      `a=${prop}`,
      `if(a){if(!(a&&typeof a==="object"))${typeError('object')}`,
      `for(var ks=Object.keys(a),j=0;j<ks.length;++j){k=ks[j];x=a[k]`,
      `${convert(scope, field, false)}`,
      // fromObject makes a "__proto__" key an own property before converting its value: written even when left unset.
      `if(x!==undefined||k==="__proto__"){${write}}}}`,
    ].join('\n');
  }
  // One value with its tag: a nested message delimited, anything else as its wire type (an element of a repeated field too, unless packed).
  const tagged = () => (wire === undefined ? `w.uint32(${tag(field.id, 2)}).fork();E[${scope.encoder(field)}].encode(x,w,q+1);w.ldelim()`
    : `w.uint32(${tag(field.id, wire)}).${kind}(x)`);
  if (field.repeated) {
    const packed = field.packed && scope.runtime.types.packed[kind] !== undefined;
    const write = packed ? `w.${kind}(x)` : tagged();
    return [
      `a=${prop}`,
      `if(a){if(!Array.isArray(a))${typeError('array')}`,
      `if(a.length){${packed ? `w.uint32(${tag(field.id, 2)}).fork()` : ''}`,
      `for(i=0;i<a.length;++i){x=a[i]`,
      convert(scope, field, true),
      // An element fromObject leaves unset is a hole, which encode cannot write: let fromObject + encode decide.
      `if(x===undefined)throw TypeError("unset element");${write}}`,
      `${packed ? 'w.ldelim()' : ''}}}`,
    ].join('\n');
  }
  const write = tagged();
  // fromObject reads an enum through its switch whatever the value; anything else only when not null/undefined.
  const guard = isEnum ? '' : 'if(x!=null)';
  return `x=${prop}\n${guard}{${convert(scope, field, false)}\nif(x!==undefined){${write}}}`;
}

/** fromObject's conversion of the value in x (a field, an element or a map value), leaving in x what encode writes, or undefined where fromObject sets nothing. */
function convert(scope: Scope, field: Field, repeated: boolean): string {
  const resolved = field.resolvedType;
  if (resolved instanceof scope.runtime.Enum) return `x=M[${scope.enumTable(field, repeated)}](x)`;
  if (resolved) return `if(!(x&&typeof x==="object"))throw TypeError(${JSON.stringify(`${field.fullName}: object expected`)})`;
  switch (field.type) {
    case 'double':
    case 'float':
      return 'x=Number(x)';
    case 'uint32':
    case 'fixed32':
      return 'x=x>>>0';
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return 'x=x|0';
    case 'uint64':
    case 'fixed64':
      return 'x=L(x,true)';
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return 'x=L(x,false)';
    case 'bytes':
      return 'x=B(x)';
    case 'string':
      return 'x=String(x)';
    case 'bool':
      return 'x=Boolean(x)';
    default:
      throw new Error(`${field.fullName}: no plain encoding for type ${field.type}`);
  }
}
