# agnet container image: `docker build -t agnet .` then `docker run -p 8080:8080 agnet`.
# Without a config it serves the embedded demo (its API key is printed in the log). Your own
# config: mount a file or folder at /etc/agnet and point AGNET_CONFIG at it, e.g.
#   docker run -p 8080:8080 -v "$PWD/agnet:/etc/agnet:ro" -e AGNET_CONFIG=/etc/agnet agnet
# The config is watched: edits to the mounted files are reloaded without a restart.
# The process writes no file, so `docker run --read-only` works as is.

# ---- build: all dependencies, compile TypeScript ----------------------------------------
FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the "prepare" script compiles, and the sources are not here yet.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only, installed where npm is still at hand -------------
FROM node:26-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: node, the compiled code and what it reads, nothing else ---------------------
FROM node:26-trixie-slim AS runtime
# The base image ships npm, npx, corepack and yarn; the gateway uses none of them, so they go.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -p /etc/agnet
# Build with --build-arg SOURCE=<repository URL> --build-arg REVISION=$(git rev-parse HEAD)
# to record where the image came from.
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="agnet" \
      org.opencontainers.image.description="A local gateway that behaves like Blaxel's inference edge." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:26-trixie-slim"
# AGNET_DEMO_ENV_FILE=off: the embedded demo prints its credentials in the log instead of
# writing the shell file it leaves in a checkout (the image's files are read-only).
ENV NODE_ENV=production \
    AGNET_HOST=0.0.0.0 \
    AGNET_PORT=8080 \
    AGNET_DEMO_ENV_FILE=off
WORKDIR /app
# package.json stays: it marks dist/ as ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
COPY src/playground/static ./src/playground/static
COPY LICENSE ./
# Files stay owned by root and read-only for the process. The user is numeric (the base
# image's `node`, 1000) so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 1000:1000
EXPOSE 8080
# `agnet healthcheck` asks /readyz on 127.0.0.1:$AGNET_PORT and exits 0 when ready.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/cli/main.js", "healthcheck"]
# Exec form: node is PID 1 and receives SIGTERM itself; agnet drains in-flight streams
# (server.shutdownGrace) and exits 0, so no init shim is needed.
CMD ["node", "dist/cli/main.js", "serve"]
