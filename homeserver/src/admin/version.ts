// Parley's version, as the admin API reports it (kept in step with homeserver/package.json).
export const PARLEY_VERSION = '0.1.0';
