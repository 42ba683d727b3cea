import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";

/** The AWS SDK signer's hash interface, over node:crypto (SHA-NI) instead of a JS hash. */
export class Sha256 {
  #key?: Uint8Array;
  #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (typeof secret === "string") this.#key = new TextEncoder().encode(secret);
    else if (secret instanceof ArrayBuffer) this.#key = new Uint8Array(secret);
    else if (secret) {
      this.#key = new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
    }
    this.#hash = this.#make();
  }
  #make() {
    return this.#key ? createHmac("sha256", this.#key) : createHash("sha256");
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.#hash.update(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset() {
    this.#hash = this.#make();
  }
}
