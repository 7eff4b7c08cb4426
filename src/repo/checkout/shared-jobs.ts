/**
 * The shared stack of directories waiting to be filled by the threads of a hardlink checkout
 * (hardlink.ts): Pending records in shared memory, guarded by a lock word, with the counters
 * that tell when every thread is idle and the checkout is over.
 */

/** A directory that exists (empty) and waits for its entries. */
export interface Pending { tree: string; meta: string; path: string; depth: number }

// Control words of the shared stack (Int32Array indices).
const LOCK = 0;      // 0 free, 1 held
const COUNT = 1;     // entries on the stack
const IDLE = 2;      // threads waiting for work
const MEMBERS = 3;   // threads taking part
const DONE = 4;      // 1 once all threads were idle with the stack empty (or after abort)
const ABORT = 5;     // 1 after a failure anywhere
const ARENA = 6;     // bytes of the record arena in use
const SEQ = 7;       // bumped on every push and at the end, for Atomics.wait
const CONTROL_WORDS = 8;

const STACK_SLOTS = 1 << 14;
const ARENA_BYTES = 8 << 20;

/** The buffers of a SharedJobs, as sent to a worker. */
export interface SharedJobsBuffers { control: SharedArrayBuffer; slots: SharedArrayBuffer; arena: SharedArrayBuffer }

/**
 * A lock-protected stack of Pending records in shared memory: record = tree (32 bytes), meta
 * (32), depth (u16), path length (u16), path (UTF-8). The arena is never reclaimed: a checkout
 * pushes only while another thread is idle, far fewer records than directories.
 */
export class SharedJobs {
  private readonly control: Int32Array;
  private readonly slots: Int32Array;
  private readonly arena: Buffer;

  constructor(readonly buffers: SharedJobsBuffers = {
    control: new SharedArrayBuffer(CONTROL_WORDS * 4), slots: new SharedArrayBuffer(STACK_SLOTS * 4), arena: new SharedArrayBuffer(ARENA_BYTES),
  }) {
    this.control = new Int32Array(buffers.control);
    this.slots = new Int32Array(buffers.slots);
    this.arena = Buffer.from(buffers.arena);
  }

  private lock(): void {
    while (Atomics.compareExchange(this.control, LOCK, 0, 1) !== 0) Atomics.wait(this.control, LOCK, 1, 1);
  }

  private unlock(): void {
    Atomics.store(this.control, LOCK, 0);
    Atomics.notify(this.control, LOCK, 1);
  }

  private wake(): void {
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
  }

  /** Threads that joined (final once the checkout has ended). */
  get members(): number { return Atomics.load(this.control, MEMBERS); }

  /** Another thread is waiting for work. */
  get hungry(): boolean { return Atomics.load(this.control, IDLE) > 0; }
  get aborted(): boolean { return Atomics.load(this.control, ABORT) !== 0; }

  abort(): void {
    Atomics.store(this.control, ABORT, 1);
    Atomics.store(this.control, DONE, 1);
    this.wake();
  }

  /** Join the checkout; false when it has already ended (a late worker). */
  join(): boolean {
    this.lock();
    const open = this.control[DONE] === 0;
    if (open) this.control[MEMBERS]!++;
    this.unlock();
    this.wake();
    return open;
  }

  /** Wait (at most `ms`) until `n` threads wait for work. */
  waitForIdle(n: number, ms: number): void {
    const until = Date.now() + ms;
    for (;;) {
      const seq = Atomics.load(this.control, SEQ);
      if (Atomics.load(this.control, IDLE) >= n || Date.now() >= until) return;
      Atomics.wait(this.control, SEQ, seq, 20);
    }
  }

  /** Push `p`; false when the stack or its arena is full (the caller keeps it). */
  push(p: Pending): boolean {
    const pathBytes = Buffer.byteLength(p.path, 'utf8');
    if (pathBytes > 0xffff || p.depth > 0xffff) return false;
    this.lock();
    try {
      const at = this.control[ARENA]!;
      const count = this.control[COUNT]!;
      if (count >= STACK_SLOTS || at + 68 + pathBytes > this.arena.length) return false;
      this.arena.write(p.tree, at, 'hex');
      this.arena.write(p.meta, at + 32, 'hex');
      this.arena.writeUInt16LE(p.depth, at + 64);
      this.arena.writeUInt16LE(pathBytes, at + 66);
      this.arena.write(p.path, at + 68, 'utf8');
      this.slots[count] = at;
      this.control[ARENA] = at + 68 + pathBytes;
      this.control[COUNT] = count + 1;
    } finally {
      this.unlock();
    }
    this.wake();
    return true;
  }

  /**
   * The next directory to fill: from the stack, else waiting until another thread hands one
   * over; null once every thread is idle with the stack empty (the checkout's end) or aborted.
   */
  take(): Pending | null {
    let idle = false;
    for (;;) {
      const seq = Atomics.load(this.control, SEQ);
      this.lock();
      if (this.control[DONE] !== 0) { this.unlock(); return null; }
      const count = this.control[COUNT]!;
      if (count > 0) {
        const at = this.slots[count - 1]!;
        this.control[COUNT] = count - 1;
        if (idle) this.control[IDLE]!--;
        this.unlock();
        const len = this.arena.readUInt16LE(at + 66);
        return {
          tree: this.arena.toString('hex', at, at + 32), meta: this.arena.toString('hex', at + 32, at + 64),
          depth: this.arena.readUInt16LE(at + 64), path: this.arena.toString('utf8', at + 68, at + 68 + len),
        };
      }
      if (!idle) { this.control[IDLE]!++; idle = true; }
      if (this.control[IDLE] === this.control[MEMBERS]) {
        this.control[DONE] = 1;
        this.unlock();
        this.wake();
        return null;
      }
      this.unlock();
      this.wake(); // (for waitForIdle)
      Atomics.wait(this.control, SEQ, seq, 50);
    }
  }
}
