// The stream id a master gives each scheduler subscription and wants back on
// every later call of that framework: an HTTP header in Mesos's v1 API, and
// gRPC metadata here (metadata keys are lower case; Node also hands HTTP
// header names over in lower case).

/** The HTTP header, as Mesos spells it. */
export const STREAM_ID_HEADER = 'Mesos-Stream-Id';

/** The same name lower-cased: the gRPC metadata key, and the key of `IncomingMessage.headers`. */
export const STREAM_ID_KEY = STREAM_ID_HEADER.toLowerCase() as Lowercase<typeof STREAM_ID_HEADER>;
