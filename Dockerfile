# syntax=docker/dockerfile:1
#
# One image for both Baton processes (docs/deployment.md):
#   docker run baton node apps/api/dist/main.js      # HTTP API on $PORT (3000)
#   docker run baton node apps/worker/dist/main.js   # worker (scale by running more)
# The `baton` CLI is on the PATH too.
#
# Stages: `deps` installs production dependencies only, `build` installs
# everything and compiles, `runtime` is the slim image: production
# node_modules plus the compiled dist/ folders, no sources, no toolchain.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS base
# The version in package.json's packageManager field.
RUN npm i -g pnpm@12.4.2
WORKDIR /app
# Only the manifests and the lockfile: dependency layers stay cached until one of them changes.
COPY package.json pnpm-workspace.yaml pnpm-lock.yaml ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY packages/core/package.json packages/core/
COPY packages/client/package.json packages/client/
COPY packages/testkit/package.json packages/testkit/

FROM base AS deps
RUN pnpm install --frozen-lockfile --prod

FROM base AS build
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# node_modules of the root and of each package (pnpm links workspace packages with relative symlinks).
COPY --from=deps --chown=node:node /app ./
COPY --from=build --chown=node:node /app/packages/core/dist packages/core/dist
COPY --from=build --chown=node:node /app/packages/client/dist packages/client/dist
COPY --from=build --chown=node:node /app/apps/api/dist apps/api/dist
# The browser console's static files (apps/api/src/routes/console.ts serves them from ../../console).
COPY --from=build --chown=node:node /app/apps/api/console apps/api/console
COPY --from=build --chown=node:node /app/apps/worker/dist apps/worker/dist
RUN ln -s /app/packages/client/dist/cli.js /usr/local/bin/baton
# The workspaces' mount point, owned by node: a new named volume takes this folder's owner, so the
# processes (user node) can write to it.
RUN mkdir -p /data/workspaces && chown node:node /data/workspaces
USER node
EXPOSE 3000
# The API by default; the compose file (or `docker run ... node apps/worker/dist/main.js`) picks the worker.
CMD ["node", "apps/api/dist/main.js"]
