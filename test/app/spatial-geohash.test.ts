/** Geohash (2D and 3D): published vectors, cell edges, neighbours across the antimeridian and at the poles. */
import { describe, expect, it } from "vitest";
import { distanceMetres, haversineMetres, metresPerDegree } from "../../app/spatial/geo.ts";
import {
  adjacent,
  block,
  blockRadius,
  bounds,
  cellSizeMetres,
  decode,
  encode,
  neighbours,
  precisionForRadius,
} from "../../app/spatial/geohash.ts";
import {
  altitudeDomain,
  block3d,
  blockRadius3d,
  bounds3d,
  cellSizeMetres3d,
  decode3d,
  encode3d,
  neighbours3d,
  precisionForRadius3d,
} from "../../app/spatial/geohash3d.ts";

/** Two cells touch along an edge or a corner (longitudes compared modulo 360). */
function touches(a: string, b: string): boolean {
  const x = bounds(a);
  const y = bounds(b);
  const latTouch = x.minLat <= y.maxLat && y.minLat <= x.maxLat;
  const lonTouch = [-360, 0, 360].some((s) => x.minLon <= y.maxLon + s && y.minLon + s <= x.maxLon);
  return latTouch && lonTouch;
}

describe("geohash encode/decode", () => {
  it("gives the published vectors", () => {
    expect(encode(42.6, -5.6, 5)).toBe("ezs42"); // Wikipedia's example
    expect(encode(57.64911, 10.40744, 11)).toBe("u4pruydqqvj"); // Niemeyer's geohash.org example
    expect(encode(51.501, -0.142, 6)).toBe("gcpuuz"); // Buckingham Palace's cell, widely quoted
  });

  it("decodes to the cell centre with the published error", () => {
    const d = decode("ezs42");
    expect(d.lat).toBeCloseTo(42.605, 3);
    expect(d.lon).toBeCloseTo(-5.603, 3);
    expect(d.latError).toBeCloseTo(0.022, 3);
    expect(d.lonError).toBeCloseTo(0.022, 3);
    const u = decode("u4pruydqqvj");
    expect(Math.abs(u.lat - 57.64911)).toBeLessThanOrEqual(u.latError);
    expect(Math.abs(u.lon - 10.40744)).toBeLessThanOrEqual(u.lonError);
  });

  it("puts every point inside its cell, and every prefix is the coarser cell", () => {
    for (const [lat, lon] of [
      [0, 0],
      [-33.8688, 151.2093],
      [89.9999, -179.9999],
      [-90, 180],
      [12.5, -0.000001],
    ] as const) {
      const h = encode(lat, lon, 9);
      const b = bounds(h);
      expect(lat).toBeGreaterThanOrEqual(b.minLat);
      expect(lat).toBeLessThanOrEqual(b.maxLat);
      expect(lon).toBeGreaterThanOrEqual(b.minLon);
      expect(lon).toBeLessThanOrEqual(b.maxLon);
      for (let p = 1; p < 9; p++) expect(encode(lat, lon, p)).toBe(h.slice(0, p));
    }
  });

  it("puts a point on a cell edge in the upper cell, and the ends of the ranges in the last cells", () => {
    const b = bounds("ezs42");
    expect(encode(b.minLat, b.minLon, 5)).toBe("ezs42"); // the lower-left corner belongs to the cell
    expect(encode(b.maxLat, b.minLon + 1e-9, 5)).toBe(adjacent("ezs42", 1, 0)); // its top edge to the cell north
    expect(encode(b.minLat, b.maxLon, 5)).toBe(adjacent("ezs42", 0, 1)); // its right edge to the cell east
    expect(encode(90, 180, 3)).toBe("zzz");
    expect(encode(-90, -180, 3)).toBe("000");
    expect(bounds("")).toEqual({ minLat: -90, maxLat: 90, minLon: -180, maxLon: 180 });
  });

  it("refuses coordinates and hashes it cannot stand for, naming what and why", () => {
    expect(() => encode(90.0001, 0, 5)).toThrow("latitude 90.0001 is not a finite number in [-90, 90]");
    expect(() => encode(0, -180.5, 5)).toThrow("longitude -180.5 is not a finite number in [-180, 180]");
    expect(() => encode(Number.NaN, 0, 5)).toThrow(/latitude NaN/);
    expect(() => encode(0, 0, 0)).toThrow("precision 0 is not an integer from 1 to 12");
    expect(() => bounds("ezs4a")).toThrow(/"a", not one of 0123456789bcdefghjkmnpqrstuvwxyz/);
  });
});

