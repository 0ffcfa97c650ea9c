/**
 * Keeps credentials out of error messages and logs: a URL may carry `user:password@` (an OTLP endpoint behind
 * basic auth), and a refused value is echoed back to whoever reads the message.
 */

/**
 * `scheme://user:password@host` → `scheme://***@host`, for every URL in the text. Up to the last `@` before a
 * blank or quote: a password with a raw `@` or `/` in it (a malformed URL, which is why it is being refused)
 * is hidden whole rather than cut at its first `@`.
 */
export function redactUrls(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s"']*@/g, "$1***@");
}

/**
 * A value meant to be a URL, as it may be shown: everything before its last `@` hidden, with or without a
 * scheme (`user:password@host:4318` is a URL missing its scheme, and still a password).
 */
export function redactUrlValue(value: string): string {
  const at = value.lastIndexOf("@");
  if (at < 0) return value;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(value)?.[0] ?? "";
  return `${scheme}***${value.slice(at)}`;
}
