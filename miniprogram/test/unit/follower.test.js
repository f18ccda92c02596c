/** The pairing follower: long-poll, re-poll, back off, stop on final states, pause offline. Injected timers, no sleeps. */
const { createFollower, isFinal, RETRY_DELAYS_MS, UNCHANGED_PAUSE_MS } = require('../../packageCard/services/follower');
const { createNetwork } = require('../../utils/network');
const { createFakeWx } = require('../support/fake-wx');
const { ApiError } = require('../../utils/errors');

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** setTimeout / clearTimeout on a clock the test moves. */
function manualTimers() {
  let now = 0;
  let seq = 0;
  let queue = [];
  const timers = {
    setTimeout(fn, ms) {
      seq += 1;
      queue.push({ id: seq, at: now + (ms || 0), fn });
      return seq;
    },
    clearTimeout(id) {
      queue = queue.filter((t) => t.id !== id);
    },
    pending: () => queue.map((t) => t.at - now),
    /** Run every timer due within `ms`, in order, letting promises settle after each. */
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        await flush();
        const due = queue.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        queue = queue.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = until;
      await flush();
    },
  };
  return timers;
}

const state = (version, name, extra) => Object.assign({ pairing_id: 'p1', version, state: name }, extra);

function setup(initial) {
  const timers = manualTimers();
  const wx = createFakeWx();
  const network = createNetwork(wx);
  const polls = [];
  const seen = [];
  const errors = [];
  const waiting = [];
  const follower = createFollower({
    poll: (since, wait) => new Promise((resolve, reject) => polls.push({ since, wait, resolve, reject })),
    state: initial === undefined ? state(2, 'scanned') : initial,
    onState: (s) => seen.push(`${s.version}:${s.state}`),
    onError: (e) => errors.push(e.code),
    onWaiting: (reason) => waiting.push(reason),
    network,
    timers,
  });
  return { timers, network, polls, seen, errors, waiting, follower };
}

test('polls with the known version and wait=25; an unchanged answer polls again; a final state stops', async () => {
  const { timers, polls, seen, follower } = setup();
  follower.start();
  await timers.advance(0);
  expect(polls.map((p) => [p.since, p.wait])).toEqual([[2, 25]]);
  polls[0].resolve(state(2, 'scanned')); // the server waited 25 s: nothing new
  await timers.advance(UNCHANGED_PAUSE_MS - 1);
  expect(polls).toHaveLength(1); // a breath first: a server that does not wait cannot make it spin
  await timers.advance(1);
  expect(seen).toEqual([]);
  expect(polls.map((p) => p.since)).toEqual([2, 2]);
  polls[1].resolve(state(3, 'confirmed'));
  await timers.advance(0);
  expect(seen).toEqual(['3:confirmed']);
  expect(polls[2].since).toBe(3);
  polls[2].resolve(state(4, 'done', { result: { message: '已登录' } }));
  await timers.advance(60000);
  expect(seen).toEqual(['3:confirmed', '4:done']);
  expect(polls).toHaveLength(3);
  expect(follower.running()).toBe(false);
  expect(timers.pending()).toEqual([]);
});

test.each(['expired', 'cancelled', 'failed'])('%s is final too', async (name) => {
  const { timers, polls, seen, follower } = setup();
  follower.start();
  await timers.advance(0);
  polls[0].resolve(state(3, name));
  await timers.advance(60000);
  expect(seen).toEqual([`3:${name}`]);
  expect(polls).toHaveLength(1);
  expect(isFinal(follower.state())).toBe(true);
});

test('network failures and 5xx poll again after 1, 2, 4, 8, 8 s; an answer resets the pause', async () => {
  const { timers, polls, waiting, follower } = setup();
  follower.start();
  await timers.advance(0);
  const failures = [
    new ApiError({ code: 'network', retryable: true }),
    new ApiError({ code: 'timeout', retryable: true }),
    new ApiError({ status: 503, code: 'server', retryable: true }),
    new ApiError({ code: 'network', retryable: true }),
    new ApiError({ code: 'network', retryable: true }),
  ];
  const delays = [];
  for (const failure of failures) {
    polls[polls.length - 1].reject(failure);
    await timers.advance(0);
    delays.push(timers.pending()[0]);
    const before = polls.length;
    await timers.advance(delays[delays.length - 1] - 1);
    expect(polls).toHaveLength(before); // not a moment early
    await timers.advance(1);
    expect(polls).toHaveLength(before + 1);
  }
  expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
  expect(RETRY_DELAYS_MS).toEqual([1000, 2000, 4000, 8000]);
  expect(waiting).toEqual(['retry']);
  polls[polls.length - 1].resolve(state(2, 'scanned'));
  await timers.advance(UNCHANGED_PAUSE_MS);
  expect(waiting).toEqual(['retry', null]);
  polls[polls.length - 1].reject(new ApiError({ code: 'network', retryable: true }));
  await timers.advance(0);
  expect(timers.pending()).toEqual([1000]);
});

