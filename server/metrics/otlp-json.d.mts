import type { Attributes } from '@opentelemetry/api';

export declare const STRIDE: number;
export declare function nanos(ms: number): string;
export declare function exportRequest(flat: readonly unknown[], resourceAttributes: Attributes): string;
export declare function jsonSerializer(resourceAttributes: Attributes): {
  serializeRequest(flat: readonly unknown[]): Uint8Array;
  deserializeResponse(data: Uint8Array): unknown;
};
