/**
 * Ollama model references as Ollama reads them (ollama types/model/name.go): `[host/][namespace/]
 * model[:tag]`, where a reference without a tag means the tag `latest`. `nomic-embed-text` and
 * `nomic-embed-text:latest` are one model to Ollama, and so they must be here wherever a name is
 * looked up (the models list, the defaults, a delete); `ollama list` shows the tagged form.
 */

/** The reference's path and tag, `latest` when it has none (a colon before the last `/` is a host's port). */
export function splitModelName(name: string): { path: string; tag: string } {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? { path: name.slice(0, colon), tag: name.slice(colon + 1) } : { path: name, tag: 'latest' };
}

/** The name with its tag, as `ollama list` and `/api/tags` show it: `nomic-embed-text` -> `nomic-embed-text:latest`. */
export function taggedModelName(name: string): string {
  const { path, tag } = splitModelName(name);
  return `${path}:${tag}`;
}

/** Whether two references name the same model. */
export function sameModel(a: string, b: string): boolean {
  return taggedModelName(a) === taggedModelName(b);
}
