// Serialises async critical sections per key (a user, one user's account data type, a media
// hash …). One implementation for the project: the e2ee package's, which the homeserver uses.
export { KeyedLock } from '@parley/e2ee/keyedLock';
