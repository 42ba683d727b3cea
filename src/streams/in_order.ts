/**
 * Keeps up to `depth` async results in flight and emits each as soon as it and
 * everything before it have settled, in submission order. Frames are thus
 * sealed concurrently while output order holds, and a stalled source does not
 * strand finished frames. The first failure is sticky: nothing queued after it
 * is emitted, and every later call rejects with it.
 */
interface Slot<T> {
  settled: boolean;
  ok: boolean;
  value?: T;
  error?: unknown;
}

export class InOrder<T> {
  readonly #depth: number;
  readonly #emit: (value: T) => void;
  #queue: Slot<T>[] = [];
  #failed = false;
  #failure: unknown;
  #wake?: () => void;

  constructor(depth: number, emit: (value: T) => void) {
    if (!Number.isSafeInteger(depth) || depth < 1) {
      throw new RangeError(`Depth must be a positive integer, got ${depth}`);
    }
    this.#depth = depth;
    this.#emit = emit;
  }

  /** Queues `work`; resolves once there is room for more. */
  async push(work: Promise<T>): Promise<void> {
    // Observed here so work refused after a failure is not an unhandled rejection.
    work.catch(() => {});
    this.#throwIfFailed();
    const slot: Slot<T> = { settled: false, ok: false };
    this.#queue.push(slot);
    work.then(
      (value) => this.#settle(slot, { ok: true, value }),
      (error) => this.#settle(slot, { ok: false, error }),
    );
    while (this.#queue.length >= this.#depth) await this.#wait();
  }

  /** Resolves when everything queued has been emitted. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0) await this.#wait();
    // A failure may have settled while nobody was waiting.
    this.#throwIfFailed();
  }

  #settle(
    slot: Slot<T>,
    result: Pick<Slot<T>, "ok" | "value" | "error">,
  ): void {
    Object.assign(slot, result, { settled: true });
    while (!this.#failed && this.#queue[0]?.settled) {
      const head = this.#queue.shift()!;
      try {
        if (!head.ok) throw head.error;
        this.#emit(head.value as T);
      } catch (error) {
        this.#failed = true;
        this.#failure = error;
        this.#queue = [];
      }
    }
    this.#wake?.();
  }

  async #wait(): Promise<void> {
    this.#throwIfFailed();
    await new Promise<void>((resolve) => (this.#wake = resolve));
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failed) throw this.#failure;
  }
}
