import { describe, expect, it } from "vitest";
import { smallShifts } from "../../app/loadgen/value-models.ts";
import { ConfigError, detectorEnv, detectorEnvNames, loadgenEnvNames, parseDetectorConfig, parseLoadgenConfig } from "../../app/config.ts";
import { schemaStatements } from "../../app/detector/cassandra-store.ts";
import { cqlStringLiteral } from "../../app/detector/cql-literal.ts";

describe("detector config", () => {
  it("has working defaults", () => {
    const c = parseDetectorConfig({ env: {} });
    expect(c.kafkaBrokers).toEqual(["127.0.0.1:9092"]);
    expect(c.detectorConcurrency).toBe(64);
    expect(c.writeConsistency).toBe("localQuorum");
    expect(c.tracingSampleRatio).toBe(0);
    expect(c.createSchema).toBe(true);
  });

  it("reads the environment and lets flags win", () => {
    const c = parseDetectorConfig({
      env: { KAFKA_BROKERS: "a:1, b:2", DETECTOR_CONCURRENCY: "8", CASSANDRA_REPLICATION_FACTOR: "3" },
      flags: { detectorConcurrency: "16" },
    });
    expect(c.kafkaBrokers).toEqual(["a:1", "b:2"]);
    expect(c.detectorConcurrency).toBe(16);
    expect(c.replicationFactor).toBe(3);
  });

  it.each([
    ["DETECTOR_CONCURRENCY", "0"],
    ["DETECTOR_CONCURRENCY", "ten"],
    ["DETECTOR_CONCURRENCY", "1.5"],
    ["KAFKA_BROKERS", "nohostport"],
    ["KAFKA_BROKERS", ""],
    ["TRACING_SAMPLE_RATIO", "1.5"],
    ["TRACING_SAMPLE_RATIO", "NaN"],
    ["CASSANDRA_WRITE_CONSISTENCY", "LOCAL_SOMETHING"],
    ["CASSANDRA_KEYSPACE", "Bad-Name"],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x"],
    ["DETECTOR_CREATE_SCHEMA", "maybe"],
    ["METRICS_PORT", "70000"],
    ["KAFKA_BROKERS", "b1:9092,b2:70000"],
    ["CASSANDRA_CONTACT_POINTS", "127.0.0.1:99999"],
    ["CASSANDRA_CONTACT_POINTS", "127.0.0.1:0"],
    ["CASSANDRA_LOCAL_DC", "dc1': 1, 'x"],
    ["CASSANDRA_LOCAL_DC", "dc 1"],
    ["CASSANDRA_LOCAL_DC", ""],
    ["CASSANDRA_LOCAL_DC", "x".repeat(65)],
  ])("rejects %s=%j naming the setting, the value and what is allowed", (envName, value) => {
    const attempt = () => parseDetectorConfig({ env: { [envName]: value } });
    expect(attempt).toThrow(ConfigError);
    const key = Object.entries(detectorEnvNames).find(([, e]) => e === envName)?.[0] ?? "?";
    try {
      attempt();
    } catch (e) {
      const message = (e as Error).message;
      expect(message).toContain(`setting ${key}`);
      expect(message).toContain(`env ${envName}`);
      expect(message).toContain(JSON.stringify(value));
      expect(message).toContain("allowed:");
    }
  });

  it("reports every bad setting at once, and names the flag when a flag was wrong", () => {
    expect(() => parseDetectorConfig({ env: { DETECTOR_CONSUMERS: "0" }, flags: { partitions: "-1" } })).toThrow(
      /partitions \(flag --partitions\)[\s\S]*consumersPerProcess \(env DETECTOR_CONSUMERS\)/,
    );
  });
});

