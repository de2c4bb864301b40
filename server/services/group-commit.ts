/**
 * Group commit for independent inserts under one key (a user): while a write for the key is in
 * flight, the next entries wait and then go together as one write (one statement, one commit,
 * one round trip). Nothing waits when nothing is in flight, so a lone request pays no delay.
 * Each caller's promise settles only after the write holding its entry has committed or failed,
 * so no acknowledged entry can be lost. A failed group is retried one entry at a time, so one bad
 * entry fails only its own caller.
 */
export class GroupCommit<E> {
  readonly #queues = new Map<string, Array<{ entry: E; resolve: () => void; reject: (err: unknown) => void }>>();

  constructor(
    private readonly write: (key: string, entries: E[]) => Promise<void>,
    private readonly maxGroup = 64,
  ) {}

  submit(key: string, entry: E): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(key);
      if (queue) {
        queue.push({ entry, resolve, reject });
        return;
      }
      const fresh = [{ entry, resolve, reject }];
      this.#queues.set(key, fresh);
      void this.#drain(key, fresh);
    });
  }

  async #drain(key: string, queue: Array<{ entry: E; resolve: () => void; reject: (err: unknown) => void }>): Promise<void> {
    while (queue.length) {
      const group = queue.splice(0, this.maxGroup);
      try {
        await this.write(
          key,
          group.map((g) => g.entry),
        );
        for (const g of group) g.resolve();
      } catch (err) {
        if (group.length === 1) group[0]!.reject(err);
        else
          for (const g of group) {
            try {
              await this.write(key, [g.entry]);
              g.resolve();
            } catch (e) {
              g.reject(e);
            }
          }
      }
    }
    this.#queues.delete(key);
  }
}
