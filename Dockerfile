# Hookline: one image, two services (API and worker). See docker-compose.yml.
FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    # In the image Temporal runs as its own service: no embedded dev server, so no CLI to install.
    HOOKLINE_SKIP_TEMPORAL_INSTALL=1
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main.ts"]
