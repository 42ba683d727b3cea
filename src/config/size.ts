/** Parses "64KiB", "8 MiB", "1GB" or a plain byte count. */
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

export function parseSize(value: string | number): number {
  if (typeof value === "number") return value;
  const match = value.trim().toLowerCase().match(/^(\d+(?:\.\d+)?)\s*([a-z]*)$/);
  const unit = match ? UNITS[match[2]] : undefined;
  if (!match || unit === undefined) throw new RangeError(`Not a size: "${value}"`);
  return Math.round(Number(match[1]) * unit);
}
