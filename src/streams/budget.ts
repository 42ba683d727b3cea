/**
 * Weighted async semaphores that turn "memory is bounded" into backpressure.
 *
 * A ByteBudget limits bytes in flight, a Gate limits a count. Waiters are served
 * in FIFO order so a large request cannot be starved by a stream of small ones,
 * and a request larger than the whole budget is clamped to it instead of
 * waiting forever.
 */

export interface Permit {
  /** Units this permit holds (after clamping). */
  readonly size: number;
  /** Returns the units; calling it again is a no-op. */
  release(): void;
}

interface Waiter {
  size: number;
  grant: (permit: Permit) => void;
  fail: (reason: unknown) => void;
}

class Semaphore {
  readonly capacity: number;
  #inUse = 0;
  #highWater = 0;
  #waiters: Waiter[] = [];

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Capacity must be a positive integer, got ${capacity}`,
      );
    }
    this.capacity = capacity;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /** The most units ever held at once; tests use it to prove memory bounds. */
  get highWater(): number {
    return this.#highWater;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  acquire(size: number, signal?: AbortSignal): Promise<Permit> {
    signal?.throwIfAborted();
    const clamped = Math.min(Math.max(0, Math.ceil(size)), this.capacity);
    if (this.#waiters.length === 0 && this.#fits(clamped)) {
      return Promise.resolve(this.#grant(clamped));
    }
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { size: clamped, grant: resolve, fail: reject };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          reject(signal.reason);
          this.#drain();
        }
      }, { once: true });
    });
  }

  #fits(size: number): boolean {
    return this.#inUse + size <= this.capacity;
  }

  #grant(size: number): Permit {
    this.#inUse += size;
    this.#highWater = Math.max(this.#highWater, this.#inUse);
    let held = true;
    return {
      size,
      release: () => {
        if (!held) return;
        held = false;
        this.#inUse -= size;
        this.#drain();
      },
    };
  }

  #drain(): void {
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0].size)) {
      const waiter = this.#waiters.shift()!;
      waiter.grant(this.#grant(waiter.size));
    }
  }
}

/** A buffer lent out under a budget permit; release returns both. */
export interface Lease extends Permit {
  readonly bytes: Uint8Array;
}

/**
 * Bytes in flight across every request that shares it. It also lends
 * reusable buffers, so that part-sized allocations are recycled instead of
 * left for the garbage collector, which keeps RSS close to the budget.
 */
export class ByteBudget extends Semaphore {
  #free = new Map<number, Uint8Array[]>();

  async lease(size: number, signal?: AbortSignal): Promise<Lease> {
    const permit = await this.acquire(size, signal);
    const bytes = this.#free.get(size)?.pop() ?? new Uint8Array(size);
    let held = true;
    return {
      size: permit.size,
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        const free = this.#free.get(size) ?? [];
        // Keep no more idle buffers than the budget could lend at once.
        if ((free.length + 1) * size <= this.capacity) free.push(bytes);
        this.#free.set(size, free);
        permit.release();
      },
    };
  }
}

/** A counted limit, such as parts or frames in flight. */
export class Gate extends Semaphore {
  override acquire(_size = 1, signal?: AbortSignal): Promise<Permit> {
    return super.acquire(1, signal);
  }
}

/**
 * Passes chunks through unchanged and releases `permit` exactly once when the
 * stream closes, errors or is cancelled from either side.
 */
export function releaseOnEnd<T>(permit: Permit): TransformStream<T, T> {
  return new TransformStream<T, T>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
    },
    flush() {
      permit.release();
    },
    cancel() {
      permit.release();
    },
  });
}
