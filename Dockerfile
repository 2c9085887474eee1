# Hookline: one image, two services (API and worker). See docker-compose.yml.
FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    # In the image Temporal runs as its own service: no embedded dev server, so no CLI to install.
    HOOKLINE_SKIP_TEMPORAL_INSTALL=1 \
    # The generated API key (when API_KEYS is unset) lives here; compose mounts a volume on it.
    DATA_DIR=/app/data
COPY package.json package-lock.json ./
# npm ci runs the postinstall script, so it must be in place first (it exits at once here, see above).
COPY scripts/install-temporal.mjs scripts/temporal-binaries.json ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# The consumer portal's page and source: the API builds its script at start-up (esbuild, in memory).
COPY portal ./portal
# Owned by node before the volume is first mounted, so a fresh named volume is writable by it.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main.ts"]
