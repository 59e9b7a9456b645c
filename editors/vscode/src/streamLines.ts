// Pure line assembly for the output channel: stdout and stderr share one channel, and a runner may
// cut a stream anywhere (even between a line and its newline), so each stream's partial line is held
// back until it is complete or the caller flushes it (a prompt without a newline, the end of a run).

export class StreamLines {
  private readonly partial = new Map<string, string>();

  /** Takes a chunk of `stream` and returns the complete lines that can be written now. */
  push(stream: string, text: string): string {
    const joined = (this.partial.get(stream) ?? '') + text;
    const end = joined.lastIndexOf('\n');
    if (end < 0) {
      this.partial.set(stream, joined);
      return '';
    }
    const rest = joined.slice(end + 1);
    if (rest) {
      this.partial.set(stream, rest);
    } else {
      this.partial.delete(stream);
    }
    return joined.slice(0, end + 1);
  }

  /** Whether some stream holds an incomplete line. */
  get pending(): boolean {
    return this.partial.size > 0;
  }

  /** Returns and forgets every held partial line. */
  flush(): string {
    const text = [...this.partial.values()].join('');
    this.partial.clear();
    return text;
  }
}
