/**
 * Bearer tokens for the registry's token flow: a JSON claim set and its
 * HMAC-SHA256, both base64url. The key is derived from the master key, so
 * every replica can check a token any replica issued, and none is stored.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export interface Grant {
  type: "repository" | "registry";
  name: string;
  actions: string[];
}

export interface Claims {
  /** Access key id, or "" for an anonymous token. */
  sub: string;
  exp: number;
  access: Grant[];
}

export class Tokens {
  readonly #key: Uint8Array;
  constructor(masterKey: Uint8Array, readonly ttlSeconds: number) {
    this.#key = createHmac("sha256", masterKey).update("blobgate registry tokens v1").digest();
  }

  issue(sub: string, access: Grant[], now = Date.now()): string {
    const claims: Claims = { sub, exp: Math.floor(now / 1000) + this.ttlSeconds, access };
    const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${payload}.${this.#sign(payload)}`;
  }

  /** The claims of a genuine, unexpired token; undefined otherwise. */
  verify(token: string, now = Date.now()): Claims | undefined {
    const [payload, signature, extra] = token.split(".");
    if (!payload || !signature || extra !== undefined) return undefined;
    const expected = Buffer.from(this.#sign(payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Claims;
      return claims.exp * 1000 > now ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  #sign(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }
}
