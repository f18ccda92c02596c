/**
 * Synchronous storage over wx.*StorageSync that never throws: a full or broken storage must not
 * break the screen (the cache and the history are conveniences, not the truth).
 */
function createStorage(api) {
  const wxApi = api || wx;
  return {
    get(key, fallback) {
      try {
        const value = wxApi.getStorageSync(key);
        return value === '' || value === undefined || value === null ? fallback : value;
      } catch (e) {
        return fallback;
      }
    },
    set(key, value) {
      try {
        wxApi.setStorageSync(key, value);
        return true;
      } catch (e) {
        return false;
      }
    },
    remove(key) {
      try {
        wxApi.removeStorageSync(key);
      } catch (e) {
        // nothing to do
      }
    },
    /** Every key in storage ([] when the API cannot tell). */
    keys() {
      try {
        const info = wxApi.getStorageInfoSync();
        return info && Array.isArray(info.keys) ? info.keys : [];
      } catch (e) {
        return [];
      }
    },
  };
}

let shared = null;
function defaultStorage() {
  if (!shared) shared = createStorage();
  return shared;
}

module.exports = { createStorage, defaultStorage };
