/** Words that name a health metric (its synonyms), matched longest first. */
import { METRICS } from './health-metrics.js';
import { escapeRe, rx } from './phrase-match.js';

export const SYNONYM_RULES = METRICS.flatMap((metric) => metric.synonyms.map((s) => ({ s, metric })))
  .sort((a, b) => b.s.length - a.s.length)
  .map(({ s, metric }) => ({ re: rx(escapeRe(s)), metric }));
