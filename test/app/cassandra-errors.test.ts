import cassandra from "cassandra-driver";
import { describe, expect, it } from "vitest";
import { isTransientCassandraError } from "../../app/detector/cassandra-store.ts";

/** The driver throws plain DriverErrors at run time; its typings declare the class abstract. */
class DriverError extends cassandra.errors.DriverError {}

describe("isTransientCassandraError", () => {
  it("retries what a busy or restarting cluster throws", () => {
    expect(isTransientCassandraError(new DriverError("Socket was closed"))).toBe(true);
    expect(isTransientCassandraError(new cassandra.errors.NoHostAvailableError({}))).toBe(true);
    expect(isTransientCassandraError(new cassandra.errors.OperationTimedOutError("timed out", "127.0.0.1:9042"))).toBe(true);
  });

  it("does not retry bugs in the request", () => {
    expect(isTransientCassandraError(new DriverError("Invalid parameter"))).toBe(false);
    expect(isTransientCassandraError(new cassandra.errors.ArgumentError("bad argument"))).toBe(false);
    expect(isTransientCassandraError(new TypeError("x is undefined"))).toBe(false);
  });
});
