/**
 * Process metrics in Prometheus text format. Counters are plain objects
 * handed to whoever moves bytes; nothing here is global.
 */
import type { ByteBudget } from "../streams/budget.ts";

export class Counter {
  #value = 0;
  constructor(readonly name: string, readonly help: string) {}
  add(n: number): void {
    this.#value += n;
  }
  get value(): number {
    return this.#value;
  }
}

/** A counter family keyed by a fixed set of label names. */
export class LabeledCounter {
  #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly labels: string[]) {}
  inc(values: Record<string, string | number>, n = 1): void {
    const key = this.labels.map((l) => `${l}="${escapeLabel(String(values[l] ?? ""))}"`).join(",");
    this.#values.set(key, (this.#values.get(key) ?? 0) + n);
  }
  get(values: Record<string, string | number>): number {
    const key = this.labels.map((l) => `${l}="${escapeLabel(String(values[l] ?? ""))}"`).join(",");
    return this.#values.get(key) ?? 0;
  }
  *samples(): Generator<[string, number]> {
    yield* this.#values;
  }
}

export class Metrics {
  readonly bytesIn = new Counter("blobgate_bytes_in_total", "Request body bytes received");
  readonly bytesOut = new Counter("blobgate_bytes_out_total", "Response body bytes sent");
  readonly bytesSealed = new Counter("blobgate_bytes_sealed_total", "Plaintext bytes encrypted");
  readonly bytesOpened = new Counter(
    "blobgate_bytes_opened_total",
    "Plaintext bytes decrypted and authenticated",
  );
  /** Object body bytes read from the store while handling copies: should stay 0. */
  readonly copyBodyBytes = new Counter(
    "blobgate_copy_body_bytes_total",
    "Object body bytes read from the store by copy handling",
  );
  readonly requests = new LabeledCounter(
    "blobgate_requests_total",
    "Requests by listener, route and status",
    ["listener", "route", "status"],
  );

  constructor(readonly budget: ByteBudget) {}

  render(): string {
    const lines: string[] = [];
    const counters = [
      this.bytesIn,
      this.bytesOut,
      this.bytesSealed,
      this.bytesOpened,
      this.copyBodyBytes,
    ];
    for (const c of counters) {
      lines.push(`# HELP ${c.name} ${c.help}`, `# TYPE ${c.name} counter`, `${c.name} ${c.value}`);
    }
    const gauge = "blobgate_budget_in_use_bytes";
    lines.push(
      `# HELP ${gauge} Bytes of the memory budget held by in-flight buffers`,
      `# TYPE ${gauge} gauge`,
      `${gauge} ${this.budget.inUse}`,
      `# HELP blobgate_budget_capacity_bytes Configured memory budget`,
      `# TYPE blobgate_budget_capacity_bytes gauge`,
      `blobgate_budget_capacity_bytes ${this.budget.capacity}`,
    );
    const r = this.requests;
    lines.push(`# HELP ${r.name} ${r.help}`, `# TYPE ${r.name} counter`);
    for (const [labels, value] of r.samples()) lines.push(`${r.name}{${labels}} ${value}`);
    return lines.join("\n") + "\n";
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
