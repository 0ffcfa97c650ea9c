# The app image: the detector and the load generator, one image, two commands:
#   docker run IMAGE detector    /    docker run IMAGE loadgen
# Node 24 runs app/*.ts directly (type stripping), so there is no build step; only production dependencies.
# Configuration is by environment variables (app/config.ts); the HTTP port is 9464 (/metrics, /healthz, /readyz).

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY app ./app
# The base image's unprivileged user; nothing in /app is writable by it.
USER node
EXPOSE 9464
ENTRYPOINT ["node", "app/main.ts"]
CMD ["detector"]