describe("geohash neighbours", () => {
  it("gives the eight cells around, each touching it, by direction", () => {
    const n = neighbours("u4pruyd");
    expect(Object.keys(n).sort()).toEqual(["e", "n", "ne", "nw", "s", "se", "sw", "w"]);
    for (const cell of Object.values(n)) {
      expect(cell).toHaveLength(7);
      expect(touches("u4pruyd", cell)).toBe(true);
    }
    const c = bounds("u4pruyd");
    expect(bounds(n.n!).minLat).toBeCloseTo(c.maxLat, 12);
    expect(bounds(n.e!).minLon).toBeCloseTo(c.maxLon, 12);
    expect(bounds(n.sw!).maxLat).toBeCloseTo(c.minLat, 12);
    expect(bounds(n.sw!).maxLon).toBeCloseTo(c.minLon, 12);
  });

  it("gives the classic library's neighbours of dqcjq", () => {
    // Dave Troy's geohash.js, the reference implementation of calculateAdjacent.
    expect(neighbours("dqcjq")).toMatchObject({ n: "dqcjw", s: "dqcjn", e: "dqcjr", w: "dqcjm" });
  });

  it("wraps across the antimeridian: east of longitude 180 is -180", () => {
    const eastEdge = encode(0.1, 179.99, 4);
    const n = neighbours(eastEdge);
    expect(bounds(eastEdge).maxLon).toBe(180);
    expect(bounds(n.e!).minLon).toBe(-180);
    expect(bounds(n.ne!).minLon).toBe(-180);
    expect(n.e).toBe(encode(0.1, -179.99, 4));
    expect(neighbours(n.e!).w).toBe(eastEdge);
  });

  it("has no cells past a pole, and the block there is the 6 cells that exist", () => {
    const north = encode(89.99, 10, 3);
    const n = neighbours(north);
    expect(n.n).toBeUndefined();
    expect(n.ne).toBeUndefined();
    expect(n.nw).toBeUndefined();
    expect(Object.keys(n).sort()).toEqual(["e", "s", "se", "sw", "w"]);
    expect(block(north)).toHaveLength(6);
    const south = encode(-90, -180, 2);
    expect(neighbours(south).s).toBeUndefined();
    expect(neighbours(south).w).toBe(encode(-89, 179, 2)); // and it still wraps in longitude
  });
});

describe("geohash sizes and coverage", () => {
  it("knows the cell sizes of the published table (within 0.5 %: the table uses the equatorial radius, we the mean)", () => {
    const near = (actual: number, published: number) => expect(Math.abs(actual / published - 1)).toBeLessThan(0.005);
    // Precision 5: ~4.9 km × 4.9 km; 6: ~1.2 km × 0.61 km; 7: ~153 m × 153 m (at the equator).
    near(cellSizeMetres(5).width, 4892);
    near(cellSizeMetres(5).height, 4892);
    near(cellSizeMetres(6).width, 1223);
    near(cellSizeMetres(6).height, 611.5);
    near(cellSizeMetres(7).width, 152.9);
  });

  it("picks the longest precision whose cells hold a circle of the radius, narrower away from the equator", () => {
    expect(precisionForRadius(150)).toBe(7); // precision 7's cells are 152.9 m × 152.9 m
    expect(precisionForRadius(160)).toBe(6); // precision 6's are 1.2 km × 611 m
    expect(precisionForRadius(600)).toBe(6);
    expect(precisionForRadius(700)).toBe(5);
    expect(precisionForRadius(3000, 60)).toBe(4); // at 60° a 4.9 km wide cell is 2.4 km wide
    expect(precisionForRadius(6_000_000)).toBe(0); // larger than any cell: only the world holds it
    expect(precisionForRadius(100, 0, 5)).toBe(5);
  });

  it("gives a block radius that holds exactly the points of the block", () => {
    const lat = 42.6;
    const lon = -5.6;
    const r = blockRadius(lat, lon, 5);
    const size = cellSizeMetres(5);
    expect(r).toBeGreaterThanOrEqual(Math.min(size.height, size.width * Math.cos((lat * Math.PI) / 180)) - 1);
    const cells = new Set(block(encode(lat, lon, 5)));
    // Points on a circle just inside the radius are all in the block.
    for (let a = 0; a < 360; a += 5) {
      const dLat = ((r * 0.999) / metresPerDegree) * Math.cos((a * Math.PI) / 180);
      const p = {
        lat: lat + dLat,
        lon: lon + (((r * 0.999) / metresPerDegree) * Math.sin((a * Math.PI) / 180)) / Math.cos(((lat + dLat) * Math.PI) / 180),
      };
      expect(haversineMetres(lat, lon, p.lat, p.lon)).toBeLessThan(r * 1.0001);
      expect(cells.has(encode(p.lat, p.lon, 5))).toBe(true);
    }
  });

  it("gives no block radius past the pole: a circle reaching it holds every longitude", () => {
    const r = blockRadius(89.99, 0, 3);
    expect(r).toBeGreaterThan(0);
    expect(r).toBeLessThanOrEqual(0.01 * metresPerDegree); // never past the pole, 1.1 km away
    // and narrower still: there a cell's 1.4° of longitude are ~27 m wide
    expect(r).toBeLessThan(30);
  });

  it("measures distances across the antimeridian the short way", () => {
    expect(haversineMetres(0, 179.999, 0, -179.999)).toBeCloseTo(0.002 * metresPerDegree, 3);
    expect(distanceMetres({ lat: 0, lon: 0, alt: 0 }, { lat: 0, lon: 0, alt: 30 })).toBe(30);
    expect(distanceMetres({ lat: 0, lon: 0, alt: 0 }, { lat: 0, lon: 0 })).toBe(0); // a 2D point: altitude ignored
  });
});

