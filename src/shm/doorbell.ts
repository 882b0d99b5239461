/**
 * Doorbells: how one core wakes another that has parked (the emulated IPI). Each core has one
 * Int32 word on its own cache line. The sleeper parks *on that word itself*: it moves it
 * AWAKE→PARKED with a CAS, re-checks its queues, then `Atomics.wait`s while the word is PARKED.
 * A waker, after publishing work, moves PARKED→RUNG and notifies. Because the sleeper re-checks
 * its queues after announcing PARKED, and the waker checks the word after publishing, one of the
 * two always sees the other (both are sequentially consistent atomics): no lost wake-ups.
 * Sleeping on a separate index while a waker clears a flag elsewhere does lose them.
 */

export const DOORBELL_AWAKE = 0;
export const DOORBELL_PARKED = 1;
export const DOORBELL_RUNG = 2;

/** Int32 stride between cores' doorbell words: one cache line each. */
export const DOORBELL_STRIDE = 16;

/** What a doorbell needs of virtual time (src/cpu/vsync.ts): this worker's clock and the bounds. */
export interface VirtualRing {
  /** Lowers `w`'s bound to `t`; returns whether `w` should be woken now (`VSync.lowerDue`). */
  lowerDue(w: number, t: number): boolean;
}

export class Doorbells {
  /** Notifications this thread sent that woke a parked core (a wake-up IPI). */
  wakeups = 0;
  private vsync: VirtualRing | null = null;
  private vclock: { t: number } | null = null;
  private awakeWords: Int32Array | null = null;
  private awakeIndex = 0;

  /**
   * Virtual time: every ring first lowers the target's bound to this worker's clock (callers ring
   * after publishing a stamped item, whose stamp is never earlier), so the cluster's minimum
   * cannot pass an item in flight.
   */
  attachVirtual(vclock: { t: number }, vsync: VirtualRing): void {
    this.vclock = vclock;
    this.vsync = vsync;
  }

  /**
   * Virtual time: a successful wake-up adds 1 to the count of awake workers at `words[index]` on
   * the sleeper's behalf, so the workers still spinning see at once that the woken one needs a
   * CPU (and park) instead of counting it only once the host has scheduled it. The sleeper then
   * must not count itself again: `sleep` and `cancelPark` say whether it was rung.
   */
  attachAwakeCount(words: Int32Array, index: number): void {
    this.awakeWords = words;
    this.awakeIndex = index;
  }

  constructor(readonly words: Int32Array, readonly numCores: number) {
    if (words.length < numCores * DOORBELL_STRIDE) {
      throw new Error(`doorbells: need ${numCores * DOORBELL_STRIDE} words, got ${words.length}`);
    }
  }

  static wordsFor(numCores: number): number {
    return numCores * DOORBELL_STRIDE;
  }

  /**
   * Announces that `core` is about to park. Returns false if the doorbell was rung meanwhile
   * (the caller must then poll again instead of sleeping). After a true return the caller
   * must re-check its queues, then call `sleep` (or `cancelPark` if it found work).
   */
  preparePark(core: number): boolean {
    const i = core * DOORBELL_STRIDE;
    const prev = Atomics.compareExchange(this.words, i, DOORBELL_AWAKE, DOORBELL_PARKED);
    if (prev === DOORBELL_AWAKE) return true;
    Atomics.store(this.words, i, DOORBELL_AWAKE); // it was RUNG: consume the ring
    return false;
  }

  /** Sleeps while the word is PARKED, at most `timeoutMs`. Returns true if woken by a ring. */
  sleep(core: number, timeoutMs: number): boolean {
    const i = core * DOORBELL_STRIDE;
    const r = Atomics.wait(this.words, i, DOORBELL_PARKED, timeoutMs);
    const rung = Atomics.exchange(this.words, i, DOORBELL_AWAKE) === DOORBELL_RUNG;
    return rung || r === 'not-equal';
  }

  /** The caller found work after preparePark: back to AWAKE without sleeping. Returns true if it was rung meanwhile. */
  cancelPark(core: number): boolean {
    return Atomics.exchange(this.words, core * DOORBELL_STRIDE, DOORBELL_AWAKE) === DOORBELL_RUNG;
  }

  /**
   * Wakes `core` if it is parked (cheap when it is not: one atomic load). Virtual time: not
   * while `core` could not run anything yet (it is rung when it holds the minimum).
   */
  ring(core: number): void {
    if (this.vsync !== null && !this.vsync.lowerDue(core, this.vclock!.t)) return;
    this.wake(core);
  }

  /** Virtual time: `ring` for an item stamped `t` (a worker whose clock may be past the stamp: the fabric). */
  ringAt(core: number, t: number): void {
    if (this.vsync !== null && !this.vsync.lowerDue(core, t)) return;
    this.wake(core);
  }

  /** Wakes `core` if it is parked, lowering nothing (virtual time: "your turn may have come"). */
  wake(core: number): void {
    const i = core * DOORBELL_STRIDE;
    if (Atomics.load(this.words, i) !== DOORBELL_PARKED) return;
    if (Atomics.compareExchange(this.words, i, DOORBELL_PARKED, DOORBELL_RUNG) === DOORBELL_PARKED) {
      if (this.awakeWords !== null) Atomics.add(this.awakeWords, this.awakeIndex, 1);
      Atomics.notify(this.words, i, 1);
      this.wakeups++;
    }
  }

  isParked(core: number): boolean {
    return Atomics.load(this.words, core * DOORBELL_STRIDE) === DOORBELL_PARKED;
  }
}
