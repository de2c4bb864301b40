# syntax=docker/dockerfile:1
# Context Vault: the API server and web app in one image. Inference containers are not in
# here: the app starts them on demand through the Docker API (see docker-compose.yml), each
# behind a guard container of this same image.

# ---- build: full dependencies: the web app is built with vite and the server compiled with
# esbuild (both dev dependencies) into dist/ (scripts/build.mjs) ----
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime dependencies only: the server runs as compiled JavaScript, without tsx ----
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim
# iptables: this image is also each Ollama sandbox's network guard (SANDBOX_GUARD_IMAGE), whose
# one-shot firewall container loads the sandbox's rules (sandbox/guard.ts). The app never runs it.
# tesseract-ocr, its English data and poppler-utils: OCR of scans and photos (issue 15); more
# languages are `tesseract-ocr-<lang>` packages named in OCR_LANGS.
# postgresql-client-17 from PostgreSQL's own apt repository (Debian 12 has 15): `npm run backup`
# and `restore` need pg_dump and pg_restore of the compose database's major version or newer.
RUN apt-get update \
  && apt-get install -y --no-install-recommends iptables tesseract-ocr tesseract-ocr-eng poppler-utils ca-certificates postgresql-common \
  && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
  && apt-get install -y --no-install-recommends postgresql-client-17 \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/web/dist ./web/dist
# Only the build's output: no TypeScript sources, tests or test doubles (server/test/production-build.test.ts).
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
# `npm run invite|export|models|backup|restore` start with scripts/build.mjs, which finds nothing to build here.
COPY scripts/build.mjs scripts/build-web.mjs ./scripts/
# /backups: the compose file's backup volume (npm run backup -- --to /backups).
RUN mkdir -p /data /backups && chown node:node /data /backups
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:8080/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Not `npm start`: that rebuilds what looks stale, which needs vite and esbuild. Here it is
# built already. npm is not PID 1 either, so SIGTERM reaches the server's graceful shutdown.
# 4 MB young-generation semi-spaces: the server's garbage is short-lived request objects, which
# fewer collections take less CPU to clear; V8's default 16 MB held ~100 MB more resident during
# an import. Worker threads get their own young generation (server/worker-heap.ts).
CMD ["node", "--max-semi-space-size=4", "dist/server/main.js"]