describe("3D geohash", () => {
  it("interleaves longitude, latitude, altitude: the same point at two altitudes differs only once altitude bits matter", () => {
    const low = encode3d(57.64911, 10.40744, 0, 12);
    const high = encode3d(57.64911, 10.40744, 5_000, 12);
    expect(low).not.toBe(high);
    // Cells of > 10 km in altitude (first 8 altitude bits, ~6 characters) hold both.
    expect(low.slice(0, 6)).toBe(high.slice(0, 6));
    const b = bounds3d(low);
    expect(0).toBeGreaterThanOrEqual(b.minAlt);
    expect(0).toBeLessThanOrEqual(b.maxAlt);
    const d = decode3d(low);
    expect(d.lat).toBeCloseTo(57.64911, 3);
    expect(d.lon).toBeCloseTo(10.40744, 3);
    expect(Math.abs(d.alt)).toBeLessThan(b.maxAlt - b.minAlt);
  });

  it("has cubic cells: an altitude bit halves as many metres as a latitude bit", () => {
    for (const p of [3, 6, 9, 12]) {
      const s = cellSizeMetres3d(p);
      expect(s.thickness).toBeCloseTo(s.height, 6);
    }
    expect(altitudeDomain.max).toBeCloseTo(10_007_557, 0); // πR/2, R = 6,371,008.8 m
  });

  it("gives the 26 cells around, wrapping across the antimeridian, none past a pole", () => {
    const h = encode3d(10, 179.9999, 100, 6);
    const n = neighbours3d(h);
    expect(n).toHaveLength(26);
    expect(new Set(n).size).toBe(26);
    const east = n.map(bounds3d).filter((b) => b.minLon === -180);
    expect(east).toHaveLength(9);
    const polar = encode3d(90, 0, 100, 6);
    expect(neighbours3d(polar)).toHaveLength(17); // no row north of it: 3 × 3 × 3 − 9 − 1
    expect(block3d(polar)).toHaveLength(18);
  });

  it("refuses an altitude outside its range, naming it", () => {
    expect(() => encode3d(0, 0, 2e7, 6)).toThrow(/altitude 20000000 is not a finite number in \[-10007557\.\d+, 10007557\.\d+\]/);
  });

  it("gives a ball radius bounded by the vertical margin too, and a precision for a radius", () => {
    const r = blockRadius3d(45, 7, 120, 9);
    const s = cellSizeMetres3d(9);
    expect(r).toBeGreaterThanOrEqual(s.thickness - 1e-6);
    expect(r).toBeLessThanOrEqual(2 * s.thickness);
    const p = precisionForRadius3d(1_000, 45);
    const sp = cellSizeMetres3d(p);
    expect(Math.min(sp.thickness, sp.height, sp.width * Math.cos(Math.PI / 4))).toBeGreaterThanOrEqual(1_000);
    const finer = cellSizeMetres3d(p + 1);
    expect(Math.min(finer.thickness, finer.height, finer.width * Math.cos(Math.PI / 4))).toBeLessThan(1_000);
  });
});
