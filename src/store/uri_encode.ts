/**
 * SigV4's URI encoding and canonical query, on both sides: signing the upstream's requests, and
 * checking the signatures of clients' requests.
 */

/** RFC 3986 unreserved characters stay; every other UTF-8 byte is %XX. */
export function uriEncode(text: string): string {
  if (UNRESERVED.test(text)) return text;
  try {
    // encodeURIComponent also keeps !'()*, which SigV4 escapes.
    return encodeURIComponent(text).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    // A lone surrogate: encode it as TextEncoder does, as U+FFFD.
    return uriEncode(text.toWellFormed());
  }
}

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;

/**
 * SigV4's canonical query string of decoded name/value pairs: each encoded,
 * then sorted by name and value. It is also a valid query to send.
 */
export function canonicalQuery(pairs: Iterable<[string, string]>): string {
  const encoded: [string, string][] = [];
  for (const [name, value] of pairs) encoded.push([uriEncode(name), uriEncode(value)]);
  encoded.sort(([an, av], [bn, bv]) => an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0);
  return encoded.map(([name, value]) => `${name}=${value}`).join("&");
}
