/**
 * Following a pairing from the phone (docs/card-protocol.md, C3): long-poll
 * `GET /api/pairings/<id>/phone-events?since=<version>&wait=25` again and again until the pairing
 * reaches a final state (done, expired, cancelled, failed) or the page goes away.
 *
 * - An answer with a newer version is passed to onState; an unchanged one (the server waited
 *   `wait` seconds) polls again after half a second.
 * - A network failure, a timeout or a 5xx polls again after a growing pause (1, 2, 4, 8 s).
 * - While the phone is offline nothing is sent; when the network returns, polling resumes at once
 *   (a poll still out when the network dropped is forgotten).
 * - A 4xx answer (the pairing is gone, 410; not this phone's, 403) ends following: onError.
 *
 * Time is injected (timers: { setTimeout, clearTimeout }) so tests run without real sleeps.
 */
const FINAL_STATES = ['done', 'expired', 'cancelled', 'failed'];
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];
const WAIT_SECONDS = 25;
// After an unchanged answer: a breath before the next poll, so a server that answers at once
// (instead of waiting) cannot make the phone poll in a tight loop.
const UNCHANGED_PAUSE_MS = 500;

function isFinal(state) {
  return !!state && FINAL_STATES.indexOf(state.state) >= 0;
}

/** An answer that polling again cannot change. */
function isEnding(error) {
  return !!error && error.status >= 400 && !error.retryable;
}

/**
 * options: poll (since, wait) => Promise<state>; state (the state known so far, e.g. from the
 * scan); onState(state); onError(error); onWaiting('offline' | 'retry' | null); network
 * (utils/network: isOnline, onChange); timers; wait (seconds, default 25).
 */
function createFollower(options) {
  const poll = options.poll;
  const onState = options.onState || (() => {});
  const onError = options.onError || (() => {});
  const onWaiting = options.onWaiting || (() => {});
  const network = options.network || null;
  const timers = options.timers || { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) };
  const wait = options.wait === undefined ? WAIT_SECONDS : options.wait;

  let current = options.state || null;
  let started = false;
  let stopped = false;
  let timer = null;
  let failures = 0;
  let waiting = null; // what onWaiting was last told
  let generation = 0; // a poll whose generation is not the latest is forgotten
  let offNetwork = null;

  function tell(reason) {
    if (reason === waiting) return;
    waiting = reason;
    onWaiting(reason);
  }

  function clearTimer() {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  }

  function schedule(ms) {
    clearTimer();
    timer = timers.setTimeout(() => {
      timer = null;
      pollOnce();
    }, ms);
  }

  function stop() {
    if (stopped) return;
    stopped = true;
    generation += 1;
    clearTimer();
    if (offNetwork) offNetwork();
    offNetwork = null;
  }

  /** Take a state from the long-poll (true when it is news). */
  function accept(state) {
    if (!state || typeof state.version !== 'number') return false;
    const news = !current || state.version > current.version || (isFinal(state) && !isFinal(current));
    if (!news) return false;
    current = state;
    onState(state);
    if (isFinal(state)) stop();
    return true;
  }

  async function pollOnce() {
    if (stopped) return;
    if (network && !network.isOnline()) {
      tell('offline');
      return;
    }
    generation += 1;
    const mine = generation;
    let next;
    try {
      next = await poll(current ? current.version : 0, wait);
    } catch (error) {
      if (stopped || mine !== generation) return;
      if (isEnding(error)) {
        stop();
        onError(error);
        return;
      }
      failures += 1;
      if (network && !network.isOnline()) {
        tell('offline');
        return;
      }
      tell('retry');
      schedule(RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length) - 1]);
      return;
    }
    if (stopped || mine !== generation) return;
    failures = 0;
    tell(null);
    const changed = accept(next);
    if (!stopped) schedule(changed ? 0 : UNCHANGED_PAUSE_MS);
  }

  function onNetwork(online) {
    if (stopped || !started) return;
    if (!online) {
      generation += 1; // the poll out now will fail or hang: forget it
      clearTimer();
      tell('offline');
      return;
    }
    tell(null);
    failures = 0;
    schedule(0);
  }

  return {
    /** Start polling (once); a final state known already means there is nothing to follow. */
    start() {
      if (started || stopped) return;
      started = true;
      if (isFinal(current)) {
        stop();
        return;
      }
      if (network) offNetwork = network.onChange(onNetwork);
      schedule(0);
    },
    stop,
    /**
     * The phone's own confirm / cancel answer: taken like a polled state, and the poll out now
     * (asking since the older version) is replaced by one that asks since the new one.
     */
    accept(state) {
      const changed = accept(state);
      if (changed && started && !stopped && waiting !== 'offline') {
        generation += 1;
        schedule(0);
      }
      return changed;
    },
    state: () => current,
    running: () => started && !stopped,
  };
}

module.exports = { createFollower, isFinal, isEnding, FINAL_STATES, RETRY_DELAYS_MS, WAIT_SECONDS, UNCHANGED_PAUSE_MS };
