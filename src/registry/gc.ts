/**
 * Garbage collection without stopping the world: blobs no manifest
 * references are deleted, but only once older than a grace period, so a blob
 * whose upload just finished (its manifest not pushed yet) survives. Manifests
 * that appeared while marking are marked too before anything is deleted.
 */
import type { ObjectStore } from "../store/object_store.ts";
import { ifFound, listAll } from "../store/small_objects.ts";
import { collectBytes } from "../streams/collect.ts";
import { digestAt, layout } from "./layout.ts";
import { parseManifest } from "./manifests.ts";
import type { Session } from "./uploads.ts";

export interface GcOptions {
  dryRun: boolean;
  /** Blobs younger than this are kept whatever references them. */
  graceMs: number;
  now?: number;
}

export interface GcSummary {
  manifests: number;
  blobs: number;
  deleted: string[];
  bytesFreed: number;
  linksRemoved: number;
}

export async function collectGarbage(store: ObjectStore, opts: GcOptions): Promise<GcSummary> {
  const now = opts.now ?? Date.now();
  const referenced = new Set<string>();
  const seen = new Set<string>();
  const links: string[] = [];
  await mark(store, referenced, seen, links);
  const blobs = await Array.fromAsync(listAll(store, { prefix: layout.blobs }));
  // A second pass catches manifests pushed while the first one ran.
  await mark(store, referenced, seen, []);
  const doomed = blobs.filter((b) => {
    const digest = digestAt(b.key);
    return digest && !referenced.has(digest.text) && now - b.lastModified.getTime() > opts.graceMs;
  });
  const deleted = new Set(doomed.map((b) => digestAt(b.key)!.text));
  const staleLinks = links.filter((key) => deleted.has(digestAt(key)!.text));
  if (!opts.dryRun) {
    for (const blob of doomed) await store.delete(blob.key);
    for (const key of staleLinks) await store.delete(key);
  }
  return {
    manifests: seen.size,
    blobs: blobs.length,
    deleted: [...deleted],
    bytesFreed: doomed.reduce((n, b) => n + b.size, 0),
    linksRemoved: staleLinks.length,
  };
}

/** Adds every blob that a stored manifest names to `referenced`. */
async function mark(
  store: ObjectStore,
  referenced: Set<string>,
  seen: Set<string>,
  links: string[],
): Promise<void> {
  for await (const object of listAll(store, { prefix: layout.repos })) {
    if (object.key.includes("/_links/")) links.push(object.key);
    if (!object.key.includes("/_manifests/") || seen.has(object.key)) continue;
    seen.add(object.key);
    const found = await ifFound(store.get(object.key));
    if (!found) continue;
    const bytes = await collectBytes(found.body);
    try {
      const manifest = parseManifest(bytes, found.info.contentType ?? null);
      for (const blob of manifest.blobs) referenced.add(blob.text);
    } catch {
      // A manifest that no longer parses references nothing it could be served with.
    }
  }
}

export interface SweepSummary {
  sessions: number;
  removed: string[];
}

/** Cancels upload sessions untouched for longer than `olderThanMs`, and their leftovers. */
export async function sweepSessions(
  store: ObjectStore,
  opts: { olderThanMs: number; dryRun: boolean; now?: number },
): Promise<SweepSummary> {
  const cutoff = (opts.now ?? Date.now()) - opts.olderThanMs;
  const objects = await Array.fromAsync(listAll(store, { prefix: layout.uploads }));
  const stale = objects.filter((o) => o.lastModified.getTime() < cutoff);
  const live = new Set(
    objects.filter((o) => o.key.endsWith(".session") && !stale.includes(o)).map((o) =>
      uuidOf(o.key)
    ),
  );
  const removed = stale.filter((o) => !live.has(uuidOf(o.key))).map((o) => o.key);
  const uploads = (await store.listMultipartUploads(layout.uploads)).filter((u) =>
    u.initiated.getTime() < cutoff && !live.has(uuidOf(u.key))
  );
  if (!opts.dryRun) {
    for (const upload of uploads) await store.abortMultipart(upload.key, upload.uploadId);
    for (const key of removed) await store.delete(key);
  }
  return {
    sessions: removed.filter((k) => k.endsWith(".session")).length,
    removed: [...removed, ...uploads.map((u) => `${u.key} (upload ${u.uploadId})`)],
  };
}

function uuidOf(key: string): Session["uuid"] {
  return key.slice(layout.uploads.length).split(".")[0];
}
