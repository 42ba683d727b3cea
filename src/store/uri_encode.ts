/**
 * SigV4's URI encoding, on both sides: signing the upstream's requests, and
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
