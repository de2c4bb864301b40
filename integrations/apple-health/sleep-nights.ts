/**
 * Groups Apple Health SleepAnalysis segments into nights, so that every segment of one night
 * counts towards the local date the night started (docs/API.md: minutes asleep per night, on the
 * local date the sleep started), as a Fitbit sleep log does. Apple writes a night as many stage
 * segments (in bed, core, deep, REM, awake); filed on their own start dates, a night that starts
 * at 22:00 would count partly on one day and partly on the next.
 *
 * A night is one source's segments that overlap or follow each other within {@link NIGHT_GAP_MS}.
 * Every stage counts, in bed and awake included: they are part of the session, and a night that
 * starts with 40 minutes in bed before midnight is that evening's night, as Fitbit's logs (which
 * start at bedtime) have it. Sources are kept apart: nothing bounds how far apart an export
 * lists two sources' samples of one night (one source's years may come before another's), so
 * joining them would mean holding the whole file; and two sources recording the same night are
 * not added up anyway (a cumulative day counts its largest single source, see day-chunk.ts
 * computeStats).
 *
 * Segments of a night are held until the night can no longer grow, then leave with the night's
 * date, so segments that come out of order or between other records still end up together. What
 * is held is bounded whatever the file's size and order (see the limits below); past a bound a
 * night's held segments leave early with the date known so far, which only matters for an
 * export whose records are ordered against all expectation.
 */
import type { QuantitySample } from '../types.js';

/**
 * Segments of one source at most this far apart belong to one night. An hour bridges a stretch
 * awake that a sleep app did not record (Apple Watch writes those as Awake, so its nights have
 * no gaps), while a nap, hours away from the night, stays a session of its own on its own date.
 */
export const NIGHT_GAP_MS = 3_600_000;
/**
 * No night spans more than this: a source writing segments around the clock (an app logging
 * "awake" all day) would otherwise chain every day of the file into one "night".
 */
export const NIGHT_MAX_SPAN_MS = 24 * 3_600_000;

/** Bounds on what is held. The defaults hold a few MB at most. */
export interface SleepNightLimits {
  /** Nights kept open per source; past it the one least recently added to is closed. */
  perSource: number;
  /** Nights kept open in all. */
  nights: number;
  /** Segments held in all; past it the least recently added-to nights let theirs go early. */
  segments: number;
}

const DEFAULT_LIMITS: SleepNightLimits = { perSource: 8, nights: 256, segments: 16_384 };

/** One SleepAnalysis record, read and checked. */
export interface SleepSegment {
  /** Owned, interned source name (it is held). */
  sourceName: string;
  /** The stage's series type (sleep-stages.ts). */
  stage: string;
  /** Whether it counts as minutes asleep too. */
  asleep: boolean;
  startMs: number;
  endMs: number;
  /** The local date its start was written with, YYYY-MM-DD. */
  startDate: string;
}

interface Night {
  sourceName: string;
  startMs: number;
  endMs: number;
  /** The local date of the earliest segment: where the whole night goes. */
  date: string;
  /** Segments waiting for the night to close. */
  held: SleepSegment[];
  /** Set once held segments have left: the date can no longer change, later segments leave at once. */
  fixed: boolean;
}

/**
 * Collects sleep segments into nights and hands each segment out, as samples on its night's
 * date, once the night is closed (or at {@link drain}).
 */
export class SleepNights {
  readonly #emit: (segment: SleepSegment, localDate: string) => void;
  readonly #limits: SleepNightLimits;
  readonly #bySource = new Map<string, Night[]>();
  /** Every open night, least recently added to first (a Set keeps insertion order). */
  readonly #lru = new Set<Night>();
  #held = 0;