describe("concurrency mode", () => {
  it("is fixed at --concurrency unless adaptive is asked for, which starts there and stays below --concurrency-max", () => {
    expect(parseDetectorConfig({ env: {} }).detectorConcurrencyMode).toBe("fixed");
    const c = parseDetectorConfig({
      env: { DETECTOR_CONCURRENCY_MODE: "adaptive", DETECTOR_CONCURRENCY: "128", DETECTOR_CONCURRENCY_MAX: "512" },
    });
    expect([c.detectorConcurrencyMode, c.detectorConcurrency, c.detectorConcurrencyMax]).toEqual(["adaptive", 128, 512]);
  });
  it("refuses a maximum below the start in adaptive mode, naming both settings", () => {
    expect(() =>
      parseDetectorConfig({ env: { DETECTOR_CONCURRENCY_MODE: "adaptive", DETECTOR_CONCURRENCY: "128", DETECTOR_CONCURRENCY_MAX: "64" } }),
    ).toThrow(/setting detectorConcurrencyMax \(env DETECTOR_CONCURRENCY_MAX\): 64 is below detectorConcurrency 128[\s\S]*allowed:/);
    expect(parseDetectorConfig({ env: { DETECTOR_CONCURRENCY: "128", DETECTOR_CONCURRENCY_MAX: "64" } }).detectorConcurrencyMode).toBe(
      "fixed",
    );
    expect(() => parseDetectorConfig({ env: { DETECTOR_CONCURRENCY_MODE: "fast" } })).toThrow(
      /detectorConcurrencyMode[\s\S]*"fast"[\s\S]*fixed or adaptive/,
    );
  });
});

describe("overload policy", () => {
  it("is off by default, with a backlog-age bound of 5 s", () => {
    const c = parseDetectorConfig({ env: {} });
    expect([c.overloadPolicy, c.overloadAgeBoundMs]).toEqual(["off", 5000]);
    const on = parseDetectorConfig({ env: { DETECTOR_OVERLOAD_POLICY: "priority", DETECTOR_OVERLOAD_AGE_BOUND_MS: "250" } });
    expect([on.overloadPolicy, on.overloadAgeBoundMs]).toEqual(["priority", 250]);
    expect(detectorEnv({ overloadPolicy: "priority", overloadAgeBoundMs: 2000 })).toEqual({
      DETECTOR_OVERLOAD_POLICY: "priority",
      DETECTOR_OVERLOAD_AGE_BOUND_MS: "2000",
    });
  });
  it.each([
    ["DETECTOR_OVERLOAD_AGE_BOUND_MS", "99", "an integer from 100 to 3600000"],
    ["DETECTOR_OVERLOAD_AGE_BOUND_MS", "3600001", "an integer from 100 to 3600000"],
    ["DETECTOR_OVERLOAD_AGE_BOUND_MS", "1.5", "an integer from 100 to 3600000"],
    ["DETECTOR_OVERLOAD_AGE_BOUND_MS", "5s", "an integer from 100 to 3600000"],
    ["DETECTOR_OVERLOAD_POLICY", "drop", "off or priority"],
  ])("refuses %s=%j, naming the setting, the value and what is allowed", (envName, value, allowed) => {
    const key = Object.entries(detectorEnvNames).find(([, e]) => e === envName)?.[0];
    expect(() => parseDetectorConfig({ env: { [envName]: value } })).toThrow(
      `setting ${key} (env ${envName}): value ${JSON.stringify(value)} is not allowed`,
    );
    expect(() => parseDetectorConfig({ env: { [envName]: value } })).toThrow(`allowed: ${allowed}`);
  });
  it("names the flag when the flag was wrong", () => {
    expect(() => parseDetectorConfig({ env: {}, flags: { overloadAgeBoundMs: "0" } })).toThrow(
      /setting overloadAgeBoundMs \(flag --overload-age-bound-ms\): value "0" is not allowed .*; allowed: an integer from 100 to 3600000/,
    );
  });
});

