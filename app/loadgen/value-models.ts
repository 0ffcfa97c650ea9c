/**
 * What each entity's values look like, and the anomalies the generator injects into them with their
 * ground-truth labels. Two models per key:
 * - stable: a level with normal noise (σ = 1% of the level);
 * - walk: a biased random walk (each step: drift + normal noise), i.e. a trend the detector must not flag.
 * Injected anomalies (only on a key with at least `historyWindow` earlier events and none injected in its last
 * `historyWindow`, so every one is detectable in principle and episodes do not overlap):
 * - spike: one value off by 50%–500% of the key's scale, up or down (the reference used ×1000);
 * - shift: the key's level moves for good, from this event on (labelled on its first event; the next
 *   `historyWindow` events are its episode, while the detector's baseline still mixes both levels). On a stable
 *   key, `smallShifts.share` of the shifts are small, sized in the key's own noise σ (uniform over the
 *   injection's range, `smallShifts.sigmas` by default): what a CUSUM exists to catch. The others move by 20%–50% of the scale (20σ–50σ).
 *   A walk key's shifts are all large: on a random walk a level step of a few step-σ is one ordinary-looking
 *   step that the walk then carries on from, not a sustained change of the process (its steps) the detector
 *   watches.
 * Each anomaly's size is reported in the key's noise σ (the stable key's noise, the walk's step noise).
 */
import type { Label } from "../events/event-codec.ts";
import { historyWindow } from "../topology.ts";
import type { Rng } from "./random.ts";

export interface KeyState {
  readonly model: "stable" | "walk";
  /** The key's scale: its level at the start. Noise, drift and anomalies are fractions of it. */
  readonly base: number;
  /** The stable model's level, or the walk's current position. */
  level: number;
  readonly noise: number;
  readonly drift: number;
  /** Events of this key so far. */
  count: number;
  /** Events since the last injected anomaly of this key. */
  sinceAnomaly: number;
}

/** Small sustained shifts of stable keys: which share of the shifts, and their size range in the key's σ. */
export const smallShifts = { share: 0.5, sigmas: { min: 1, max: 3 } } as const;

export function newKeyState(rng: Rng, walkShare: number): KeyState {
  const level = rng.uniform(100, 10_000);
  const walk = rng.next() < walkShare;
  return walk
    ? // A trend of ±0.02%–0.1% of the scale per event with step noise of 0.1%: clearly a trend, never a jump.
      {
        model: "walk",
        base: level,
        level,
        noise: level * 0.001,
        drift: rng.sign() * level * rng.uniform(0.0002, 0.001),
        count: 0,
        sinceAnomaly: historyWindow,
      }
    : { model: "stable", base: level, level, noise: level * 0.01, drift: 0, count: 0, sinceAnomaly: historyWindow };
}

export interface Injection {
  readonly spikeProbability: number;
  readonly shiftProbability: number;
  /** The small shifts' size range in the key's σ (default smallShifts.sigmas). */
  readonly smallShiftSigmas?: { readonly min: number; readonly max: number };
}

export interface NextValue {
  readonly value: number;
  readonly label: Label;
  /** An injected anomaly's size in the key's noise σ (absolute); 0 for "none". */
  readonly sigmas: number;
}

/** The key's next value and its label; advances the key's state. */
export function nextValue(state: KeyState, rng: Rng, injection: Injection): NextValue {
  let label: Label = "none";
  let sigmas = 0;
  const eligible = state.count >= historyWindow && state.sinceAnomaly >= historyWindow;
  const roll = rng.next();
  if (eligible && roll < injection.shiftProbability) {
    const small = state.model === "stable" && rng.next() < smallShifts.share;
    const range = injection.smallShiftSigmas ?? smallShifts.sigmas;
    const size = small ? state.noise * rng.uniform(range.min, range.max) : state.base * rng.uniform(0.2, 0.5);
    state.level += rng.sign() * size;
    sigmas = size / state.noise;
    label = "shift";
  }
  if (state.model === "walk") state.level += state.drift + state.noise * rng.normal();
  let value = state.model === "walk" ? state.level : state.level + state.noise * rng.normal();
  if (eligible && label === "none" && roll < injection.shiftProbability + injection.spikeProbability) {
    const size = state.base * rng.uniform(0.5, 5);
    value += rng.sign() * size;
    sigmas = size / state.noise;
    label = "spike";
  }
  state.count++;
  state.sinceAnomaly = label === "none" ? state.sinceAnomaly + 1 : 0;
  return { value, label, sigmas };
}