  constructor(emit: (segment: SleepSegment, localDate: string) => void, limits: Partial<SleepNightLimits> = {}) {
    this.#emit = emit;
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  add(seg: SleepSegment): void {
    let list = this.#bySource.get(seg.sourceName);
    if (!list) this.#bySource.set(seg.sourceName, (list = []));
    let night = list.find((n) => near(n, seg) && fits(n, seg));
    if (night) {
      list.splice(list.indexOf(night), 1);
      this.#lru.delete(night);
      this.#extend(night, seg.startMs, seg.startDate, seg.endMs);
      // An out-of-order segment can bridge two nights seen so far: they are one.
      for (let i = 0; i < list.length;) {
        const n = list[i]!;
        if (near(night, n) && fits(night, n)) {
          this.#absorb(night, n);
          list.splice(i, 1);
          this.#lru.delete(n);
          i = 0;
        } else i++;
      }
    } else night = { sourceName: seg.sourceName, startMs: seg.startMs, endMs: seg.endMs, date: seg.startDate, held: [], fixed: false };
    // The source's list and the LRU set both run from least to most recently added to.
    list.push(night);
    this.#lru.add(night);
    if (night.fixed) this.#emit(seg, night.date);
    else {
      night.held.push(seg);
      this.#held++;
    }
    if (list.length > this.#limits.perSource) this.#close(list[0]!);
    while (this.#lru.size > this.#limits.nights) this.#close(this.#lru.values().next().value!);
    if (this.#held > this.#limits.segments) {
      for (const n of this.#lru) {
        this.#fix(n);
        if (this.#held <= this.#limits.segments) break;
      }
    }
  }

  /** Closes every night (end of the file). */
  drain(): void {
    for (const n of [...this.#lru]) this.#close(n);
  }

  #extend(night: Night, startMs: number, startDate: string, endMs: number): void {
    // The earliest start decides the date; an equal instant written with another offset picks the
    // smaller date, so the result does not depend on which segment came first.
    if (!night.fixed && (startMs < night.startMs || (startMs === night.startMs && startDate < night.date))) night.date = startDate;
    if (startMs < night.startMs) night.startMs = startMs;
    if (endMs > night.endMs) night.endMs = endMs;
  }

  /** Moves `other`'s span and segments into `night`. */
  #absorb(night: Night, other: Night): void {
    if (other.fixed && !night.fixed) {
      // The date of held segments can still change, the other's has been used: keep that one.
      night.date = other.date;
      this.#fix(night);
    }
    this.#extend(night, other.startMs, other.date, other.endMs);
    for (const s of other.held) {
      if (night.fixed) {
        this.#emit(s, night.date);
        this.#held--;
      } else night.held.push(s);
    }
  }

  /** Lets the night's held segments go with the date known now; the night stays open. */
  #fix(night: Night): void {
    for (const s of night.held) this.#emit(s, night.date);
    this.#held -= night.held.length;
    night.held = [];
    night.fixed = true;
  }

  #close(night: Night): void {
    this.#fix(night);
    this.#lru.delete(night);
    const list = this.#bySource.get(night.sourceName)!;
    list.splice(list.indexOf(night), 1);
    if (list.length === 0) this.#bySource.delete(night.sourceName);
  }
}

interface Span {
  startMs: number;
  endMs: number;
}

/** Whether two spans overlap or lie within the gap of each other. */
function near(a: Span, b: Span): boolean {
  return b.startMs <= a.endMs + NIGHT_GAP_MS && b.endMs >= a.startMs - NIGHT_GAP_MS;
}

/** Whether the two spans together stay within the longest a night may be. */
function fits(a: Span, b: Span): boolean {
  return Math.max(a.endMs, b.endMs) - Math.min(a.startMs, b.startMs) <= NIGHT_MAX_SPAN_MS;
}

/** The samples one segment makes: its stage's minutes, and minutes asleep for asleep stages. */
export function sleepSamples(seg: SleepSegment, localDate: string, asleepType: string): QuantitySample[] {
  const base = { unit: 'min', startMs: seg.startMs, endMs: seg.endMs, localDate, value: (seg.endMs - seg.startMs) / 60000, sourceName: seg.sourceName };
  return seg.asleep
    ? [
        { type: seg.stage, ...base },
        { type: asleepType, ...base },
      ]
    : [{ type: seg.stage, ...base }];
}
