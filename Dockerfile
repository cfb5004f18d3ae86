# syntax=docker/dockerfile:1
#
# Burnback's images: one build, one target per runnable.
#
#   docker build --target ingest   -t burnback-ingest .     # services/ingest   (HTTP on $PORT, default 8080)
#   docker build --target decider  -t burnback-decider .    # services/decider  (health + metrics on $PORT)
#   docker build --target executor -t burnback-executor .   # services/executor (health + metrics on $PORT)
#   docker build --target notifier -t burnback-notifier .   # services/notifier (health + metrics on $PORT)
#   docker build --target gcp-sim  -t burnback-gcp-sim .    # Cloud Deploy simulator (gRPC, 8087)
#   docker build --target cli      -t burnback-cli .        # the burnback command, e.g. `topology`
#
# docker-compose.yml builds them all and runs the local stack (`docker compose up`).
# The service images are the ones Cloud Run runs: nothing local is baked in
# (no emulator hosts, no METADATA_SERVER_DETECTION, no token); compose sets those.
# packages/cli/test/containers.test.ts keeps this file consistent with the code.

# Node 20 (package.json engines: >=20.19, which runs the ESM-only p-retry via require(esm)).
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install, compile every workspace (tsc -b), drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first: npm ci re-runs only when a package.json or the lockfile changes.
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/policy/package.json packages/policy/
COPY packages/platform/package.json packages/platform/
COPY packages/gcp-sim/package.json packages/gcp-sim/
COPY packages/emulators/package.json packages/emulators/
COPY packages/testkit/package.json packages/testkit/
COPY services/ingest/package.json services/ingest/
COPY services/decider/package.json services/decider/
COPY services/executor/package.json services/executor/
COPY services/notifier/package.json services/notifier/
COPY packages/cli/package.json packages/cli/
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages/ packages/
COPY services/ services/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && find packages/*/dist services/*/dist \( -name '*.d.ts' -o -name '*.d.ts.map' \) -delete

# ---- runtime: production node_modules, each workspace's package.json + dist, config/ ----
FROM ${NODE_IMAGE} AS runtime
# A container is reached from outside itself (Cloud Run's front end, a published port): the
# servers listen on every interface here, while a local `node` run defaults to 127.0.0.1.
ENV NODE_ENV=production \
    BURNBACK_LISTEN_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
# Includes the workspace symlinks node_modules/@burnback/* -> ../../packages|services/*.
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/packages/contracts/package.json packages/contracts/
COPY --from=build /app/packages/contracts/dist/ packages/contracts/dist/
COPY --from=build /app/packages/policy/package.json packages/policy/
COPY --from=build /app/packages/policy/dist/ packages/policy/dist/
COPY --from=build /app/packages/platform/package.json packages/platform/
COPY --from=build /app/packages/platform/dist/ packages/platform/dist/
COPY --from=build /app/packages/gcp-sim/package.json packages/gcp-sim/
COPY --from=build /app/packages/gcp-sim/dist/ packages/gcp-sim/dist/
COPY --from=build /app/packages/emulators/package.json packages/emulators/
COPY --from=build /app/packages/emulators/dist/ packages/emulators/dist/
COPY --from=build /app/packages/testkit/package.json packages/testkit/
COPY --from=build /app/packages/testkit/dist/ packages/testkit/dist/
COPY --from=build /app/services/ingest/package.json services/ingest/
COPY --from=build /app/services/ingest/dist/ services/ingest/dist/
COPY --from=build /app/services/decider/package.json services/decider/
COPY --from=build /app/services/decider/dist/ services/decider/dist/
COPY --from=build /app/services/executor/package.json services/executor/
COPY --from=build /app/services/executor/dist/ services/executor/dist/
COPY --from=build /app/services/notifier/package.json services/notifier/
COPY --from=build /app/services/notifier/dist/ services/notifier/dist/
COPY --from=build /app/packages/cli/package.json packages/cli/
COPY --from=build /app/packages/cli/dist/ packages/cli/dist/
# BURNBACK_CONFIG=/app/config/local.yaml locally; in Cloud Run mount the real config and point BURNBACK_CONFIG at it.
COPY config/ config/
# The files stay root-owned: the app can read its code, not change it.
USER node

# Flat memory: each service's heap is bounded to fit its container's memory (256 MiB on Cloud Run, and
# compose's mem_limit), so V8 collects instead of growing the heap lazily towards the host's memory.
# NODE_OPTIONS is ServiceRuntime[<service>].nodeOptions (packages/platform/src/service-runtime.ts);
# `npm start` runs the services with the same flags.
FROM runtime AS ingest
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"
EXPOSE 8080
CMD ["node", "services/ingest/dist/main.js"]

FROM runtime AS decider
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"
EXPOSE 8080
CMD ["node", "services/decider/dist/main.js"]

FROM runtime AS executor
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"
EXPOSE 8080
CMD ["node", "services/executor/dist/main.js"]

FROM runtime AS notifier
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"
EXPOSE 8080
CMD ["node", "services/notifier/dist/main.js"]

# gcp-sim is only ever reached from other containers, so it listens on every interface.
FROM runtime AS gcp-sim
ENV GCP_SIM_HOST=0.0.0.0 \
    GCP_SIM_PORT=8087
EXPOSE 8087
CMD ["node", "packages/gcp-sim/dist/main.js"]

# `docker run burnback-cli topology` (compose's one-shot setup step); no arguments prints the usage.
FROM runtime AS cli
ENTRYPOINT ["node", "packages/cli/dist/bin.js"]
CMD ["--help"]
