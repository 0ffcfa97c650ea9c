# The app image: the detector and the load generator, one image, two commands:
#   docker run IMAGE detector    /    docker run IMAGE loadgen
# Node 24 runs app/*.ts directly (type stripping), so there is no build step; only production dependencies.
# Configuration is by environment variables (app/config.ts); the HTTP port is appHttpPort in app/topology.ts
# (/metrics, /healthz, /readyz), set on the Deployments by the charts.
# No heap size here: the image does not know its memory limit. The detector's Deployment sets NODE_OPTIONS
# (--max-old-space-size) from the pod's limit, both from cdk/size/size-plan.ts.

# The base by its release tag here; the CDK app passes NODE_IMAGE=<tag>@<digest> from images.lock.json once
# `npm run pin-images` has read the digest (cdk/image-lock.ts), so every build then runs the same base.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# Install with the dev tools once to apply patches/ (kafkajs's idle 1 ms polling loop), then drop them:
# the patched files stay, the image keeps production dependencies only.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npx patch-package \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY app ./app
# The base image's unprivileged user; nothing in /app is writable by it.
USER node
ENTRYPOINT ["node", "app/main.ts"]
CMD ["detector"]
