# mesos-ts in a container: the same `mesos-ts` command, run by node.
# The repo is copied with its node_modules and generated proto types
# (run scripts/setup.sh first); nothing is fetched during the build.
FROM node:20-bookworm-slim
WORKDIR /app
COPY . .
ENTRYPOINT ["node", "bin/mesos-ts.js"]
