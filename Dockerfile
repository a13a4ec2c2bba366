# syntax=docker/dockerfile:1
# The msop operator image: built on Node 24 LTS, runs as uid 65532 with only the
# production dependencies. Lint: `npm run lint` (hack/lint-dockerfile.mjs).
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: all dependencies (TypeScript and the pinned node devDependency), then tsc.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `npm install` with the committed lock installs the locked versions (not `npm ci`: it refuses a
# lock that lacks other platforms' optional binaries, which some registries do not serve).
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, from the same lock; no install scripts run.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# A 2 MiB young generation (V8's default grows to 16 MiB per semi-space): about 30% less peak RSS during a
# release of every Microservice, for about 15% more operator CPU (docs/install.md, Sizing). The chart's
# extraEnv can set NODE_OPTIONS to something else.
ENV NODE_OPTIONS=--max-semi-space-size=2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The distroless "nonroot" uid; the chart runs the pod with it and a read-only root filesystem.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/main.js"]
