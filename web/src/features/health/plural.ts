/** "1 result", "3 results"; `many` for words that do not just add an s. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
