// Writes that arrive in the same turn of the event loop go out together: a few as ordinary
// requests, more as one batch request (Google's multipart batch, Graph's JSON $batch). Each call
// keeps its own answer, so one failed write never fails its neighbours.

export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path with its query, e.g. `/calendar/v3/calendars/primary/events` or `/me/events/AAMk…`. */
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface Queued {
  call: Call;
  single: () => Promise<Answer>;
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

export class WriteBatcher {
  private queue: Queued[] = [];
  private scheduled = false;

  /**
   * @param sendBatch sends calls as one batch; answers in call order
   * @param minBatch fewer writes than this go out one by one
   */
  constructor(
    private readonly sendBatch: (calls: Call[]) => Promise<Answer[]>,
    private readonly minBatch: number,
    private readonly maxBatch: number,
  ) {}

  run(call: Call, single: () => Promise<Answer>): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.queue.push({ call, single, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queue;
    this.queue = [];
    if (queued.length < this.minBatch) {
      for (const q of queued) q.single().then(q.resolve, q.reject);
      return;
    }
    for (let i = 0; i < queued.length; i += this.maxBatch) {
      const chunk = queued.slice(i, i + this.maxBatch);
      this.sendBatch(chunk.map((q) => q.call)).then(
        (answers) => chunk.forEach((q, j) => q.resolve(answers[j]!)),
        (error) => chunk.forEach((q) => q.reject(error)),
      );
    }
  }
}
