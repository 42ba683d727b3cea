/**
 * Sweeps multipart uploads that were started and never finished: the
 * upstream upload is aborted and blobgate's records of it are removed. An
 * upload whose start time cannot be read is kept, and a dry run only reports.
 */
import type { ObjectStore } from "../store/object_store.ts";
import { readJson } from "../store/small_objects.ts";
import { dropRecords, recordKey, type UploadRecord } from "./upload_records.ts";
import { INTERNAL_PREFIX } from "./sealed_objects.ts";

export interface SweepOptions {
  olderThanMs: number;
  now?: Date;
  dryRun?: boolean;
}

export interface SweepSummary {
  swept: { key: string; uploadId: string }[];
  kept: number;
}

export async function sweepUploads(store: ObjectStore, opts: SweepOptions): Promise<SweepSummary> {
  const cutoff = (opts.now ?? new Date()).getTime() - opts.olderThanMs;
  const summary: SweepSummary = { swept: [], kept: 0 };
  for (const upload of await store.listMultipartUploads()) {
    if (upload.key.startsWith(INTERNAL_PREFIX)) continue;
    const record = await readJson<UploadRecord>(store, recordKey(upload.uploadId));
    const started = Date.parse(record?.initiated ?? "") || upload.initiated.getTime();
    if (!Number.isFinite(started) || started <= 0 || started > cutoff) {
      summary.kept++;
      continue;
    }
    summary.swept.push({ key: upload.key, uploadId: upload.uploadId });
    if (opts.dryRun) continue;
    await store.abortMultipart(upload.key, upload.uploadId).catch(() => {});
    await dropRecords(store, upload.uploadId);
  }
  return summary;
}
