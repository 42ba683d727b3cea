/** HTTP Range headers, as both protocols read them. */
import type { ByteRange } from "../store/object_store.ts";

export const UNSATISFIABLE = "unsatisfiable";

/**
 * One `bytes=` range resolved against `size`: undefined when there is none or
 * it cannot be parsed (the whole body is served, as S3 does), UNSATISFIABLE
 * when it starts past the end.
 */
export function parseRange(
  header: string | null,
  size: number,
): ByteRange | undefined | typeof UNSATISFIABLE {
  const m = header?.match(/^bytes=(\d*)-(\d*)$/);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let range: ByteRange;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return UNSATISFIABLE;
    range = { start: Math.max(0, size - suffix), end: size - 1 };
  } else {
    const start = Number(m[1]);
    const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return undefined;
    range = { start, end };
  }
  return range.start >= size ? UNSATISFIABLE : range;
}
