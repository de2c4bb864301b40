/**
 * An upload that holds nothing but a health system's own messages: an OperationOutcome (what an
 * EHR sends back instead of data when a request failed) or the server's description of itself.
 * Imported as it is, it would finish with nothing imported and say nothing, and the person would
 * never learn that the download had failed.
 */
import { FhirInputError, type FhirIssue, type TransformResult } from './result.js';

/** Kinds of issue that are the server speaking, not the person's data or a broken file. */
const SERVER_KINDS: ReadonlySet<FhirIssue['kind']> = new Set(['operation-outcome', 'server-metadata']);
/** How many of the outcome's issues the message quotes, and how much of each one's text. */
const MAX_QUOTED = 3;
const MAX_DETAILS_CHARS = 120;

/** Follows an upload's results (whole or line by line) and refuses it at the end when it held only server messages. */
export class ServerReportCheck {
  #data = false;
  #outcomes: FhirIssue[] = [];
  #metadata = false;

  add(r: TransformResult): void {
    if (this.#data) return;
    if (r.records.length || r.issues.some((i) => !SERVER_KINDS.has(i.kind))) {
      this.#data = true;
      this.#outcomes = [];
      return;
    }
    for (const i of r.issues) {
      if (i.kind === 'server-metadata') this.#metadata = true;
      else if (this.#outcomes.length < MAX_QUOTED) this.#outcomes.push(i);
    }
  }

  /** @throws FhirInputError when everything seen was an OperationOutcome or server metadata. */
  refuseServerOnly(): void {
    if (this.#data) return;
    if (this.#outcomes.length) throw new FhirInputError(outcomeReport(this.#outcomes));
    if (this.#metadata) {
      throw new FhirInputError(
        "This file is a health system's description of its own server (such as a CapabilityStatement), not health data, so nothing was imported.",
      );
    }
  }
}

/** Refuses a whole transformed upload that held only server messages; otherwise hands it back. */
export function refuseServerOnly(out: TransformResult): TransformResult {
  const check = new ServerReportCheck();
  check.add(out);
  check.refuseServerOnly();
  return out;
}

/** "This file is an error report ...: error (not-found): Patient not known." */
function outcomeReport(issues: FhirIssue[]): string {
  const said = issues.map((i) => {
    const details = i.details && i.details.length > MAX_DETAILS_CHARS ? `${i.details.slice(0, MAX_DETAILS_CHARS - 1)}…` : i.details;
    return `${i.severity}${i.code ? ` (${i.code})` : ''}${details ? `: ${details}` : ''}`;
  });
  // The advice goes first: a long quote is what gets cut.
  return `This file is an error report from the health system (a FHIR OperationOutcome), not health data, so nothing was imported: download the data from the health system again. The report says: ${[...new Set(said)].join('; ')}`;
}
