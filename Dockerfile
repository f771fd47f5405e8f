# mesos-ts in a container: the same `mesos-ts` command, run by node.
#
# Two stages. `build` installs every dependency (TypeScript, the proto type
# generator), generates the proto types and compiles the product to dist/.
# The image itself holds only what runs: production dependencies, bin/ and
# dist/ (the compiled code, with the .proto files and web UI assets it reads);
# no sources, tests, TypeScript or tsx.
#
# npm ci needs the npm registry: scripts/build-node-image.sh builds with
# --network=host because this machine's Docker engine runs without a bridge.
# --ignore-scripts: no install script is needed (the optional native ssh2
# bindings dockerode could use are for SSH, never used here), and none runs
# compilers the slim image lacks.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/gen-proto-types.mjs scripts/build.mjs scripts/
COPY proto/ proto/
COPY common/ common/
COPY master/ master/
COPY agent/ agent/
COPY framework/ framework/
COPY cli/ cli/
COPY simulator/ simulator/
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# HAProxy for `mesos-ts lb` (marathon-lb's way: the balancer and HAProxy in
# one image): Debian's haproxy with its libraries, staged in .image/haproxy
# by scripts/build-node-image.sh, behind a wrapper that points at them.
COPY .image/haproxy/ /opt/haproxy/
COPY scripts/image/haproxy.sh /usr/local/bin/haproxy
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error && rm -rf /root/.npm
COPY bin/ bin/
COPY --from=build /app/dist/ dist/
ENTRYPOINT ["node", "bin/mesos-ts.js"]
