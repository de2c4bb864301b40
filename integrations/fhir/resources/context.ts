/** What a resource handler gets and returns; the dispatcher (../dispatch.ts) does the rest. */
import type { QuantitySample, RecordInput } from '../../types.js';
import type { FhirIssue, TransformOptions } from '../result.js';
import type { Json } from '../util.js';

export interface Ctx {
  rt: string;
  resource: Json;
  /** Deep copy stored as `data.resource`, with inline attachment bytes removed. */
  stored: Json;
  opts: TransformOptions;
  issues: FhirIssue[];
  attachments: NonNullable<RecordInput['attachments']>;
  /** Where inline bytes were removed from `stored`, and the attachment that holds them. */
  stripped: Array<{ path: string; name: string }>;
  externalId: string;
}

/** What a type handler decides; the rest of the record is common. */
export interface Built {
  kind?: RecordInput['kind'];
  type: string;
  occurredAt: string | undefined;
  title: string;
  text: string;
  tags: string[];
  data: Record<string, unknown>;
  samples?: QuantitySample[];
}

export type Handler = (r: Json, ctx: Ctx) => Built;
