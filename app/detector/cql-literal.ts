/**
 * CQL string literals. Values that reach CQL text (not bind markers: CREATE KEYSPACE takes no parameters) go
 * through here, so a quote in one cannot end the literal and append CQL of its own. The config schema already
 * restricts such values (a data-centre name: app/config.ts dataCenterPattern); this is the second fence.
 */

/** `text` as a single-quoted CQL string literal: a single quote inside is doubled, as CQL escapes it. */
export const cqlStringLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`;
