/**
 * At most `limit` tasks at once, the rest in arrival order; pause() holds new starts (offline),
 * resume() continues, drop() takes a task that has not started out of the line. WeChat refuses
 * more than 10 concurrent requests, so the limit stays below.
 */
function createQueue(limit) {
  const waiting = [];
  let active = 0;
  let paused = false;
  let highWater = 0;

  function pump() {
    while (!paused && active < limit && waiting.length) {
      const job = waiting.shift();
      active += 1;
      highWater = Math.max(highWater, active);
      let started;
      try {
        started = Promise.resolve(job.task());
      } catch (e) {
        started = Promise.reject(e);
      }
      started.then(job.resolve, job.reject).then(() => {
        active -= 1;
        pump();
      });
    }
  }

  return {
    run(task) {
      return new Promise((resolve, reject) => {
        waiting.push({ task, resolve, reject });
        pump();
      });
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      pump();
    },
    /** Takes `task` out of the line: its run() rejects with `reason`. False once it has started. */
    drop(task, reason) {
      const i = waiting.findIndex((job) => job.task === task);
      if (i < 0) return false;
      waiting.splice(i, 1)[0].reject(reason);
      return true;
    },
    stats: () => ({ active, waiting: waiting.length, paused, highWater }),
  };
}

module.exports = { createQueue };
