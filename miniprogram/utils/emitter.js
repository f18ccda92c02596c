/** A tiny event emitter: on() returns the function that removes the listener. */
function createEmitter() {
  const listeners = {};
  return {
    on(name, fn) {
      (listeners[name] = listeners[name] || []).push(fn);
      return () => {
        listeners[name] = (listeners[name] || []).filter((f) => f !== fn);
      };
    },
    emit(name, payload) {
      (listeners[name] || []).slice().forEach((fn) => fn(payload));
    },
  };
}

module.exports = { createEmitter };
