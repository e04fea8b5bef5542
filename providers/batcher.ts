// Writes that arrive together go out together: a few as ordinary requests, more as one batch
// request (Google's multipart batch, Graph's JSON $batch). Each call keeps its own answer, so one
// failed write never fails its neighbours. "Together" is a short quiet moment, not one turn of the
// event loop: each write is preceded by its own store transaction, which on PostgreSQL is a few
// round trips, so the sync's writers arrive a few milliseconds apart.

/** A batch goes out once no write came for this long… */
const QUIET_MS = 10;
/** …or this long after its first write, or when it is full. */
const MAX_WAIT_MS = 60;

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
  private timer: NodeJS.Timeout | undefined;
  private firstAt = 0;

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
      const now = performance.now();
      if (this.queue.length === 1) this.firstAt = now;
      clearTimeout(this.timer);
      if (this.queue.length >= this.maxBatch) return this.flush();
      this.timer = setTimeout(() => this.flush(), Math.max(0, Math.min(QUIET_MS, this.firstAt + MAX_WAIT_MS - now)));
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
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