describe("the local data-centre name", () => {
  it.each(["datacenter1", "us-east-1", "eu_west.2", "DC-A"])("accepts %j, as snitches name them", (dc) => {
    expect(parseDetectorConfig({ env: { CASSANDRA_LOCAL_DC: dc } }).cassandraLocalDataCenter).toBe(dc);
  });

  it("says which characters are allowed", () => {
    expect(() => parseDetectorConfig({ env: { CASSANDRA_LOCAL_DC: "dc1'}" } })).toThrow(
      /setting cassandraLocalDataCenter \(env CASSANDRA_LOCAL_DC\)[^\n]*allowed: 1-64 characters of letters, digits, '-', '_' and '\.'/,
    );
  });

  it("reaches CREATE KEYSPACE as one escaped string literal", () => {
    const c = parseDetectorConfig({ env: {} });
    // Past the config (a caller building StoreConfig by hand), a quote still cannot end the literal.
    const [keyspace] = schemaStatements({ ...c, cassandraLocalDataCenter: "dc1': 9, 'x" });
    expect(keyspace).toContain(`'class': 'NetworkTopologyStrategy', 'dc1'': 9, ''x': ${String(c.replicationFactor)}}`);
    expect(cqlStringLiteral("it's")).toBe("'it''s'");
  });
});

describe("env names for the charts", () => {
  it("names every knob the size plan sets", () => {
    for (const k of [
      "kafkaBrokers",
      "consumersPerProcess",
      "detectorConcurrency",
      "cassandraContactPoints",
      "cassandraLocalDataCenter",
      "cassandraConnectionsPerHost",
      "requestsPerConnection",
      "partitions",
      "replicationFactor",
      "metricsPort",
      "tracingSampleRatio",
      "otlpEndpoint",
    ] as const) {
      expect(detectorEnvNames[k]).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
    // The load generator's settings under its own prefix, as the charts set them.
    for (const k of ["rate", "duration", "keys"] as const) expect(loadgenEnvNames[k]).toMatch(/^LOADGEN_[A-Z0-9_]+$/);
  });

  it("round-trips typed values through env vars", () => {
    const env = detectorEnv({ kafkaBrokers: ["b1:9098", "b2:9098"], detectorConcurrency: 128, replicationFactor: 3 });
    expect(env).toEqual({ KAFKA_BROKERS: "b1:9098,b2:9098", DETECTOR_CONCURRENCY: "128", CASSANDRA_REPLICATION_FACTOR: "3" });
    const back = parseDetectorConfig({ env });
    expect(back.kafkaBrokers).toEqual(["b1:9098", "b2:9098"]);
    expect(back.detectorConcurrency).toBe(128);
  });

  it("refuses to render a value the app would refuse", () => {
    expect(() => detectorEnv({ detectorConcurrency: 0 })).toThrow(ConfigError);
  });
});

describe("loadgen config", () => {
  it("has defaults and validates", () => {
    const c = parseLoadgenConfig({ env: {} });
    expect(c.rate).toBe(1000);
    expect(c.keyDistribution).toBe("uniform");
    expect(() => parseLoadgenConfig({ env: { LOADGEN_KEY_DISTRIBUTION: "pareto" } })).toThrow(/uniform or zipf/);
  });

  it("takes the small shifts' σ range (default smallShifts.sigmas) and refuses a minimum above the maximum", () => {
    const c = parseLoadgenConfig({ env: {} });
    expect({ min: c.smallShiftMinSigmas, max: c.smallShiftMaxSigmas }).toEqual(smallShifts.sigmas);
    expect(
      parseLoadgenConfig({ env: { LOADGEN_SMALL_SHIFT_MIN_SIGMAS: "2", LOADGEN_SMALL_SHIFT_MAX_SIGMAS: "2.5" } }).smallShiftMaxSigmas,
    ).toBe(2.5);
    expect(() => parseLoadgenConfig({ env: { LOADGEN_SMALL_SHIFT_MIN_SIGMAS: "4" } })).toThrow(
      /setting smallShiftMinSigmas \(env LOADGEN_SMALL_SHIFT_MIN_SIGMAS\): 4 is above smallShiftMaxSigmas 3/,
    );
  });
});
