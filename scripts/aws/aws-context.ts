/**
 * Where and how the AWS clients talk: region, optional endpoint (tests point every client at a loopback
 * replay server), optional static credentials, and the SDK's retry settings (throttling is retried by the
 * SDK's standard strategy with exponential backoff). Every AWS module takes an AwsContext, so the
 * experiment runner builds one and reuses preflight, readiness and sweep code with it.
 */
/** Static credentials (the SDK's StaticCredentials shape); normally left out for the default chain. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsContext {
  readonly region: string;
  /** Overrides every service's endpoint (e.g. http://127.0.0.1:port in tests). */
  readonly endpoint?: string | undefined;
  readonly credentials?: StaticCredentials | undefined;
  /** SDK attempts per call, including the first (default 5). */
  readonly maxAttempts?: number | undefined;
}

export interface ClientConfig {
  region: string;
  maxAttempts: number;
  endpoint?: string;
  credentials?: StaticCredentials;
  /** S3 only: path-style addressing works against a custom endpoint. */
  forcePathStyle?: boolean;
}

export function clientConfig(ctx: AwsContext): ClientConfig {
  return {
    region: ctx.region,
    maxAttempts: ctx.maxAttempts ?? 5,
    ...(ctx.endpoint === undefined ? {} : { endpoint: ctx.endpoint, forcePathStyle: true }),
    ...(ctx.credentials === undefined ? {} : { credentials: ctx.credentials }),
  };
}

/** The error name the SDK gives a service error (`error.name`), or the constructor's for client-side ones. */
export const errorName = (error: unknown): string =>
  error instanceof Error ? error.name : typeof error === "object" && error !== null && "name" in error ? String(error.name) : "Error";

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
