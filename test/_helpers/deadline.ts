/**
 * Fails if `work` has not settled within `ms`, so a deadlock shows up as a
 * failure with a reason instead of a test that never ends.
 */
export async function withDeadline<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`${what}: still waiting after ${ms} ms`);
      // The server may then hang on stopping, with its requests still waiting.
      console.error(error.message);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
