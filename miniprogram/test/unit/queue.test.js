const { createQueue } = require('../../utils/queue');

function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

test('runs at most `limit` tasks, in arrival order, and passes results and errors through', async () => {
  const queue = createQueue(2);
  const gates = [deferred(), deferred(), deferred()];
  const started = [];
  const runs = gates.map((g, i) =>
    queue.run(() => {
      started.push(i);
      return g.promise.then(() => {
        if (i === 1) throw new Error('boom');
        return i;
      });
    })
  );
  await Promise.resolve();
  expect(started).toEqual([0, 1]);
  gates[0].resolve();
  await expect(runs[0]).resolves.toBe(0);
  await Promise.resolve();
  expect(started).toEqual([0, 1, 2]);
  gates[1].resolve();
  gates[2].resolve();
  await expect(runs[1]).rejects.toThrow('boom');
  await expect(runs[2]).resolves.toBe(2);
  expect(queue.stats()).toMatchObject({ active: 0, waiting: 0, highWater: 2 });
});

test('pause holds new starts; resume continues', async () => {
  const queue = createQueue(5);
  queue.pause();
  const task = jest.fn(() => 'done');
  const run = queue.run(task);
  await Promise.resolve();
  expect(task).not.toHaveBeenCalled();
  expect(queue.stats()).toMatchObject({ waiting: 1, paused: true });
  queue.resume();
  await expect(run).resolves.toBe('done');
});

test('a task that throws synchronously rejects its run and frees its slot', async () => {
  const queue = createQueue(1);
  await expect(
    queue.run(() => {
      throw new Error('sync');
    })
  ).rejects.toThrow('sync');
  await expect(queue.run(() => 1)).resolves.toBe(1);
});

test('drop takes a task that has not started out of the line; a started one stays', async () => {
  const queue = createQueue(1);
  const gate = deferred();
  const first = () => gate.promise;
  const second = jest.fn(() => 2);
  const running = queue.run(first);
  const waiting = queue.run(second);
  expect(queue.drop(first, new Error('late'))).toBe(false);
  expect(queue.drop(second, new Error('offline'))).toBe(true);
  await expect(waiting).rejects.toThrow('offline');
  expect(queue.stats()).toMatchObject({ active: 1, waiting: 0 });
  gate.resolve(1);
  await expect(running).resolves.toBe(1);
  expect(second).not.toHaveBeenCalled();
});
