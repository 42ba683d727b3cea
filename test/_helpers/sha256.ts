export { Sha256 } from "../../src/store/sdk_sha256.ts";
