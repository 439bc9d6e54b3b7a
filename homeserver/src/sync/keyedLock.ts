// Moved to util/keyedLock.ts; kept while federation/serve/remoteDeviceLists.ts still imports it here.
export { KeyedLock } from '../util/keyedLock.js';
