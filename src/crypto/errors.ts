/**
 * Every authentication failure carries the same plain message, so an attacker
 * learns nothing about which frame or field failed.
 */
export class AuthenticationError extends Error {
  override name = "AuthenticationError";
  constructor() {
    super("Message authentication failed");
  }
}

/** Sizes or metadata that no honest writer produces. */
export class FormatError extends Error {
  override name = "FormatError";
}
