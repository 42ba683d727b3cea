export { fromHex, toHex } from "../../src/streams/digest.ts";