test('a 4xx answer (pairing gone, not this phone) ends following with onError', async () => {
  const { timers, polls, errors, follower } = setup();
  follower.start();
  await timers.advance(0);
  polls[0].reject(new ApiError({ status: 410, code: 'pairing_invalid', message: '二维码已失效' }));
  await timers.advance(60000);
  expect(errors).toEqual(['pairing_invalid']);
  expect(polls).toHaveLength(1);
  expect(follower.running()).toBe(false);
});

test('offline: nothing is sent, the poll that was out is forgotten; back online it polls at once', async () => {
  const { timers, network, polls, seen, waiting, follower } = setup();
  follower.start();
  await timers.advance(0);
  network.set(false);
  polls[0].resolve(state(3, 'confirmed')); // arrives after the drop: forgotten, asked again later
  await timers.advance(120000);
  expect(seen).toEqual([]);
  expect(polls).toHaveLength(1);
  expect(waiting).toEqual(['offline']);
  network.set(true);
  await timers.advance(0);
  expect(waiting).toEqual(['offline', null]);
  expect(polls).toHaveLength(2);
  expect(polls[1].since).toBe(2);
  polls[1].resolve(state(3, 'confirmed'));
  await timers.advance(0);
  expect(seen).toEqual(['3:confirmed']);
});

test('a failure while the network is gone waits for the network, not for a timer', async () => {
  const { timers, network, polls, waiting, follower } = setup();
  follower.start();
  await timers.advance(0);
  network.set(false);
  network.set(true);
  await timers.advance(0);
  network.set(false);
  polls[1].reject(new ApiError({ code: 'network', retryable: true }));
  await timers.advance(60000);
  expect(polls).toHaveLength(2);
  expect(timers.pending()).toEqual([]);
  network.set(true);
  await timers.advance(0);
  expect(polls).toHaveLength(3);
  expect(waiting).toEqual(['offline', null, 'offline', null]);
});

test('stop (the page unloads): the answer out is dropped, no more polls, the network is not watched', async () => {
  const { timers, network, polls, seen, follower } = setup();
  follower.start();
  await timers.advance(0);
  follower.stop();
  polls[0].resolve(state(3, 'confirmed'));
  network.set(false);
  network.set(true);
  await timers.advance(60000);
  expect(seen).toEqual([]);
  expect(polls).toHaveLength(1);
  follower.start(); // a stopped follower stays stopped
  await timers.advance(0);
  expect(polls).toHaveLength(1);
});

test('accept: the phone\'s own confirm answer moves the version on; older or equal versions are ignored', async () => {
  const { timers, polls, seen, follower } = setup();
  follower.start();
  await timers.advance(0);
  expect(follower.accept(state(3, 'confirmed'))).toBe(true);
  expect(follower.accept(state(3, 'confirmed'))).toBe(false);
  expect(follower.accept(state(1, 'created'))).toBe(false);
  expect(follower.accept({ state: 'done' })).toBe(false); // no version: not a state
  expect(follower.state().state).toBe('confirmed');
  await timers.advance(0);
  expect(polls.map((p) => p.since)).toEqual([2, 3]); // asks again since the new version at once
  polls[0].resolve(state(3, 'confirmed')); // the long-poll of before the confirm: forgotten
  await timers.advance(60000);
  expect(seen).toEqual(['3:confirmed']);
  expect(polls).toHaveLength(2);
  follower.accept(state(4, 'cancelled'));
  expect(follower.running()).toBe(false);
});

test('a final state is taken even without a newer version (nothing to follow after it)', async () => {
  const { timers, polls, seen, follower } = setup();
  follower.start();
  await timers.advance(0);
  polls[0].resolve(state(2, 'expired'));
  await timers.advance(60000);
  expect(seen).toEqual(['2:expired']);
  expect(polls).toHaveLength(1);
});

test('a state that is already final is not followed', async () => {
  const { timers, polls, follower } = setup(state(5, 'expired'));
  follower.start();
  await timers.advance(60000);
  expect(polls).toHaveLength(0);
});
