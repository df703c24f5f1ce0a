# agnet container image: `docker build -t agnet .` then `docker run -p 8080:8080 agnet`.
# Without a config it serves the embedded demo (its API key is printed in the log). Your own
# config: mount a file or folder at /etc/agnet and point AGNET_CONFIG at it, e.g.
#   docker run -p 8080:8080 -v "$PWD/agnet:/etc/agnet:ro" -e AGNET_CONFIG=/etc/agnet agnet
# The config is watched: edits to the mounted files are reloaded without a restart.

# ---- build: all dependencies, compile TypeScript ----------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the "prepare" script compiles, and the sources are not here yet.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and the compiled code only -------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    AGNET_HOST=0.0.0.0 \
    AGNET_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY schema ./schema
COPY src/playground/static ./src/playground/static
# Files stay owned by root and read-only for the process; the mount point is documented.
RUN mkdir -p /etc/agnet
USER node
EXPOSE 8080
# `agnet healthcheck` asks /readyz on 127.0.0.1:$AGNET_PORT and exits 0 when ready.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/cli/main.js", "healthcheck"]
# Exec form: node is PID 1 and receives SIGTERM itself; agnet drains in-flight streams
# (server.shutdownGrace) and exits 0, so no init shim is needed.
CMD ["node", "dist/cli/main.js", "serve"]
