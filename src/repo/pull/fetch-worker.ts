/**
 * Worker thread of fetch-workers.ts: fetches and stores the content objects it is sent
 * (content-fetch.ts) over its own keep-alive connections, and answers in batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fetchContentObject } from './content-fetch.js';
import type { FetchAnswer, FetchWorkerData } from './fetch-workers.js';
import { SpaceBudget } from './space.js';
import { HttpFetcher } from './transport.js';

const data = workerData as FetchWorkerData;
const fetcher = new HttpFetcher(data.bases, data.fetcher);
const space = new SpaceBudget(data.space);
let answers: FetchAnswer[] = [];
let flushQueued = false;
let lastBytes = 0;
const FLUSH_AT = 16;
const FLUSH_DELAY_MS = 5;

function answer(a: Omit<FetchAnswer, 'received'>): void {
  const received = fetcher.bytesTransferred - lastBytes;
  lastBytes = fetcher.bytesTransferred;
  answers.push({ ...a, received });
  // a message wakes the other thread, which costs more than storing a small object: answers
  // wait a few milliseconds for company, unless there are plenty already
  if (answers.length >= FLUSH_AT) flush();
  else if (!flushQueued) { flushQueued = true; setTimeout(flush, FLUSH_DELAY_MS); }
}

function flush(): void {
  flushQueued = false;
  if (answers.length === 0) return;
  const out = answers;
  answers = [];
  parentPort!.postMessage(out);
}

async function one(checksum: string): Promise<void> {
  try {
    answer({ checksum, written: await fetchContentObject(fetcher, data.content, space, checksum) });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    answer({ checksum, code: err.code ?? 'EIO', message: err.message ?? String(e) });
  }
}

parentPort!.on('message', (batch: string[]) => { for (const c of batch) void one(c); });
